import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { listeningUrl, NODE, portOf, WSX_CLI } from '../shared/cli.js';
import { type Frame, RawClient, until, within } from './helpers.js';

const children: ChildProcess[] = [];
after(() => {
  for (const child of children) child.kill('SIGKILL');
});

function run(args: string[]): ChildProcess {
  const child = spawn(NODE, [WSX_CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return child;
}

interface Served {
  child: ChildProcess;
  port: number;
  http: string;
  stop(): Promise<void>;
}

/** Starts `wsx serve --port 0 ...args` and resolves once it has printed its URL. */
async function serve(args: string[] = []): Promise<Served> {
  const child = run(['serve', '--port', '0', ...args]);
  const port = portOf(await listeningUrl(child, 5_000));
  return {
    child,
    port,
    http: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await within(8_000, 'wsx serve to exit', once(child, 'exit'));
    },
  };
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return within(
    8_000,
    'the process to exit',
    once(child, 'exit').then(([code]) => code as number | null),
  );
}

type Json = Record<string, unknown>;

/** A chat client: a raw WebSocket client that parses each text message as JSON. */
class Chat {
  readonly received: Json[] = [];
  private constructor(readonly raw: RawClient) {
    const take = (frame: Frame) => this.received.push(JSON.parse(frame.payload.toString('utf8')) as Json);
    // What came with the 101 was parsed before this handler was set.
    for (const frame of raw.frames) if (frame.opcode === 0x1) take(frame);
    raw.onFrame = take;
  }

  static async open(port: number, name: string): Promise<Chat> {
    const chat = new Chat(await RawClient.open(port, `/chat?name=${encodeURIComponent(name)}`));
    await chat.next('welcome');
    return chat;
  }

  send(message: Json | string): void {
    this.raw.sendText(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next message of `type` not taken yet (waits for it). */
  async next(type: string): Promise<Json> {
    let found: Json | undefined;
    await until(3_000, `a ${type} message`, () => {
      const index = this.received.findIndex((m) => m.type === type);
      if (index === -1) return false;
      found = this.received.splice(index, 1)[0];
      return true;
    });
    return found!;
  }

  take(type: string): Json[] {
    const taken = this.received.filter((m) => m.type === type);
    for (const m of taken) this.received.splice(this.received.indexOf(m), 1);
    return taken;
  }
}

describe('wsx serve: chat, publish, stats', { timeout: 40_000 }, () => {
  it('speaks the JSON pub/sub protocol on /chat, with presence', async () => {
    const served = await serve();
    try {
      const alice = await Chat.open(served.port, 'alice');
      const bob = await Chat.open(served.port, 'bob\u0000 ');
      alice.send({ type: 'subscribe', topic: 'room' });
      assert.deepEqual(await alice.next('subscribed'), {
        type: 'subscribed',
        topic: 'room',
        count: 1,
        members: ['alice'],
      });
      assert.equal((await alice.next('presence')).name, 'alice');
      bob.send({ type: 'subscribe', topic: 'room' });
      assert.deepEqual(await bob.next('subscribed'), {
        type: 'subscribed',
        topic: 'room',
        count: 2,
        members: ['alice', 'bob'],
      });
      assert.equal((await bob.next('presence')).name, 'bob', 'the joiner sees its own join too');
      assert.deepEqual(await alice.next('presence'), {
        type: 'presence',
        topic: 'room',
        event: 'join',
        name: 'bob',
        count: 2,
        members: ['alice', 'bob'],
      });

      alice.send({ type: 'publish', topic: 'room', data: 'hi all' });
      alice.send({ type: 'publish', topic: 'room', data: { n: 1 }, exceptSelf: true });
      const toBob = [await bob.next('message'), await bob.next('message')];
      assert.deepEqual(
        toBob.map((m) => [m.topic, m.data, m.from, typeof m.at]),
        [
          ['room', 'hi all', 'alice', 'number'],
          ['room', { n: 1 }, 'alice', 'number'],
        ],
      );
      assert.equal((await alice.next('message')).data, 'hi all');

      for (const [bad, error] of [
        ['not json', /not JSON/],
        [{ type: 'dance' }, /unknown type/],
        [{ type: 'subscribe', topic: '' }, /topic/],
        [{ type: 'subscribe', topic: 'x'.repeat(129) }, /topic/],
        [{ type: 'subscribe', topic: 'room' }, /already subscribed/],
        [{ type: 'unsubscribe', topic: 'elsewhere' }, /not subscribed/],
        [{ type: 'publish', topic: 'room' }, /needs "data"/],
      ] as const) {
        alice.send(bad);
        assert.match(String((await alice.next('error')).error), error);
      }
      alice.raw.send(0x2, Buffer.from([1]));
      assert.match(String((await alice.next('error')).error), /binary/);

      bob.send({ type: 'unsubscribe', topic: 'room' });
      assert.deepEqual(await bob.next('unsubscribed'), { type: 'unsubscribed', topic: 'room' });
      const left = await alice.next('presence');
      assert.deepEqual([left.event, left.name, left.count], ['leave', 'bob', 1]);

      bob.send({ type: 'subscribe', topic: 'room' });
      await bob.next('subscribed');
      await bob.next('presence');
      await alice.next('presence');
      alice.raw.close(1000);
      const gone = await bob.next('presence');
      assert.deepEqual([gone.event, gone.name, gone.count, gone.members], ['leave', 'alice', 1, ['bob']]);
    } finally {
      await served.stop();
    }
  });

  it('POST /publish/:topic pushes the body to every subscriber; GET /stats and /metrics', async () => {
    const served = await serve(['--max-payload', '1000']);
    try {
      const reader = await Chat.open(served.port, 'reader');
      reader.send({ type: 'subscribe', topic: 'news/today' });
      await reader.next('subscribed');
      let response = await fetch(`${served.http}/publish/news%2Ftoday`, {
        method: 'POST',
        body: 'plain text',
      });
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { topic: 'news/today', delivered: 1 });
      response = await fetch(`${served.http}/publish/news%2Ftoday`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"price": 42}',
      });
      assert.equal(response.status, 200);
      const messages = [await reader.next('message'), await reader.next('message')];
      assert.deepEqual(
        messages.map((m) => [m.topic, m.data, m.from]),
        [
          ['news/today', 'plain text', null],
          ['news/today', { price: 42 }, null],
        ],
      );
      response = await fetch(`${served.http}/publish/empty`, { method: 'POST', body: 'nobody listens' });
      assert.deepEqual(await response.json(), { topic: 'empty', delivered: 0 });
      response = await fetch(`${served.http}/publish/x`, { method: 'POST', body: 'y'.repeat(1001) });
      assert.equal(response.status, 413);
      response = await fetch(`${served.http}/publish/x`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{',
      });
      assert.equal(response.status, 400);
      response = await fetch(`${served.http}/publish/x`, { method: 'POST', body: Buffer.from([0xff]) });
      assert.equal(response.status, 400);
      response = await fetch(`${served.http}/publish/x`);
      assert.equal(response.status, 405);
      assert.equal(response.headers.get('allow'), 'POST');

      response = await fetch(`${served.http}/stats`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      const stats = (await response.json()) as {
        connections: { open: number };
        topics: { published: number };
      };
      assert.equal(stats.connections.open, 1);
      assert.equal(stats.topics.published >= 3, true);
      response = await fetch(`${served.http}/metrics`);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      assert.match(await response.text(), /^wsx_connections 1$/m);
      assert.equal((await fetch(`${served.http}/nope`)).status, 404);
      assert.equal((await fetch(`${served.http}/`, { method: 'HEAD' })).status, 200);
      assert.equal((await fetch(`${served.http}/`, { method: 'DELETE' })).status, 405);
      const page = await (await fetch(`${served.http}/`)).text();
      assert.match(page, /new WebSocket\(/);
      assert.match(page, /\/chat\?name=/);
    } finally {
      await served.stop();
    }
  });

  it('requires the bearer token with --publish-token, and reads options from --config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsx-serve-'));
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({ 'publish-token': 's3cret', 'max-payload': 100, port: 1, subprotocol: 'chat' }),
    );
    const served = await serve(['--config', config]); // --port 0 on the command line wins over port 1
    try {
      const publish = (headers: Record<string, string>, body = 'x') =>
        fetch(`${served.http}/publish/t`, { method: 'POST', headers, body });
      let response = await publish({});
      assert.equal(response.status, 401);
      assert.equal(response.headers.get('www-authenticate'), 'Bearer');
      assert.equal((await publish({ Authorization: 'Bearer wrong' })).status, 401);
      assert.equal((await publish({ Authorization: 'Basic s3cret' })).status, 401);
      response = await publish({ Authorization: 'Bearer s3cret' });
      assert.equal(response.status, 200);
      assert.equal((await publish({ Authorization: 'Bearer s3cret' }, 'y'.repeat(101))).status, 413);
    } finally {
      await served.stop();
    }

    writeFileSync(config, JSON.stringify({ 'no-such-option': 1 }));
    const bad = run(['serve', '--port', '0', '--config', config]);
    let err = '';
    bad.stderr!.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    assert.equal(await exitCode(bad), 2);
    assert.match(err, /unknown option "no-such-option"/);
    writeFileSync(config, JSON.stringify({ 'max-connections': 'many' }));
    assert.equal(await exitCode(run(['serve', '--port', '0', '--config', config])), 2);
    assert.equal(await exitCode(run(['serve', '--port', '0', '--backpressure-policy', 'ignore'])), 2);
  });

  it('lists every option with its default in --help', async () => {
    const child = run(['serve', '--help']);
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    assert.equal(await exitCode(child), 0);
    for (const option of [
      '--port P',
      '--host H',
      '--echo',
      '--max-payload BYTES',
      '--subprotocol NAME',
      '--cert FILE',
      '--key FILE',
      '--heartbeat-interval MS',
      '--heartbeat-timeout MS',
      '--idle-timeout MS',
      '--max-connections N',
      '--max-connections-per-address N',
      '--trust-proxy ADDR[,ADDR]',
      '--proxy-header x-forwarded-for|forwarded',
      '--max-backpressure BYTES',
      '--backpressure-policy close|drop',
      '--publish-token TOKEN',
      '--workers N|auto',
      '--config FILE',
    ]) {
      assert.ok(out.includes(`  ${option}`), `--help lists ${option}`);
    }
    assert.match(out, /\(default 8080\)/);
    assert.match(out, /\(default 30000/);
    for (const line of out.split('\n')) assert.ok(line.length <= 80, `a short line: ${line}`);
  });

  it('applies heartbeats and connection limits from the command line', async () => {
    // A pong timeout long enough that the answering client cannot miss it on a loaded machine.
    const served = await serve([
      '--heartbeat-interval',
      '100',
      '--heartbeat-timeout',
      '2000',
      '--max-connections',
      '2',
    ]);
    try {
      const silent = await RawClient.open(served.port, '/chat');
      silent.answerPings = false;
      silent.socket.pause();
      const alive = await RawClient.open(served.port, '/chat');
      await assert.rejects(RawClient.open(served.port, '/chat'), /503/);
      type Stats = {
        heartbeats: { timeouts: number };
        connections: { open: number; rejected: { maxConnections: number } };
      };
      let stats: Stats | undefined;
      const deadline = Date.now() + 30_000; // a hang guard: the loop ends once the client is dropped
      while (Date.now() < deadline) {
        stats = (await (await fetch(`${served.http}/stats`)).json()) as Stats;
        // The timeout is counted when the socket is terminated; it is closed a moment later.
        if (stats.heartbeats.timeouts === 1 && stats.connections.open === 1) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(stats!.heartbeats.timeouts, 1, 'the silent client was dropped');
      assert.equal(stats!.connections.open, 1);
      assert.equal(stats!.connections.rejected.maxConnections, 1);
      assert.equal(alive.socket.destroyed, false);
    } finally {
      await served.stop();
    }
  });

  it('keeps --echo as it was: echo on every path, no page, no chat', async () => {
    const served = await serve(['--echo']);
    try {
      assert.equal((await fetch(`${served.http}/`)).status, 426);
      assert.equal((await fetch(`${served.http}/stats`)).status, 426);
      const client = await RawClient.open(served.port, '/chat');
      client.sendText('{"type":"subscribe","topic":"room"}');
      client.send(0x2, Buffer.from([7]));
      await until(2_000, 'two echoes', () => client.messages === 2);
      assert.deepEqual(
        client.frames.map((f) => [f.opcode, f.payload.toString('hex')]),
        [
          [1, Buffer.from('{"type":"subscribe","topic":"room"}').toString('hex')],
          [2, '07'],
        ],
      );
    } finally {
      await served.stop();
    }
  });
});
