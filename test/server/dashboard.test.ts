// The dashboard of `wsx serve` without a browser: the `/dashboard/live` feed pushes snapshots
// shaped as /stats from one timer that runs only while a dashboard is open, and `/dashboard` is
// served as HTML under a policy that allows its own inline script and style and nothing else.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { chatRequests } from '../../src/cli/chat.js';
import { StatsFeed } from '../../src/cli/dashboard.js';
import { createServer, type WebSocketServer } from '../../src/index.js';
import { RawClient, until } from './helpers.js';

type Json = Record<string, unknown>;

/** A server as `wsx serve` sets it up (the chat's HTTP side, with a publish token), and its feed. */
async function start(
  feedOptions: ConstructorParameters<typeof StatsFeed>[1] = {},
): Promise<{ server: WebSocketServer; feed: StatsFeed; port: number }> {
  const server = createServer();
  // A short period: the tests count pushes, and need not wait seconds for them.
  const feed = new StatsFeed(server, { interval: 20, ...feedOptions });
  server.route('/dashboard/live', feed.route);
  const options = { maxTopics: 10, maxPayload: 1024, publishToken: 'secret', worker: feedOptions.worker };
  const { port } = await server.listen({ port: 0, request: chatRequests(server, options) });
  return { server, feed, port };
}

const snapshots = (client: RawClient): Json[] => client.texts().map((text) => JSON.parse(text) as Json);

describe('the dashboard feed', { timeout: 30_000 }, () => {
  it('pushes snapshots to every dashboard from one timer, stopped when the last one leaves', async () => {
    const { server, feed, port } = await start();
    try {
      assert.equal(feed.running, false, 'no timer before a dashboard opens');
      const first = await RawClient.open(port, '/dashboard/live');
      // One snapshot at once, then one per tick.
      await until(5_000, 'the first snapshot', () => first.messages >= 1);
      assert.equal(feed.running, true);
      const second = await RawClient.open(port, '/dashboard/live');
      await until(5_000, 'both dashboards to count', () => feed.size === 2);
      await until(5_000, 'five pushes to each', () => first.messages >= 6 && second.messages >= 5);

      const last = snapshots(second).at(-1)!;
      assert.equal(last.type, 'stats');
      assert.equal(typeof last.at, 'number');
      assert.equal(last.dashboards, 2);
      assert.equal((last.connections as Json).open, 2, 'the dashboards are connections too');
      assert.equal(last.worker, undefined, 'no worker outside --workers');
      // The very shape of /stats, after the feed's own three fields.
      const stats = (await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as Json;
      assert.deepEqual(Object.keys(last), ['type', 'at', 'dashboards', ...Object.keys(stats)]);
      for (const snapshot of snapshots(first)) assert.equal(snapshot.type, 'stats');

      first.close(1000);
      await until(5_000, 'the first dashboard to leave', () => feed.size === 1);
      assert.equal(feed.running, true, 'one dashboard is still open');
      const count = second.messages;
      await until(5_000, 'pushes to the one left', () => second.messages >= count + 3);

      second.close(1000);
      await until(5_000, 'the last dashboard to leave', () => feed.size === 0);
      assert.equal(feed.running, false, 'the timer stops with the last dashboard');
      const ticksStopped = feed.ticks;
      // One snapshot a tick for all: while both were open, the second got the very pushes the
      // first got, and neither got more than one a tick (plus the one on opening).
      const pushedToBoth = second
        .texts()
        .slice(1)
        .filter((text) => JSON.parse(text).dashboards === 2);
      assert.ok(pushedToBoth.length >= 4);
      for (const text of pushedToBoth) assert.ok(first.texts().includes(text));
      assert.ok(first.messages <= 1 + ticksStopped && second.messages <= 1 + ticksStopped);
      // Leaving dashboards are not written to: nothing counted as dropped.
      assert.deepEqual(server.stats().messages.dropped, { backpressure: 0, closing: 0 });

      // And starts again with the next one, which gets a snapshot at once.
      const third = await RawClient.open(port, '/dashboard/live');
      await until(5_000, 'a snapshot for the next dashboard', () => third.messages >= 1);
      assert.equal(feed.running, true);
      await until(5_000, 'ticks again', () => feed.ticks > ticksStopped);
      third.close(1000);
      await until(5_000, 'the third dashboard to leave', () => !feed.running);
    } finally {
      await server.close({ timeout: 1_000 });
    }
    assert.equal(feed.running, false);
  });

  it('says which worker it is, refuses dashboards over the limit and closes one that talks', async () => {
    const { server, feed, port } = await start({ worker: { worker: 3, pid: 4242 }, maxDashboards: 1 });
    try {
      const dashboard = await RawClient.open(port, '/dashboard/live');
      await until(5_000, 'a snapshot', () => dashboard.messages >= 1);
      const [snapshot] = snapshots(dashboard);
      assert.equal(snapshot!.worker, 3);
      assert.equal(snapshot!.pid, 4242);
      await assert.rejects(RawClient.open(port, '/dashboard/live'), /^Error: HTTP\/1\.1 503/);

      dashboard.sendText('hello?');
      await dashboard.closed;
      assert.equal(dashboard.closeCode, 1008);
      await until(5_000, 'the feed to let it go', () => feed.size === 0 && !feed.running);
    } finally {
      await server.close({ timeout: 1_000 });
    }
  });
});

describe('GET /dashboard', { timeout: 30_000 }, () => {
  it('is HTML under a strict policy that allows its own inline script and style, public like /stats', async () => {
    const { server, port } = await start();
    try {
      const url = `http://127.0.0.1:${port}`;
      // --publish-token guards POST /publish only; /stats and the dashboard are public alike.
      assert.equal((await fetch(`${url}/publish/news`, { method: 'POST', body: 'x' })).status, 401);
      assert.equal((await fetch(`${url}/stats`)).status, 200);
      const response = await fetch(`${url}/dashboard`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      const html = await response.text();
      assert.match(html, /^<!doctype html>/);
      assert.ok(!/<(script|link|img)[^>]+(src|href)=/i.test(html), 'nothing loaded from elsewhere');

      const policy = new Map(
        response.headers
          .get('content-security-policy')!
          .split(';')
          .map((directive) => directive.trim().split(/\s+/))
          .map(([name, ...values]) => [name!, values]),
      );
      assert.deepEqual(policy.get('default-src'), ["'none'"]);
      assert.deepEqual(policy.get('connect-src'), ["'self'"]);
      assert.deepEqual(policy.get('frame-ancestors'), ["'none'"]);
      const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
      const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
      const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
      assert.deepEqual(
        policy.get('script-src'),
        [hash(script)],
        'the inline script, by hash, and nothing else',
      );
      assert.deepEqual(policy.get('style-src'), [hash(style)]);
      assert.equal(html.match(/<script/g)!.length, 1);
      const markup = html.replace(script, '');
      assert.ok(!/\s(style|on\w+)=/.test(markup), 'no style or handler attributes the policy would block');

      const head = await fetch(`${url}/dashboard`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(await head.text(), '');
      assert.equal((await fetch(`${url}/dashboard`, { method: 'POST' })).status, 405);
      assert.equal((await fetch(`${url}/dashboard/`)).status, 404);
    } finally {
      await server.close({ timeout: 1_000 });
    }
  });
});
