// What the browser tests share: Debian's Chromium (driven by playwright-core), a `wsx serve`
// to open the chat page on, and joining a room on that page.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { listeningUrl, NODE, portOf, WSX_CLI } from '../shared/cli.js';
import { Peer } from '../shared/peer.js';

const CHROMIUM = process.env.WSX_CHROMIUM ?? '/usr/bin/chromium';
export const artifacts = new URL('../../../test-artifacts/', import.meta.url).pathname;
export const browser = new Peer(
  'chromium',
  existsSync(CHROMIUM),
  'apt-get install chromium, or WSX_CHROMIUM=path',
);

export async function serve(...args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(NODE, [WSX_CLI, 'serve', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = portOf(await listeningUrl(child, 20_000));
  return { child, port };
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

export async function joinRoom(page: Page, url: string, name: string): Promise<void> {
  await page.goto(url);
  await page.fill('#name', name);
  await page.fill('#room', 'lobby');
  await page.click('#join');
  await page.locator('#text:not([disabled])').waitFor();
}

/**
 * Chromium in a fresh profile, with the flags this machine needs (no sandbox as root, no
 * background networking: outside connections are refused here). `close` also removes the profile.
 */
export async function launch(
  extraArgs: readonly string[] = [],
): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
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
      ...extraArgs,
    ],
    viewport: { width: 960, height: 640 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Alice types `there` (sent with Enter), Bob sees it from her and answers `back` (sent with the
 * button), then a POST to `publishBase`/publish/lobby reaches both pages.
 */
export async function talkBothWays(
  alice: { page: Page; name: string },
  bob: { page: Page },
  words: { there: string; back: string },
  publishBase: string,
): Promise<void> {
  await alice.page.fill('#text', words.there);
  await alice.page.press('#text', 'Enter');
  await bob.page.locator('#log .message', { hasText: words.there }).waitFor();
  assert.equal(await bob.page.locator('#log .message .from').last().textContent(), alice.name);

  await bob.page.fill('#text', words.back);
  await bob.page.click('#send');
  await alice.page.locator('#log .message', { hasText: words.back }).waitFor();

  const response = await fetch(`${publishBase}publish/lobby`, { method: 'POST', body: 'deploy finished' });
  assert.equal(response.status, 200);
  for (const page of [alice.page, bob.page])
    await page.locator('#log', { hasText: 'deploy finished' }).waitFor();
}
