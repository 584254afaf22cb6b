// Interop: the `ws` npm client against the wsx server (`wsx serve --echo`, a separate process).
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { createServer, type SendStatus } from '../../src/index.js';
import {
  assertCloseEcho,
  type CloseInfo,
  Inbox,
  killAll,
  pattern,
  SIZES,
  startWsxServer,
  text,
  UTF8_SAMPLE,
  WsPeer,
  type WsxServer,
  withTimeout,
} from './helpers.js';
import { startEchoServer } from './wsx-peer.js';

const MAX = 16 * 1024 * 1024;
const opened: WsPeer[] = [];

async function open(url: string, protocols: string[] = [], options: WebSocket.ClientOptions = {}) {
  const peer = await WsPeer.open(url, protocols, options);
  opened.push(peer);
  return peer;
}

/** Sends one message and returns the echo, checking that it kept its type. */
async function echo(peer: WsPeer, data: Buffer | string, binary: boolean) {
  await peer.send(data, { binary });
  const reply = await peer.next(`the echo of a ${binary ? 'binary' : 'text'} message`);
  assert.equal(reply.isBinary, binary, 'the echo keeps the message type');
  return reply.data;
}

/** Resolves with the handshake response and the `ws` error of a connection that fails after it. */
function failedHandshake(url: string, protocols: string[]) {
  const ws = new WebSocket(url, protocols, { perMessageDeflate: false });
  let response: IncomingMessage | undefined;
  ws.on('upgrade', (res) => {
    response = res;
  });
  const failed = new Promise<{ error: Error; response: IncomingMessage | undefined }>((resolve, reject) => {
    ws.on('error', (error) => resolve({ error, response }));
    ws.on('open', () =>
      reject(new Error(`handshake succeeded with protocol ${JSON.stringify(ws.protocol)}`)),
    );
  });
  return withTimeout(failed, 'the handshake to fail');
}

