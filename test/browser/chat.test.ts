// The chat page of `wsx serve` in a real browser: Chromium (Debian's, driven by playwright-core)
// opens it twice, both join a room, and what one types appears in the other.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'node:test';
import { chromium, type Page } from 'playwright-core';
import { listeningUrl, NODE, portOf, WSX_CLI } from '../shared/cli.js';
import { Peer } from '../shared/peer.js';

const CHROMIUM = process.env.WSX_CHROMIUM ?? '/usr/bin/chromium';
const artifacts = new URL('../../../test-artifacts/', import.meta.url).pathname;

async function serve(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(NODE, [WSX_CLI, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = portOf(await listeningUrl(child, 20_000));
  return { child, port };
}

async function joinRoom(page: Page, url: string, name: string): Promise<void> {
  await page.goto(url);
  await page.fill('#name', name);
  await page.fill('#room', 'lobby');
  await page.click('#join');
  await page.locator('#text:not([disabled])').waitFor();
}

const browser = new Peer('chromium', existsSync(CHROMIUM), `apt-get install chromium, or WSX_CHROMIUM=path`);

describe('the chat page in Chromium', { timeout: 60_000 }, () => {
  browser.it('shows what one page sends in the other, with presence', async () => {
    const { child, port } = await serve();
    const profile = mkdtempSync(join(tmpdir(), 'wsx-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 960, height: 640 },
    });
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
      await context.close();
      rmSync(profile, { recursive: true, force: true });
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
});
