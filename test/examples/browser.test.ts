// examples/browser-client in Chromium: the example serves its page, two pages connect with the
// browser's WebSocket, see each other counted, get answers, and see the server's 1001 when the
// example is stopped with SIGTERM (which prints its shutdown report and exits 0).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe } from 'node:test';
import { artifacts, browser, launch } from '../browser/chat-page.js';
import { printed, startExample } from './run.js';

describe('examples/browser-client in Chromium', { timeout: 120_000 }, () => {
  browser.it(
    'serves a page whose WebSocket talks to the server, and closes it with 1001 on SIGTERM',
    async () => {
      const run = startExample('browser-client', ['--port', '0']);
      const { context, close } = await launch();
      try {
        const [, url] = await printed(run, /^open (http:\/\/\S+) in a browser/);
        const first = await context.newPage();
        const second = await context.newPage();
        const errors: string[] = [];
        for (const page of [first, second]) page.on('pageerror', (error) => errors.push(error.message));

        await first.goto(url);
        await first.locator('#status', { hasText: 'open' }).waitFor();
        await second.goto(url);
        for (const page of [first, second]) await page.locator('#pages', { hasText: '2' }).waitFor();

        await first.fill('#text', 'hello from Chromium <b>not bold</b>');
        await first.press('#text', 'Enter');
        await first
          .locator('#log li', { hasText: 'you said: hello from Chromium <b>not bold</b>' })
          .waitFor();
        assert.equal(await first.locator('#log b').count(), 0, 'replies are shown as text');
        assert.equal(await second.locator('#log li').count(), 0, 'a reply goes to its sender only');

        await second.close();
        await first.locator('#pages', { hasText: '1' }).waitFor();
        mkdirSync(artifacts, { recursive: true });
        await first.screenshot({ path: join(artifacts, 'example-browser-client.png') });

        // A page of another origin (here an opaque one) is refused by the upgrade hook: 403, so close 1006.
        const other = await context.newPage();
        await other.goto('about:blank');
        const refused = await other.evaluate(
          (target) =>
            new Promise<number>((resolve) => {
              const socket = new WebSocket(target);
              socket.onclose = (event) => resolve(event.code);
            }),
          url.replace('http://', 'ws://').concat('ws'),
        );
        assert.equal(refused, 1006);
        await other.close();

        run.child.kill('SIGTERM');
        await first.locator('#status', { hasText: 'closed (1001' }).waitFor();
        assert.equal(await run.exit(), 0, run.err());
        assert.match(run.out(), /^stopped: 1 page\(s\) closed cleanly, 0 terminated$/m);
        assert.deepEqual(errors, []);
        assert.equal(run.err(), '', 'nothing went wrong on the server');
      } finally {
        await close();
        if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
      }
    },
  );
});
