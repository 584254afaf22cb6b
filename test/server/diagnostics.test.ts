// The diagnostics_channel events an APM tool subscribes to: a socket's open, close and error in
// both roles, a refused upgrade, and a client's failed handshake. Real sockets on 127.0.0.1.
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, afterEach, describe, it } from 'node:test';
import { connect, createServer, HandshakeError, type Socket } from '../../src/index.js';
import { until } from './helpers.js';

const CHANNELS = [
  'wsx:socket:open',
  'wsx:socket:close',
  'wsx:socket:error',
  'wsx:handshake:rejected',
  'wsx:handshake:failed',
] as const;
type Seen = { channel: (typeof CHANNELS)[number]; message: Record<string, unknown> };

const seen: Seen[] = [];
const listeners = CHANNELS.map((channel) => {
  const listener = (message: unknown) => seen.push({ channel, message: message as Record<string, unknown> });
  subscribe(channel, listener);
  return [channel, listener] as const;
});
after(() => {
  for (const [channel, listener] of listeners) unsubscribe(channel, listener);
});
afterEach(() => {
  seen.length = 0;
});

const server = createServer({ onError() {} });
server.route('/echo', {
  message(socket, data, isBinary) {
    socket.send(data, { binary: isBinary });
  },
});
server.route('/throws', {
  message() {
    throw new Error('handler bug');
  },
});
const { port } = await server.listen({ port: 0 });
after(() => server.close({ timeout: 500 }));

function of(channel: Seen['channel']): Record<string, unknown>[] {
  return seen.filter((entry) => entry.channel === channel).map((entry) => entry.message);
}

function roleOf(message: Record<string, unknown>): string {
  return (message.socket as Socket).role;
}

describe('diagnostics channels', () => {
  it('report open and close with code and reason for both ends', async () => {
    const client = await connect(`ws://127.0.0.1:${port}/echo`);
    client.close(4000, 'bye');
    await until(5000, 'both ends closed', () => of('wsx:socket:close').length === 2);
    assert.deepEqual(of('wsx:socket:open').map(roleOf).sort(), ['client', 'server']);
    for (const close of of('wsx:socket:close')) {
      assert.equal(close.code, 4000);
      assert.equal(close.reason, 'bye', 'the server echoed the reason');
      assert.equal(close.wasClean, true);
    }
    assert.deepEqual(of('wsx:socket:error'), []);
  });

  it('report the failure that ended a socket', async () => {
    const client = await connect(`ws://127.0.0.1:${port}/throws`);
    client.send('hello');
    await until(5000, 'both ends closed', () => of('wsx:socket:close').length === 2);
    const errors = of('wsx:socket:error');
    assert.equal(errors.length, 1);
    assert.equal(roleOf(errors[0]!), 'server');
    const error = errors[0]!.error as Error;
    assert.equal((error.cause as Error).message, 'handler bug');
    const codes = of('wsx:socket:close').map((close) => close.code);
    assert.deepEqual(codes, [1011, 1011]);
  });

  it('report a refused upgrade on the server and the failed handshake on the client', async () => {
    await assert.rejects(connect(`ws://127.0.0.1:${port}/nowhere`), HandshakeError);
    const [rejected] = of('wsx:handshake:rejected');
    assert.equal(rejected?.status, 404);
    assert.equal(rejected?.remoteAddress, '127.0.0.1');
    const [failed] = of('wsx:handshake:failed');
    assert.equal(failed?.url, `ws://127.0.0.1:${port}/nowhere`);
    assert.ok(failed !== undefined);
    assert.equal((failed.error as HandshakeError).status, 404);
    assert.deepEqual(of('wsx:socket:open'), []);
  });
});
