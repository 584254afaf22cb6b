// `wsx bench connect`, `idle` and `broadcast` against real servers: `wsx serve` (handshakes,
// held connections and the server's memory, chat topics published over WebSocket and over
// HTTP) and small wsx servers that fan out without a protocol (raw mode), one of them losing
// deliveries.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createServer, type Socket, type WebSocketServer } from '../../src/index.js';
import { bench, cleanResult, resultOf, serve } from './bench-helpers.js';

const servers: WebSocketServer[] = [];
after(async () => {
  for (const server of servers) await server.close({ timeout: 1000 });
});

/**
 * A server with no protocol of its own, like bench/servers: a text message starting with
 * `broadcast:` goes to every connected socket, the sender included. `skip(n)` says whether
 * the n-th fan-out misses the first socket that connected.
 */
async function fanOutServer(skip: (n: number) => boolean = () => false): Promise<string> {
  const server = createServer();
  servers.push(server);
  const sockets = new Set<Socket>();
  let fanOuts = 0;
  server.route('/*', {
    open(socket) {
      sockets.add(socket);
    },
    message(_socket, data, isBinary) {
      if (isBinary || !data.toString('latin1', 0, 10).startsWith('broadcast:')) return;
      const missing = skip(++fanOuts) ? sockets.values().next().value : undefined;
      for (const socket of sockets) if (socket !== missing) socket.sendText(data);
    },
    close(socket) {
      sockets.delete(socket);
    },
  });
  const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
  return `ws://127.0.0.1:${port}/`;
}

/** `--format raw` against a fan-out server: the publisher's message is `broadcast:PAYLOAD`. */
const RAW = ['--format', 'raw', '--publish-template', 'broadcast:{payload}'];

describe('wsx bench connect', () => {
  it('makes the handshakes asked for, shared by two workers, each closed cleanly', async () => {
    const { url } = await serve(['--echo']);
    const run = await bench(`connect ${url} --handshakes 41 --concurrency 4 --workers 2 --json`);
    const result = cleanResult(run, 41);
    assert.equal(result.mode, 'connect');
    assert.equal(result.workers, 2);
    assert.equal(result.handshakes, 41);
    assert.ok((result.handshakesPerSecond ?? 0) > 0);
  });
});

describe('wsx bench idle', () => {
  it("holds the connections for the duration and reads the server's memory with --pid", async () => {
    const served = await serve(['--echo']);
    const run = await bench(
      `idle ${served.url} --connections 60 --duration 0.5 --workers 2 --pid ${served.pid} --json`,
    );
    // One latency per connection: its handshake.
    const result = cleanResult(run, 60);
    assert.equal(result.connections, 60);
    assert.ok(result.seconds >= 0.5, `held ${result.seconds} s`);
    const server = result.server!;
    assert.equal(server.pid, served.pid);
    assert.ok(server.rssBeforeKiB! > 0 && server.rssEndKiB! > 0, JSON.stringify(server));
    assert.equal(typeof server.perConnectionKiB, 'number');
  });

  it('counts connections the server closes before the end as errors', async () => {
    // The server closes idle sockets after 200 ms.
    const { url } = await serve(['--echo', '--idle-timeout', '200']);
    const run = await bench(`idle ${url} --connections 5 --duration 2 --workers 1 --json`);
    assert.equal(run.status, 1, run.err);
    const result = resultOf(run);
    assert.equal(result.errorKinds.closed, 5);
    assert.match(result.errorSamples[0], /closed by the server \(1001/);
  });
});

describe('wsx bench broadcast', () => {
  it('publishes on a wsx serve chat topic over WebSocket: every subscriber gets every publish', async () => {
    const { url } = await serve();
    const run = await bench(`broadcast ${url} --connections 20 --messages 30 --workers 2 --json`);
    const result = cleanResult(run, 600);
    assert.equal(result.subscribers, 20);
    assert.equal(result.publishes, 30);
    assert.equal(result.expectedDeliveries, 600);
    assert.equal(result.deliveries, 600);
  });

  it('publishes with POST /publish/:topic (--publish-url) at a --rate, in order', async () => {
    const served = await serve();
    const run = await bench([
      ...['broadcast', served.url, '--topic', 'room 1', '--publish-url', `${served.http}/publish/room%201`],
      ...'--connections 10 --messages 25 --rate 200 --workers 1 --json'.split(' '),
    ]);
    const result = cleanResult(run, 250);
    assert.equal(result.publishes, 25);
    assert.equal(result.deliveries, 250);
  });

  it('--format raw loads a server with no protocol: a template for the publish, the marker found in what arrives', async () => {
    const url = await fanOutServer();
    const run = await bench([
      ...['broadcast', url, ...RAW],
      ...'--connections 8 --messages 40 --depth 4 --size 100 --workers 2 --json'.split(' '),
    ]);
    const result = cleanResult(run, 320);
    assert.equal(result.publishes, 40);
    assert.equal(result.deliveries, 320);
  });

  it('counts deliveries that never came as missed, and exits 1', async () => {
    // Every fourth fan-out, from the first, leaves one subscriber out (the last one does not:
    // a lost last publish is waited for until the 10 s drain ends).
    const url = await fanOutServer((n) => n % 4 === 1);
    const run = await bench([
      'broadcast',
      url,
      ...RAW,
      ...'--connections 5 --messages 40 --depth 2 --workers 1 --json'.split(' '),
    ]);
    assert.equal(run.status, 1, run.err);
    const result = resultOf(run);
    assert.equal(result.publishes, 40);
    assert.equal(result.deliveries, 190);
    assert.deepEqual(result.errorKinds, { missed: 10 });
  });

  it('with --depth 1, a publish lost by the server does not stall the publisher', async () => {
    // Only the first fan-out misses a subscriber; that subscriber never reaches publish 0, and
    // the publisher goes on once the publish has been outstanding 2 s.
    const url = await fanOutServer((n) => n === 1);
    const run = await bench([
      'broadcast',
      url,
      ...RAW,
      ...'--connections 3 --messages 20 --duration 60 --workers 1 --json'.split(' '),
    ]);
    assert.equal(run.status, 1, run.err);
    const result = resultOf(run);
    assert.equal(result.publishes, 20);
    assert.equal(result.deliveries, 59);
    assert.deepEqual(result.errorKinds, { missed: 1 });
  });
});
