// The dashboard of `wsx serve` in Chromium: traffic from wsx clients and a POST /publish shows
// on the page, and once the traffic stops the page's numbers are those of /stats; a heartbeat
// timeout turns the page red; with --workers the page says which worker it shows; with --redis it
// shows the link going down and coming back.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { WebSocket } from '../../src/index.js';
import { RedisServer, redisSkip } from '../redis/redis-server.js';
import { RawClient } from '../server/helpers.js';
import { sleep, until } from '../shared/wait.js';
import { artifacts, browser, launch, serve, stop } from './chat-page.js';

type Json = Record<string, unknown>;

/** A wsx client on `/chat`, keeping every JSON message it receives. */
async function chatClient(port: number, name: string): Promise<{ ws: WebSocket; received: Json[] }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/chat?name=${name}`);
  const received: Json[] = [];
  ws.onmessage = (event) => received.push(JSON.parse(String(event.data)) as Json);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  return { ws, received };
}

async function statsOf(port: number): Promise<Json & { uptime: number }> {
  return (await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as Json & { uptime: number };
}

/** `/stats` once `test` holds of it (polled; bounded). */
async function statsWhen(
  port: number,
  what: string,
  test: (stats: Json) => boolean,
): Promise<Json & { uptime: number }> {
  for (let i = 0; i < 400; i++) {
    const stats = await statsOf(port);
    if (test(stats)) return stats;
    await sleep(25);
  }
  throw new Error(`/stats never showed ${what}`);
}

/** A number as the page shows it (`1,234`). */
async function shown(page: Page, selector: string): Promise<number> {
  const text = (await page.locator(selector).first().textContent()) ?? '';
  const match = /^[\d,]+/.exec(text.trim());
  assert.ok(match, `${selector} shows a number: ${JSON.stringify(text)}`);
  return Number(match[0].replaceAll(',', ''));
}

/** Waits until the page shows a snapshot the server took after `uptime`. */
async function snapshotAfter(page: Page, uptime: number): Promise<void> {
  // Polled from here: the page's policy forbids the eval() that waitForFunction('…') needs.
  for (let i = 0; i < 400; i++) {
    if (Number(await page.getAttribute('body', 'data-uptime')) > uptime) return;
    await sleep(25);
  }
  throw new Error(`the page never showed a snapshot taken after ${uptime} s`);
}

/** Opens the dashboard and collects what would say the page is broken: errors, blocked content. */
async function openDashboard(page: Page, port: number): Promise<string[]> {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) problems.push(message.text());
  });
  await page.goto(`http://127.0.0.1:${port}/dashboard`);
  await page.locator('#feed.live').waitFor();
  await page.locator('body[data-uptime]').waitFor({ state: 'attached' });
  return problems;
}

