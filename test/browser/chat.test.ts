// The chat page of `wsx serve` in a real browser: Chromium (Debian's, driven by playwright-core)
// opens it twice, both join a room, and what one types appears in the other.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe } from 'node:test';
import { artifacts, browser, joinRoom, launch, serve, stop } from './chat-page.js';

describe('the chat page in Chromium', { timeout: 60_000 }, () => {
  browser.it('shows what one page sends in the other, with presence', async () => {
    const { child, port } = await serve();
    const { context, close } = await launch();
    try {
      const url = `http://127.0.0.1:${port}/`;
      const alice = await context.newPage();
      const bob = await context.newPage();
      const errors: string[] = [];
      for (const page of [alice, bob]) page.on('pageerror', (error) => errors.push(error.message));

      await joinRoom(alice, url, 'alice');
      await joinRoom(bob, url, 'bob');
      for (const page of [alice, bob]) {
        await page.locator('#count', { hasText: '2' }).waitFor();
        assert.deepEqual(await page.locator('#members li').allTextContents(), ['alice', 'bob']);
      }
      await alice.locator('#log', { hasText: 'bob joined.' }).waitFor();

      await alice.fill('#text', 'hello from alice');
      await alice.press('#text', 'Enter');
      await bob.locator('#log .message', { hasText: 'hello from alice' }).waitFor();
      assert.equal(await bob.locator('#log .message .from').last().textContent(), 'alice');
      await alice.locator('#log .mine', { hasText: 'hello from alice' }).waitFor();

      await bob.fill('#text', 'hi alice, ça va? <b>not bold</b>');
      await bob.click('#send');
      await alice.locator('#log .message', { hasText: 'hi alice, ça va? <b>not bold</b>' }).waitFor();
      assert.equal(await alice.locator('#log b').count(), 0, 'messages are shown as text');

      const response = await fetch(`${url}publish/lobby`, { method: 'POST', body: 'deploy finished' });
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { topic: 'lobby', delivered: 2 });
      for (const page of [alice, bob]) await page.locator('#log', { hasText: 'deploy finished' }).waitFor();

      mkdirSync(artifacts, { recursive: true });
      await alice.screenshot({ path: join(artifacts, 'chat-alice.png') });
      await bob.screenshot({ path: join(artifacts, 'chat-bob.png') });

      await bob.close();
      await alice.locator('#log', { hasText: 'bob left.' }).waitFor();
      await alice.locator('#count', { hasText: '1' }).waitFor();
      assert.deepEqual(errors, []);
    } finally {
      await close();
      await stop(child);
    }
  });
});
