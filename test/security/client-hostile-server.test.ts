// Hostile servers against wsx's client: a response head that never ends (fast or a byte at a
// time), too many response fields, a forged Sec-WebSocket-Accept, a protocol or extension that
// was not offered. Each must end in a HandshakeError (never a hang, never unbounded memory),
// and the handshake timeout must hold against a server that trickles its answer.
import assert from 'node:assert/strict';
import { createServer as createNetServer, type Socket as NetSocket, type Server } from 'node:net';
import { after, describe, it } from 'node:test';
import { connect, HandshakeError } from '../../src/index.js';
import { memory } from './core.js';
import { acceptFor, KiB, MiB, recordFigures, round, toMiB, within } from './helpers.js';

/** A TCP server that hands each connection, once its request head is in, to `behave`. */
async function hostileServer(
  behave: (socket: NetSocket, key: string) => void,
): Promise<{ server: Server; url: string; sockets: Set<NetSocket> }> {
  const sockets = new Set<NetSocket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    let text = '';
    socket.on('data', function onData(chunk: Buffer) {
      text += chunk.toString('latin1');
      if (!text.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      behave(socket, /sec-websocket-key: *([^\r]+)/i.exec(text)?.[1]?.trim() ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { server, url: `ws://127.0.0.1:${port}/`, sockets };
}

const servers: Array<{ server: Server; sockets: Set<NetSocket> }> = [];
after(() => {
  for (const { server, sockets } of servers) {
    for (const socket of sockets) socket.destroy();
    server.close();
  }
});

async function refusal(url: string, options: Parameters<typeof connect>[1] = {}): Promise<HandshakeError> {
  const error = await within(
    5000,
    'the handshake to fail',
    connect(url, { handshakeTimeout: 2000, ...options }).then(
      (socket) => {
        socket.terminate();
        return new Error('the handshake succeeded');
      },
      (e: unknown) => e,
    ),
  );
  assert.ok(error instanceof HandshakeError, `expected a HandshakeError, got ${String(error)}`);
  return error;
}

describe('hostile servers against the client', () => {
  it('a response head that never ends fails at 16 KiB, in bounded memory', async (t) => {
    const hostile = await hostileServer((socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\n');
      const line = Buffer.from(`X-Endless: ${'a'.repeat(1000)}\r\n`);
      const pump = () => {
        while (!socket.destroyed && socket.write(line)) {}
        if (!socket.destroyed) socket.once('drain', pump);
      };
      pump();
    });
    servers.push(hostile);
    const before0 = memory();
    const started = performance.now();
    const error = await refusal(hostile.url);
    const elapsed = performance.now() - started;
    const after0 = memory();
    recordFigures(t, 'client: endless response head', {
      ms: round(elapsed),
      heapGrowthMiB: toMiB(after0.heapUsed - before0.heapUsed),
    });
    assert.match(error.message, /over 16384 bytes/);
    assert.ok(after0.heapUsed - before0.heapUsed < 16 * MiB);
  });

  it('a response head trickled a byte at a time is cut off by handshakeTimeout', async (t) => {
    // The head takes 100 ms a byte, about 13 s in all; the client's timeout is 500 ms. What is
    // checked is the order: the client gave up, timed out, while the head was still arriving.
    const trickled = { sent: 0, length: 0 };
    const hostile = await hostileServer((socket, key) => {
      const head = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`;
      trickled.length = head.length;
      const timer = setInterval(() => {
        if (socket.destroyed || trickled.sent >= head.length) clearInterval(timer);
        else socket.write(head[trickled.sent++]);
      }, 100);
      socket.on('close', () => clearInterval(timer));
    });
    servers.push(hostile);
    const started = performance.now();
    const error = await refusal(hostile.url, { handshakeTimeout: 500 });
    t.diagnostic(`gave up after ${round(performance.now() - started)} ms, ${trickled.sent} bytes in`);
    assert.match(error.message, /timed out/);
    assert.ok(trickled.sent < trickled.length, `gave up ${trickled.sent} of ${trickled.length} bytes in`);
  });

  it('more than 100 response fields, a forged accept, an unoffered protocol or extension: HandshakeError', async () => {
    const cases: Array<[string, (key: string) => string, RegExp]> = [
      [
        'too many fields',
        (key) =>
          `HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n` +
          `${Array.from({ length: 120 }, (_, i) => `X-${i}: v\r\n`).join('')}\r\n`,
        /more than 100 header fields/,
      ],
      [
        'forged accept',
        () =>
          `HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor('x')}\r\n\r\n`,
        /Accept/,
      ],
      [
        'unoffered protocol',
        (key) =>
          `HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n` +
          'Sec-WebSocket-Protocol: evil\r\n\r\n',
        /not offered/,
      ],
      [
        'unoffered extension',
        (key) =>
          `HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n` +
          'Sec-WebSocket-Extensions: x-evil\r\n\r\n',
        /not offered/,
      ],
      [
        'obsolete line folding',
        (key) =>
          `HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`,
        /malformed header line/,
      ],
    ];
    for (const [name, answer, message] of cases) {
      const hostile = await hostileServer((socket, key) => socket.write(answer(key)));
      servers.push(hostile);
      const error = await refusal(hostile.url);
      assert.match(error.message, message, name);
    }
  });

  it('a server that answers 101 and floods frames larger than maxMessageSize is refused with 1009', async () => {
    const hostile = await hostileServer((socket, key) => {
      socket.write(
        `HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`,
      );
      // A binary frame announcing 1 GiB, then data.
      const header = Buffer.from([0x82, 127, 0, 0, 0, 0, 0x40, 0, 0, 0]);
      socket.write(Buffer.concat([header, Buffer.alloc(64 * KiB)]));
    });
    servers.push(hostile);
    const code = await within(
      5000,
      'the client to close',
      new Promise<number>((resolve) => {
        connect(hostile.url, {
          maxMessageSize: MiB,
          handlers: { close: (_socket, closeCode) => resolve(closeCode) },
        }).catch(() => resolve(-1));
      }),
    );
    assert.equal(code, 1009);
  });
});