describe('the dashboard in Chromium', { timeout: 90_000 }, () => {
  browser.it('shows the traffic, and the numbers of /stats once it stops', async () => {
    const { child, port } = await serve();
    const { context, close } = await launch();
    const clients: WebSocket[] = [];
    try {
      const page = await context.newPage();
      const problems = await openDashboard(page, port);

      // Three chat clients on one topic, each publishing five messages; an echo client; a POST.
      const chats = [];
      for (const name of ['ann', 'bob', 'cy']) {
        const chat = await chatClient(port, name);
        clients.push(chat.ws);
        chats.push(chat);
        chat.ws.send(JSON.stringify({ type: 'subscribe', topic: 'news' }));
        await until(10_000, `${name} to subscribe`, () => chat.received.some((m) => m.type === 'subscribed'));
      }
      for (const { ws } of chats) {
        for (let i = 0; i < 5; i++) ws.send(JSON.stringify({ type: 'publish', topic: 'news', data: i }));
      }
      const echo = new WebSocket(`ws://127.0.0.1:${port}/echo`);
      clients.push(echo);
      let echoes = 0;
      echo.onmessage = () => echoes++;
      await new Promise((resolve) => {
        echo.onopen = resolve;
      });
      for (let i = 0; i < 10; i++) echo.send(`ping ${i}`);
      const response = await fetch(`http://127.0.0.1:${port}/publish/news`, {
        method: 'POST',
        body: 'hi all',
      });
      assert.equal(response.status, 200);
      const messagesOf = (received: Json[]) => received.filter((m) => m.type === 'message').length;
      for (const { received } of chats) {
        await until(10_000, 'every publish to arrive', () => messagesOf(received) === 16);
      }
      await until(10_000, 'every echo', () => echoes === 10);
      // One chat client leaves with 1000: the closes table shows it.
      chats[2]!.ws.close(1000);
      const stats = await statsWhen(port, 'the close', (s) => (s.closes as Json)['1000'] === 1);
      assert.deepEqual(stats.closes, { '1000': 1 });

      // The traffic has stopped (the dashboard's own pushes aside): a snapshot taken after this
      // /stats must show the same numbers.
      const messages = stats.messages as { in: number };
      // 3 subscribes + 15 publishes from the chat clients, 10 from the echo client.
      assert.equal(messages.in, 28);
      await snapshotAfter(page, stats.uptime);
      const connections = stats.connections as { open: number; accepted: number };
      const topics = stats.topics as { count: number; subscriptions: number; published: number };
      const onPage = {
        open: await shown(page, '#connections .value'),
        accepted: await shown(page, '#connections-accepted'),
        messagesIn: await shown(page, '#messages-in-total'),
        topics: await shown(page, '#topics .value'),
        subscriptions: await shown(page, '#topics-subscriptions'),
        published: await shown(page, '#topics-published'),
        closed1000: await shown(page, '#close-1000 td:last-child'),
        dropped: await shown(page, '#dropped .value'),
      };
      const expected = {
        open: connections.open,
        accepted: connections.accepted,
        messagesIn: messages.in,
        topics: topics.count,
        subscriptions: topics.subscriptions,
        published: topics.published,
        closed1000: 1,
        dropped: 0,
      };
      assert.deepEqual(onPage, expected);
      // The dashboard is a connection too: 2 chat clients, the echo client and itself.
      assert.equal(connections.open, 4);
      assert.equal(topics.subscriptions, 2);
      assert.equal(await shown(page, '#connections-dashboards'), 1);
      // These did not move meanwhile (the dashboard sends nothing): the same moment.
      const later = await statsOf(port);
      assert.deepEqual(
        [later.connections, (later.messages as Json).in, later.topics, later.closes],
        [stats.connections, messages.in, stats.topics, stats.closes],
      );
      // Nothing bad happened: no red tile, and the alert box says so.
      assert.equal(await page.locator('.tile.bad').count(), 0);
      await page.locator('#alerts.ok', { hasText: 'Nothing wrong' }).waitFor();
      await page.locator('#messages-in .value', { hasText: '/s' }).waitFor();

      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, 'dashboard.png'), fullPage: true });
      // A phone's width: everything fits without scrolling sideways.
      await page.setViewportSize({ width: 390, height: 844 });
      assert.ok(
        await page.locator('html').evaluate((root) => root.scrollWidth <= root.clientWidth),
        'no horizontal scrolling at 390 px',
      );
      await page.screenshot({ path: join(artifacts, 'dashboard-narrow.png'), fullPage: true });
      assert.deepEqual(problems, []);
    } finally {
      for (const ws of clients) ws.close();
      await close();
      await stop(child);
    }
  });

  browser.it('turns red when a peer stops answering heartbeats', async () => {
    const { child, port } = await serve('--heartbeat-interval', '200', '--heartbeat-timeout', '200');
    const { context, close } = await launch();
    try {
      const page = await context.newPage();
      const problems = await openDashboard(page, port);
      const dead = await RawClient.open(port, '/chat');
      dead.answerPings = false;
      await page.locator('#heartbeat.bad').waitFor();
      await page.locator('#alerts.bad', { hasText: 'Heartbeat timeouts: 1' }).waitFor();
      await page.locator('#close-1006.bad').waitFor();
      const stats = await statsOf(port);
      await snapshotAfter(page, stats.uptime);
      assert.equal(await shown(page, '#heartbeat-since-start'), (stats.heartbeats as Json).timeouts);
      assert.equal(await shown(page, '#heartbeat .value'), 1);
      // The browser answers its pings: only the silent peer timed out.
      assert.equal((stats.heartbeats as Json).timeouts, 1);
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, 'dashboard-heartbeat-timeout.png'), fullPage: true });
      assert.deepEqual(problems, []);
    } finally {
      await close();
      await stop(child);
    }
  });

  browser.it('says which worker it shows with --workers', async () => {
    const { child, port } = await serve('--workers', '2');
    const { context, close } = await launch();
    try {
      const page = await context.newPage();
      const problems = await openDashboard(page, port);
      const who = (await page.locator('#who').textContent()) ?? '';
      const match = /^worker (\d+) · pid (\d+)/.exec(who);
      assert.ok(match, `the page names its worker: ${JSON.stringify(who)}`);
      assert.notEqual(Number(match[2]), child.pid, 'a worker, not the primary');
      assert.deepEqual(problems, []);
    } finally {
      await close();
      await stop(child);
    }
  });
});

/** Both peers are needed; under CI both are installed, so nothing is skipped there. */
const redisAndBrowserSkip = redisSkip !== false ? redisSkip : browser.skip;

describe('the dashboard in Chromium, with Redis', { timeout: 90_000 }, () => {
  it('shows the Redis link go down in red and come back', { skip: redisAndBrowserSkip }, async () => {
    const redis = await RedisServer.start();
    const { child, port } = await serve('--redis', redis.url);
    const { context, close } = await launch();
    try {
      const page = await context.newPage();
      const problems = await openDashboard(page, port);
      await page.locator('#adapter-kind', { hasText: 'redis' }).waitFor();
      await page.locator('#adapter-link:not(.bad)', { hasText: 'link up' }).waitFor();

      await redis.stop();
      await page.locator('#adapter-link.bad', { hasText: 'link down' }).waitFor();
      await page.locator('#alerts.bad', { hasText: 'The redis link is down' }).waitFor();
      await page.locator('#adapter-linkUp.bad').waitFor();
      const stats = await statsWhen(port, 'the link down', (s) => (s.adapter as Json).linkUp === false);
      await snapshotAfter(page, stats.uptime);
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, 'dashboard-redis-down.png'), fullPage: true });

      await redis.run();
      await page.locator('#adapter-link:not(.bad)', { hasText: 'link up' }).waitFor();
      const after = await statsOf(port);
      await snapshotAfter(page, after.uptime);
      const adapter = after.adapter as { reconnectsTotal: number };
      assert.equal(await shown(page, '#adapter-reconnectsTotal td:last-child'), adapter.reconnectsTotal);
      assert.ok(adapter.reconnectsTotal >= 1);
      assert.deepEqual(problems, []);
    } finally {
      await close();
      await stop(child);
      await redis.dispose();
    }
  });
});
