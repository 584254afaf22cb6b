// Category 0: the opening handshake (RFC 6455 4.1, 4.2), server and client side.
import assert from 'node:assert/strict';
import { createConnection } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { encodeFrame, Op } from './frames.js';
import {
  acceptKey,
  checkUpgradeResponse,
  readHttpHead,
  sendUpgrade,
  type UpgradeOptions,
  WsPeer,
} from './peer.js';
import { RawWsServer } from './raw-server.js';
import { type ServerProcess, spawnClient, startServer, TARGET, within } from './target.js';

/** ws answers an unsupported version with a bare 400 (RFC 6455 4.2.2 wants Sec-WebSocket-Version). */
const wsTodo = (reason: string) => (TARGET === 'ws' ? { todo: `ws reference deviation: ${reason}` } : {});

describe(`0 opening handshake [${TARGET} as server]`, () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer(['--subprotocol', 'chat', '--subprotocol', 'superchat']);
  });
  after(async () => {
    await server?.stop();
  });

  async function upgrade(opts: UpgradeOptions, protocols: string[] = []) {
    const r = await sendUpgrade(server.url, { ...opts, protocols });
    const problems = checkUpgradeResponse(r, protocols);
    return { r, problems };
  }

  async function expectRejected(opts: UpgradeOptions) {
    const r = await sendUpgrade(server.url, opts);
    try {
      assert.ok(
        r.status >= 400 && r.status <= 499,
        `expected a 4xx response, got ${JSON.stringify(r.head.startLine)}`,
      );
      return r;
    } finally {
      r.socket.destroy();
    }
  }

  it('0.1.1 valid upgrade → 101 with the right Sec-WebSocket-Accept, no extension, no subprotocol', async () => {
    const { r, problems } = await upgrade({});
    r.socket.destroy();
    assert.deepEqual(problems, [], r.head.raw);
    assert.equal(r.head.headers.get('sec-websocket-protocol'), undefined);
  });

  it('0.1.2 the accept value of RFC 6455 section 1.3 example key', async () => {
    assert.equal(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    const { r, problems } = await upgrade({ key: 'dGhlIHNhbXBsZSBub25jZQ==' });
    r.socket.destroy();
    assert.deepEqual(problems, [], r.head.raw);
  });

  it('0.1.3 offered subprotocol "chat" is selected', async () => {
    const { r, problems } = await upgrade({}, ['chat']);
    r.socket.destroy();
    assert.deepEqual(problems, [], r.head.raw);
    assert.equal(r.head.headers.get('sec-websocket-protocol'), 'chat');
  });

  it('0.1.4 offered "foo, superchat": one supported subprotocol is selected', async () => {
    const { r, problems } = await upgrade({}, ['foo', 'superchat']);
    r.socket.destroy();
    assert.deepEqual(problems, [], r.head.raw);
    assert.equal(r.head.headers.get('sec-websocket-protocol'), 'superchat');
  });

  it('0.1.5 only unsupported subprotocols offered → 101 without Sec-WebSocket-Protocol', async () => {
    const { r, problems } = await upgrade({}, ['foo', 'bar']);
    r.socket.destroy();
    assert.deepEqual(problems, [], r.head.raw);
    assert.equal(r.head.headers.get('sec-websocket-protocol'), undefined);
  });

  it('0.1.6 header names and tokens are case-insensitive; extra headers are accepted', async () => {
    const { r, problems } = await upgrade({
      headers: {
        Upgrade: null,
        Connection: null,
        upgrade: 'WebSocket',
        connection: 'keep-alive, Upgrade',
        Origin: 'http://example.com',
        'User-Agent': 'wsx-conformance',
        'X-Custom': 'value',
      },
    });
    r.socket.destroy();
    assert.deepEqual(problems, [], r.head.raw);
  });

  it('0.1.7 request written byte by byte → 101, then the connection works', async () => {
    const u = new URL(server.url);
    const key = 'AAAAAAAAAAAAAAAAAAAAAA==';
    const req =
      `GET / HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    const socket = createConnection({ host: u.hostname, port: Number(u.port) });
    socket.setNoDelay(true);
    const head = readHttpHead(socket);
    for (const ch of req) {
      socket.write(ch);
      await new Promise((res) => setImmediate(res));
    }
    const { head: h, rest } = await head;
    assert.match(h.startLine, /^HTTP\/1\.1 101/);
    assert.equal(h.headers.get('sec-websocket-accept'), acceptKey(key));
    const peer = new WsPeer(socket, 'client', rest);
    try {
      await peer.echo(Op.Text, 'works');
      await peer.closeNormally();
    } finally {
      peer.destroy();
    }
  });

  it('0.1.8 a frame pipelined with the request: processed after the 101, or the request rejected', async () => {
    // RFC 6455 4.1: a client MUST wait for the 101 before sending data, so a server may refuse
    // such a request; what it must not do is answer 101 and then lose or misparse the frame.
    const u = new URL(server.url);
    const key = 'BBBBBBBBBBBBBBBBBBBBBB==';
    const req =
      `GET / HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    const socket = createConnection({ host: u.hostname, port: Number(u.port) });
    const head = readHttpHead(socket);
    socket.write(
      Buffer.concat([Buffer.from(req), encodeFrame({ opcode: Op.Text, payload: 'pipelined' }, true)]),
    );
    const { head: h, rest } = await head;
    if (!/^HTTP\/1\.1 101/.test(h.startLine)) {
      socket.destroy();
      assert.match(h.startLine, /^HTTP\/1\.1 4\d\d/);
      return;
    }
    const peer = new WsPeer(socket, 'client', rest);
    try {
      await peer.expectText('pipelined');
      await peer.closeNormally();
    } catch (err) {
      (err as Error).message += `\n${peer.transcript()}`;
      throw err;
    } finally {
      peer.destroy();
    }
  });

  const rejections: [string, UpgradeOptions, string?][] = [
    ['0.2.1 missing Sec-WebSocket-Key', { headers: { 'Sec-WebSocket-Key': null } }],
    ['0.2.2 Sec-WebSocket-Key that is not 16 base64 bytes', { key: Buffer.from('short').toString('base64') }],
    ['0.2.3 missing Upgrade header', { headers: { Upgrade: null } }],
    ['0.2.4 Connection header without "upgrade"', { headers: { Connection: 'keep-alive' } }],
    ['0.2.5 missing Sec-WebSocket-Version', { headers: { 'Sec-WebSocket-Version': null } }],
    ['0.2.8 Sec-WebSocket-Key of 24 characters that is not base64', { key: 'not-base64-at-all!!!!!==' }],
    ['0.2.9 missing Host header', { headers: { Host: null } }, 'accepts an upgrade request without Host'],
  ];
  for (const [title, opts, wsDeviation] of rejections)
    it(`${title} → 4xx`, wsDeviation ? wsTodo(wsDeviation) : {}, async () => {
      await expectRejected(opts);
    });

  it(
    '0.2.6 Sec-WebSocket-Version 12 → 4xx (426) with a Sec-WebSocket-Version header listing 13',
    wsTodo('answers a bad version with a bare 400'),
    async () => {
      const r = await expectRejected({ headers: { 'Sec-WebSocket-Version': '12' } });
      const versions = (r.head.headers.get('sec-websocket-version') ?? '').split(/\s*,\s*/);
      assert.ok(
        versions.includes('13'),
        `Sec-WebSocket-Version header is ${r.head.headers.get('sec-websocket-version')}`,
      );
    },
  );

  it('0.2.10 HTTP/1.0 upgrade request → not 101', wsTodo('accepts an HTTP/1.0 upgrade request'), async () => {
    const u = new URL(server.url);
    const socket = createConnection({ host: u.hostname, port: Number(u.port) });
    try {
      const head = readHttpHead(socket);
      socket.write(
        `GET / HTTP/1.0\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
      const { head: h } = await head;
      assert.doesNotMatch(h.startLine, /^HTTP\/1\.1 101/);
    } finally {
      socket.destroy();
    }
  });

  it('0.2.7 POST request with upgrade headers → not 101', async () => {
    const u = new URL(server.url);
    const socket = createConnection({ host: u.hostname, port: Number(u.port) });
    try {
      const head = readHttpHead(socket);
      socket.write(
        `POST / HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n',
      );
      const { head: h } = await head;
      assert.doesNotMatch(h.startLine, /^HTTP\/1\.1 101/);
    } finally {
      socket.destroy();
    }
  });
});

