import assert from 'node:assert/strict';
import { createServer as createNetServer, type Socket as NetSocket, type Server } from 'node:net';
import { after, describe, it } from 'node:test';
import { connect, HandshakeError, UsageError } from '../../src/index.js';
import { acceptKey } from '../../src/protocol/handshake/accept.js';
import { deferred, within } from './helpers.js';

/** A raw TCP server whose answer to the upgrade request is written by the test. */
async function rawServer(
  answer: (request: string, socket: NetSocket) => void,
): Promise<{ port: number; server: Server }> {
  const server = createNetServer((socket) => {
    let text = '';
    socket.on('error', () => {});
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.includes('\r\n\r\n')) {
        socket.off('data', onData);
        answer(text, socket);
      }
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, server };
}

function keyOf(request: string): string {
  return /Sec-WebSocket-Key: (\S+)/i.exec(request)?.[1] ?? '';
}

function accept(request: string, extra = ''): string {
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(keyOf(request))}\r\n${extra}\r\n`;
}

const servers: Server[] = [];
after(() => {
  for (const server of servers) server.close();
});

async function expectHandshakeFailure(
  answer: (request: string, socket: NetSocket) => void,
  pattern: RegExp,
  options = {},
) {
  const { port, server } = await rawServer(answer);
  servers.push(server);
  const error = await within(
    3000,
    'the handshake to fail',
    connect(`ws://127.0.0.1:${port}/`, options).then(
      (socket) => {
        socket.terminate();
        assert.fail('handshake should fail');
      },
      (e: unknown) => e,
    ),
  );
  assert.ok(error instanceof HandshakeError, String(error));
  assert.match((error as Error).message, pattern);
  return error as HandshakeError;
}

describe('client handshake', () => {
  it('sends a version 13 request with a fresh 16-byte key and the offered subprotocols', async () => {
    const seen = deferred<string>();
    const { port, server } = await rawServer((request, socket) => {
      seen.resolve(request);
      socket.write(accept(request, 'Sec-WebSocket-Protocol: b\r\n'));
    });
    servers.push(server);
    const client = await connect(`ws://127.0.0.1:${port}/path?q=1`, {
      protocols: ['a', 'b'],
      headers: { 'X-Trace': '7' },
    });
    const request = await seen.promise;
    assert.match(request, /^GET \/path\?q=1 HTTP\/1\.1\r\n/);
    assert.match(request, new RegExp(`\r\nHost: 127\\.0\\.0\\.1:${port}\r\n`));
    assert.match(request, /\r\nSec-WebSocket-Version: 13\r\n/);
    assert.match(request, /\r\nSec-WebSocket-Protocol: a, b\r\n/);
    assert.match(request, /\r\nX-Trace: 7\r\n/);
    assert.equal(Buffer.from(keyOf(request), 'base64').length, 16);
    assert.equal(client.protocol, 'b');
    client.terminate();
  });

  it('reports the HTTP status of a refused upgrade', async () => {
    const error = await expectHandshakeFailure(
      (_request, socket) => socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n'),
      /401/,
    );
    assert.equal(error.status, 401);
  });

  it('fails on a wrong Sec-WebSocket-Accept', async () => {
    await expectHandshakeFailure(
      (_request, socket) =>
        socket.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAA\r\n\r\n',
        ),
      /Accept/,
    );
  });

  it('fails when the server selects a subprotocol that was not offered', async () => {
    await expectHandshakeFailure(
      (request, socket) => socket.write(accept(request, 'Sec-WebSocket-Protocol: c\r\n')),
      /not offered/,
      { protocols: ['a'] },
    );
  });

  it('fails when the server accepts an extension that was not offered', async () => {
    await expectHandshakeFailure(
      (request, socket) => socket.write(accept(request, 'Sec-WebSocket-Extensions: permessage-deflate\r\n')),
      /extension/,
      { perMessageDeflate: false },
    );
    await expectHandshakeFailure(
      (request, socket) => socket.write(accept(request, 'Sec-WebSocket-Extensions: x-unknown\r\n')),
      /extension/,
    );
  });

  it('times out a server that never answers', async () => {
    await expectHandshakeFailure(() => {}, /timed out/, { handshakeTimeout: 200 });
  });

  it('refuses bad URLs, fragments and duplicate subprotocols before connecting', () => {
    assert.throws(() => connect('http//nope'), UsageError);
    assert.throws(() => connect('ftp://127.0.0.1/'), /scheme/);
    assert.throws(() => connect('ws://127.0.0.1/#frag'), /fragment/);
    assert.throws(() => connect('ws://127.0.0.1/', { protocols: ['a', 'a'] }), /twice/);
    assert.throws(
      () => connect('ws://127.0.0.1/', { headers: { 'Sec-WebSocket-Key': 'x' } }),
      /set by the handshake/,
    );
  });
});