describe('ws client ↔ wsx server', () => {
  let server: WsxServer;

  before(async () => {
    server = await startWsxServer(['--max-payload', String(MAX)]);
  });

  after(async () => {
    for (const peer of opened) peer.terminate();
    await killAll();
  });

  test('echoes a text message as text', async () => {
    const peer = await open(server.url);
    const reply = await echo(peer, 'hello', false);
    assert.equal(reply.toString('utf8'), 'hello');
  });

  test('echoes a binary message as binary', async () => {
    const peer = await open(server.url);
    const data = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80, 0x7f]);
    assert.deepEqual(await echo(peer, data, true), data);
  });

  test('echoes empty text and empty binary messages', async () => {
    const peer = await open(server.url);
    assert.equal((await echo(peer, '', false)).length, 0);
    assert.equal((await echo(peer, Buffer.alloc(0), true)).length, 0);
  });

  test('echoes multi-byte UTF-8 text unchanged', async () => {
    const peer = await open(server.url);
    const reply = await echo(peer, UTF8_SAMPLE, false);
    assert.equal(reply.toString('utf8'), UTF8_SAMPLE);
  });

  for (const size of SIZES) {
    test(`echoes a ${size}-byte binary message and a ${size}-byte text message`, async () => {
      const peer = await open(server.url);
      const data = pattern(size, size);
      assert.ok((await echo(peer, data, true)).equals(data), 'binary echo differs from what was sent');
      const body = text(size);
      assert.ok(
        (await echo(peer, body, false)).equals(Buffer.from(body)),
        'text echo differs from what was sent',
      );
    });
  }

  test('keeps the order of many small messages', async () => {
    const peer = await open(server.url);
    const count = 1000;
    for (let i = 0; i < count; i++) peer.ws.send(`message ${i}`);
    for (let i = 0; i < count; i++) {
      const reply = await peer.next(`echo ${i}`);
      assert.equal(reply.data.toString(), `message ${i}`);
    }
  });

  test('echoes on any path and query', async () => {
    const peer = await open(`${server.url}some/deeper/path?query=1&x=%20`);
    assert.equal((await echo(peer, 'path', false)).toString(), 'path');
  });

  test('serves several clients at once', async () => {
    const peers = await Promise.all(Array.from({ length: 10 }, () => open(server.url)));
    const replies = await Promise.all(peers.map((peer, i) => echo(peer, `client ${i}`, false)));
    assert.deepEqual(
      replies.map((r) => r.toString()),
      peers.map((_, i) => `client ${i}`),
    );
  });

  test('reassembles a fragmented binary message', async () => {
    const peer = await open(server.url);
    const parts = [pattern(10, 1), pattern(0), pattern(70_000, 2), pattern(3, 3)];
    parts.forEach((part, i) => {
      peer.ws.send(part, { binary: true, fin: i === parts.length - 1 });
    });
    const reply = await peer.next('the reassembled message');
    assert.equal(reply.isBinary, true);
    assert.ok(reply.data.equals(Buffer.concat(parts)), 'reassembled message differs');
  });

  test('reassembles fragmented text whose UTF-8 sequences are split across frames', async () => {
    const peer = await open(server.url);
    const bytes = Buffer.from(UTF8_SAMPLE);
    // Cut at every 3rd byte, so 2-, 3- and 4-byte sequences straddle frame boundaries.
    const parts: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 3) parts.push(bytes.subarray(i, i + 3));
    parts.forEach((part, i) => {
      peer.ws.send(part, { binary: false, fin: i === parts.length - 1 });
    });
    const reply = await peer.next('the reassembled text');
    assert.equal(reply.isBinary, false);
    assert.equal(reply.data.toString('utf8'), UTF8_SAMPLE);
  });

  test('answers a ping sent between the fragments of a message', async () => {
    const peer = await open(server.url);
    const pong = new Promise<Buffer>((resolve) => peer.ws.once('pong', resolve));
    peer.ws.send('first half, ', { fin: false });
    peer.ws.ping(Buffer.from('mid-message'));
    assert.equal((await withTimeout(pong, 'the pong')).toString(), 'mid-message');
    peer.ws.send('second half', { fin: true });
    const reply = await peer.next('the reassembled text');
    assert.equal(reply.data.toString(), 'first half, second half');
  });

  test('answers pings with pongs that carry the same payload', async () => {
    const peer = await open(server.url);
    for (const payload of [Buffer.alloc(0), Buffer.from('ping payload'), pattern(125, 7)]) {
      const pong = new Promise<Buffer>((resolve) => peer.ws.once('pong', resolve));
      peer.ws.ping(payload);
      assert.deepEqual(await withTimeout(pong, `the pong for a ${payload.length}-byte ping`), payload);
    }
  });

  test('declines permessage-deflate offered by ws with its default options', async () => {
    const peer = await open(server.url, [], { perMessageDeflate: true });
    // wsx does not implement permessage-deflate yet (issue 3), so the offer must be declined;
    // once it does, the extension may be accepted and the echo must still be right.
    assert.ok(
      peer.ws.extensions === '' || peer.ws.extensions.startsWith('permessage-deflate'),
      `unexpected extensions: ${peer.ws.extensions}`,
    );
    const data = pattern(100_000, 9);
    assert.ok((await echo(peer, data, true)).equals(data));
    assert.equal((await echo(peer, UTF8_SAMPLE, false)).toString(), UTF8_SAMPLE);
  });

  test('echoes the close code and reason of the client', async () => {
    const peer = await open(server.url);
    peer.ws.close(4001, 'bye');
    assertCloseEcho(await peer.waitClosed(), { code: 4001, reason: 'bye' });
  });

  test('echoes a close with a multi-byte UTF-8 reason', async () => {
    const peer = await open(server.url);
    peer.ws.close(1000, 'ça va — 👋');
    assertCloseEcho(await peer.waitClosed(), { code: 1000, reason: 'ça va — 👋' });
  });

  test("echoes a close of 4000 'bye-é' with the same code and reason", async () => {
    const peer = await open(server.url);
    peer.ws.close(4000, 'bye-é');
    assertCloseEcho(await peer.waitClosed(), { code: 4000, reason: 'bye-é' });
  });

  test('echoes a close with a code and no reason with that code alone', async () => {
    const peer = await open(server.url);
    peer.ws.close(4000);
    assertCloseEcho(await peer.waitClosed(), { code: 4000, reason: '' });
  });

  test('answers a close without a status code with an empty close', async () => {
    const peer = await open(server.url);
    peer.ws.close();
    // RFC 6455 §7.4.1: 1005 is what the client reports when the reply has no status either.
    assertCloseEcho(await peer.waitClosed(), { code: 1005, reason: '' });
  });

  test('closes with 1007 on a text message that is not UTF-8', async () => {
    const peer = await open(server.url);
    peer.ws.send(Buffer.from([0x68, 0x69, 0xff, 0xfe]), { binary: false });
    assert.equal((await peer.waitClosed()).code, 1007);
  });

  describe('library server, createServer()', () => {
    test('sees messages with their type and the close code and reason of the client', async () => {
      const { server, sockets, url } = await startEchoServer();
      try {
        const peer = await open(url);
        const seen = await sockets.next('the server-side socket');
        assert.equal((await echo(peer, UTF8_SAMPLE, false)).toString(), UTF8_SAMPLE);
        assert.deepEqual(await echo(peer, pattern(300), true), pattern(300));
        const textMessage = await seen.messages.next('the text message on the server');
        assert.deepEqual(textMessage, { data: Buffer.from(UTF8_SAMPLE), isBinary: false });
        const binary = await seen.messages.next('the binary message on the server');
        assert.deepEqual(binary, { data: pattern(300), isBinary: true });
        peer.ws.close(4001, 'bye');
        assert.deepEqual(await seen.waitClosed(), { code: 4001, reason: 'bye' });
        assertCloseEcho(await peer.waitClosed(), { code: 4001, reason: 'bye' });
      } finally {
        await withTimeout(server.close(), 'server.close()');
      }
    });

    test('close() sends 1001 to every client', async () => {
      const { server, sockets, url } = await startEchoServer();
      const peers = await Promise.all([open(url), open(url)]);
      const seen = [await sockets.next('socket 1'), await sockets.next('socket 2')];
      await withTimeout(server.close(), 'server.close()');
      for (const peer of peers) assert.equal((await peer.waitClosed()).code, 1001);
      for (const socket of seen) assert.equal((await socket.waitClosed()).code, 1001);
    });

    test('a closing handler that calls close(code, reason) answers with those', async () => {
      const server = createServer();
      const statuses: SendStatus[] = [];
      const seen = new Inbox<CloseInfo>();
      server.route('/*', {
        closing(ws, code, reason) {
          statuses.push(ws.send(`too late after ${code} ${reason}`));
          ws.close(4002, 'mine, é');
        },
        close: (_ws, code, reason) => seen.push({ code, reason }),
      });
      try {
        const { port } = await withTimeout(server.listen({ port: 0, host: '127.0.0.1' }), 'listen');
        const peer = await open(`ws://127.0.0.1:${port}/`);
        peer.ws.close(4000, 'bye-é');
        assert.deepEqual(await peer.waitClosed(), { code: 4002, reason: 'mine, é' });
        assert.deepEqual(await seen.next('the close handler'), { code: 4000, reason: 'bye-é' });
        assert.deepEqual(statuses, ['dropped'], 'no data after the peer’s close frame');
      } finally {
        await withTimeout(server.close(), 'server.close()');
      }
    });
  });

  describe('subprotocols', () => {
    let chat: WsxServer;

    before(async () => {
      chat = await startWsxServer(['--subprotocol', 'chat', '--subprotocol', 'superchat']);
    });

    test('selects the first offered subprotocol that it supports', async () => {
      const first = await open(chat.url, ['superchat', 'chat']);
      assert.equal(first.ws.protocol, 'superchat');
      const second = await open(chat.url, ['other', 'chat', 'superchat']);
      assert.equal(second.ws.protocol, 'chat');
      assert.equal((await echo(second, 'with protocol', false)).toString(), 'with protocol');
    });

    test('selects none when none is offered', async () => {
      const peer = await open(chat.url);
      assert.equal(peer.ws.protocol, '');
      assert.equal((await echo(peer, 'no protocol', false)).toString(), 'no protocol');
    });

    test('selects none when no offered subprotocol is supported', async () => {
      // RFC 6455 §4.2.2: the server answers without Sec-WebSocket-Protocol; ws then fails the
      // connection itself, because it requires one of its offers to be chosen.
      const { error, response } = await failedHandshake(chat.url, ['other', 'unknown']);
      assert.equal(response?.statusCode, 101, `handshake failed before the response: ${error.message}`);
      assert.equal(response?.headers['sec-websocket-protocol'], undefined);
      assert.match(error.message, /no subprotocol/);
    });

    test('a server without --subprotocol selects none of the offers', async () => {
      const { error, response } = await failedHandshake(server.url, ['chat']);
      assert.equal(response?.statusCode, 101, `handshake failed before the response: ${error.message}`);
      assert.equal(response?.headers['sec-websocket-protocol'], undefined);
    });
  });

  describe('limits', () => {
    let small: WsxServer;

    before(async () => {
      small = await startWsxServer(['--max-payload', '1024']);
    });

    test('accepts a message of exactly --max-payload bytes', async () => {
      const peer = await open(small.url);
      const data = pattern(1024);
      assert.ok((await echo(peer, data, true)).equals(data));
    });

    test('closes with 1009 on a message one byte over --max-payload', async () => {
      const peer = await open(small.url);
      peer.ws.send(pattern(1025), { binary: true });
      assert.equal((await peer.waitClosed()).code, 1009);
    });

    test('closes with 1009 on a fragmented message whose total exceeds --max-payload', async () => {
      const peer = await open(small.url);
      peer.ws.send(pattern(600), { binary: true, fin: false });
      peer.ws.send(pattern(600), { binary: true, fin: true });
      assert.equal((await peer.waitClosed()).code, 1009);
    });
  });

  test('on SIGTERM closes every connection with 1001 and exits 0', async () => {
    const doomed = await startWsxServer();
    const peers = await Promise.all([open(doomed.url), open(doomed.url), open(doomed.url)]);
    for (const peer of peers) assert.equal((await echo(peer, 'before', false)).toString(), 'before');
    doomed.proc.kill('SIGTERM');
    const closes = await Promise.all(peers.map((peer) => peer.waitClosed()));
    for (const close of closes) assert.equal(close.code, 1001);
    const exit = await doomed.proc.waitForExit();
    assert.deepEqual(exit, { code: 0, signal: null }, doomed.proc.diagnostics());
  });
});