describe(`0 opening handshake [${TARGET} as client]`, { concurrency: 3 }, () => {
  let raw: RawWsServer;
  before(async () => {
    raw = await RawWsServer.start();
  });
  after(async () => {
    await raw?.close();
  });

  /** Starts the client against a custom response; expects no frame, TCP closed, and a failure exit. */
  async function expectClientRejects(path: string, response: (key: string) => string) {
    const accepted = raw.accept(path, { response });
    const client = spawnClient(raw.url(path));
    try {
      const a = await accepted;
      assert.deepEqual(a.problems, []);
      let received = Buffer.alloc(0);
      a.socket.on('data', (d: Buffer) => {
        received = Buffer.concat([received, d]);
      });
      const closed = new Promise<boolean>((res) => a.socket.once('close', () => res(true)));
      const gone = await within(closed, 5000);
      if (gone === undefined)
        throw new Error('the client kept TCP open for 5 s after an invalid handshake response');
      assert.equal(
        received.length,
        0,
        `the client sent ${received.length} bytes after an invalid handshake response`,
      );
      const exit = await within(client.exited, 5000);
      assert.ok(exit, 'the client did not exit');
      assert.notEqual(exit.code, 0, 'the client must exit non-zero when the handshake fails');
    } catch (err) {
      (err as Error).message += `\n  --- client stderr ---\n${client.stderr().slice(-1500)}`;
      throw err;
    } finally {
      client.kill();
    }
  }

  const ok = (key: string, extra = '') =>
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n${extra}\r\n`;

  it('0.3.1 wrong Sec-WebSocket-Accept → the client fails without sending frames, exit non-zero', () =>
    expectClientRejects('/0.3.1', (key) => ok(`${key}x`)));

  it('0.3.2 101 without Upgrade header → the client fails', () =>
    expectClientRejects(
      '/0.3.2',
      (key) =>
        `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`,
    ));

  it('0.3.3 HTTP 404 → the client fails, exit non-zero', () =>
    expectClientRejects(
      '/0.3.3',
      () => 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
    ));

  it('0.3.4 101 selecting a subprotocol the client did not offer → the client fails', () =>
    expectClientRejects('/0.3.4', (key) => ok(key, 'Sec-WebSocket-Protocol: never-offered\r\n')));

  it('0.3.5 101 followed by a frame in the same write → the client echoes it', async () => {
    const path = '/0.3.5';
    const accepted = raw.accept(path, {
      response: (key) =>
        Buffer.concat([Buffer.from(ok(key)), encodeFrame({ opcode: Op.Text, payload: 'pipelined' }, false)]),
    });
    const client = spawnClient(raw.url(path));
    let peer: WsPeer | null = null;
    try {
      const a = await accepted;
      peer = new WsPeer(a.socket, 'server', a.rest);
      await peer.expectText('pipelined');
      await peer.closeNormally();
      const exit = await within(client.exited, 5000);
      assert.deepEqual(exit, { code: 0, signal: null });
    } catch (err) {
      (err as Error).message +=
        `\n${peer?.transcript() ?? ''}\n  --- client stderr ---\n${client.stderr().slice(-1500)}`;
      throw err;
    } finally {
      peer?.destroy();
      client.kill();
    }
  });

  it('0.3.6 connection refused → the client exits non-zero', async () => {
    const tmp = await RawWsServer.start();
    const url = tmp.url('/');
    await tmp.close();
    const client = spawnClient(url);
    try {
      const exit = await within(client.exited, 10_000);
      assert.ok(exit, 'the client did not exit within 10 s');
      assert.notEqual(exit.code, 0);
    } finally {
      client.kill();
    }
  });
});