describe('client framing and closing', () => {
  it('masks every frame, and waits for the server to close TCP after the closing handshake', async () => {
    const frames = deferred<Buffer>();
    const { port, server } = await rawServer((request, socket) => {
      socket.write(accept(request));
      let bytes = Buffer.alloc(0);
      socket.on('data', (chunk) => {
        bytes = Buffer.concat([bytes, chunk]);
        // text "hi" (2+4+2 bytes) then a close frame with 1000 (2+4+2 bytes)
        if (bytes.length >= 16) {
          frames.resolve(bytes);
          socket.write(Buffer.from([0x88, 0x02, 0x03, 0xe8]));
          setTimeout(() => socket.end(), 50);
        }
      });
    });
    servers.push(server);
    const closed = deferred<number>();
    const client = await connect(`ws://127.0.0.1:${port}/`, {
      handlers: { close: (_s, code) => closed.resolve(code) },
    });
    client.sendText('hi');
    client.close(1000);
    const bytes = await within(3000, 'the frames', frames.promise);
    assert.equal(bytes[0], 0x81);
    assert.equal(bytes[1], 0x82, 'text frame has the mask bit');
    const key = bytes.subarray(2, 6);
    assert.equal(String.fromCharCode(bytes[6] ^ key[0], bytes[7] ^ key[1]), 'hi');
    assert.equal(bytes[8], 0x88);
    assert.equal(bytes[9] & 0x80, 0x80, 'close frame has the mask bit');
    assert.equal(await within(3000, 'the close', closed.promise), 1000);
    assert.equal(client.wasClean, true);
  });

  it('fails with 1002 when the server masks a frame', async () => {
    const reply = deferred<Buffer>();
    const { port, server } = await rawServer((request, socket) => {
      socket.write(accept(request));
      socket.write(Buffer.from([0x81, 0x81, 1, 2, 3, 4, 0x61 ^ 1]));
      socket.on('data', (chunk) => reply.resolve(chunk));
    });
    servers.push(server);
    const errors: string[] = [];
    await connect(`ws://127.0.0.1:${port}/`, {
      handlers: { error: (_s, error) => errors.push((error as Error).message) },
    });
    const bytes = await within(3000, 'the close frame', reply.promise);
    assert.equal(bytes[0], 0x88);
    const key = bytes.subarray(2, 6);
    assert.equal(((bytes[6] ^ key[0]) << 8) | (bytes[7] ^ key[1]), 1002);
    assert.match(errors[0], /masked/);
  });

  it('gives up on a server that never closes TCP after the closing handshake', async () => {
    const { port, server } = await rawServer((request, socket) => {
      socket.write(accept(request));
      socket.on('data', () => socket.write(Buffer.from([0x88, 0x02, 0x03, 0xe8])));
    });
    servers.push(server);
    const closed = deferred<number>();
    const client = await connect(`ws://127.0.0.1:${port}/`, {
      closeTimeout: 100,
      handlers: { close: (_s, code) => closed.resolve(code) },
    });
    client.close(1000);
    assert.equal(await within(3000, 'the close timeout', closed.promise), 1000);
  });

  it('sends fragmented messages with continuation frames', async () => {
    const received = deferred<Buffer>();
    const { port, server } = await rawServer((request, socket) => {
      socket.write(accept(request));
      let bytes = Buffer.alloc(0);
      socket.on('data', (chunk) => {
        bytes = Buffer.concat([bytes, chunk]);
        if (bytes.length >= 3 * 7) received.resolve(bytes);
      });
    });
    servers.push(server);
    const client = await connect(`ws://127.0.0.1:${port}/`);
    client.sendFragment('a', { binary: false, fin: false });
    client.ping('p');
    client.sendFragment('b', { binary: false, fin: true });
    const bytes = await within(3000, 'the fragments', received.promise);
    assert.deepEqual([bytes[0], bytes[7], bytes[14]], [0x01, 0x89, 0x80]);
    client.terminate();
  });
});
