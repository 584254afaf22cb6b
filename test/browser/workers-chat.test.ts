// `wsx serve --workers 2`, no Redis: Chromium opens the chat page until two pages sit on
// different workers (each page shows its worker), and what one types appears on the other,
// through the primary.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { artifacts, browser, joinRoom, launch, serve, stop, talkBothWays } from './chat-page.js';

/** Enough pages that two land on different workers whatever the kernel's balancing does. */
const MAX_PAGES = 12;

async function workerOf(page: Page): Promise<number> {
  const status = (await page.locator('#status.online').textContent()) ?? '';
  const match = /\(worker (\d+), pid (\d+)\)/.exec(status);
  assert.ok(match, `the page shows its worker: ${JSON.stringify(status)}`);
  return Number(match[1]);
}

describe('the chat page in Chromium, across the workers of one wsx serve', { timeout: 90_000 }, () => {
  it('carries messages from a page on one worker to a page on another', { skip: browser.skip }, async () => {
    const { child, port } = await serve('--workers', '2');
    const { context, close } = await launch();
    try {
      const url = `http://127.0.0.1:${port}/`;
      const errors: string[] = [];
      const byWorker = new Map<number, { page: Page; name: string }>();
      for (let i = 0; i < MAX_PAGES && byWorker.size < 2; i++) {
        const page = await context.newPage();
        page.on('pageerror', (error) => errors.push(error.message));
        const name = `user${i}`;
        await joinRoom(page, url, name);
        const worker = await workerOf(page);
        if (!byWorker.has(worker)) byWorker.set(worker, { page, name });
      }
      assert.equal(byWorker.size, 2, `${MAX_PAGES} pages all landed on one worker`);
      const [first, second] = [...byWorker.values()];
      const { page: alice, name: aliceName } = first!;
      const { page: bob, name: bobName } = second!;

      // The other worker's presence crossed the primary: the topic is joined across workers.
      await alice.locator('#log', { hasText: `${bobName} joined.` }).waitFor();

      // The HTTP publish lands on one worker and reaches the pages on both.
      await talkBothWays(
        { page: alice, name: aliceName },
        { page: bob },
        { there: 'hello from one worker', back: 'and back from the other' },
        url,
      );

      mkdirSync(artifacts, { recursive: true });
      await alice.screenshot({ path: join(artifacts, 'workers-alice.png') });
      await bob.screenshot({ path: join(artifacts, 'workers-bob.png') });
      assert.deepEqual(errors, []);
    } finally {
      await close();
      await stop(child);
    }
  });
});
