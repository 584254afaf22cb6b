// WebSocketStream: opened/closed, close(), the signal, errors, and backpressure measured in
// both directions on real sockets.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createServer, type Socket, WebSocketStream, WebSocketStreamError } from '../../src/index.js';
import {
  acceptResponse,
  type EchoServer,
  echoServer,
  freePort,
  rawServer,
  readRequest,
  sleep,
  until,
  within,
} from './helpers.js';

let echo: EchoServer;
before(async () => {
  echo = await echoServer({ protocols: ['chat'] });
});
after(() => echo.close());

function isWebSocketError(closeCode?: number) {
  return (error: unknown) => {
    assert.ok(error instanceof WebSocketStreamError, `expected a WebSocketStreamError, got ${String(error)}`);
    assert.ok(error instanceof DOMException);
    assert.equal(error.name, 'WebSocketError');
    if (closeCode !== undefined) assert.equal(error.closeCode, closeCode);
    return true;
  };
}

describe('WebSocketStream: the interface', () => {
  it('opened gives the streams, protocol and extensions; messages go both ways', async () => {
    const wss = new WebSocketStream(echo.url, { protocols: ['chat'] });
    assert.equal(wss.url, echo.url);
    const { readable, writable, protocol, extensions } = await within(5000, 'opened', wss.opened);
    assert.equal(protocol, 'chat');
    assert.equal(typeof extensions, 'string');
    const writer = writable.getWriter();
    const reader = readable.getReader();
    await writer.write('text ✓');
    await writer.write(new Uint8Array([1, 2, 3]));
    await writer.write(new Uint16Array([0x0201]).buffer);
    assert.deepEqual(await reader.read(), { value: 'text ✓', done: false });
    const binary = await reader.read();
    assert.ok(binary.value instanceof Uint8Array);
    assert.deepEqual([...(binary.value as Uint8Array)], [1, 2, 3]);
    assert.deepEqual([...((await reader.read()).value as Uint8Array)], [1, 2]);
    wss.close({ closeCode: 4000, reason: 'bye' });
    const closed = await within(5000, 'closed', wss.closed);
    assert.deepEqual(closed, { closeCode: 4000, reason: 'bye' }); // wsx echoes the code and the reason
    assert.deepEqual(await reader.read(), { value: undefined, done: true });
    await until(2000, 'the server to see the close', () =>
      echo.closes.some((c) => c.code === 4000 && c.reason === 'bye'),
    );
  });

  it('close() checks code and reason like WebSocket.close()', async () => {
    const wss = new WebSocketStream(echo.url);
    await wss.opened;
    assert.throws(() => wss.close({ closeCode: 1001 }), { name: 'InvalidAccessError' });
    assert.throws(() => wss.close({ closeCode: 1000, reason: 'x'.repeat(124) }), { name: 'SyntaxError' });
    wss.close({ reason: 'reason only' }); // means 1000
    assert.equal((await wss.closed).closeCode, 1000);
  });

  it('a server-initiated close resolves closed and ends the readable', async () => {
    const wss = new WebSocketStream(echo.url);
    const { readable } = await wss.opened;
    for (const socket of echo.sockets) socket.close(4005, 'server done');
    assert.deepEqual(await within(5000, 'closed', wss.closed), { closeCode: 4005, reason: 'server done' });
    assert.equal((await readable.getReader().read()).done, true);
  });

  it('writer.close() starts the closing handshake (no status: 1005)', async () => {
    const wss = new WebSocketStream(echo.url);
    const { writable } = await wss.opened;
    await writable.getWriter().close();
    assert.equal((await within(5000, 'closed', wss.closed)).closeCode, 1005);
  });

  it('writable.abort(WebSocketError) and readable.cancel(WebSocketError) close with its code and reason', async () => {
    const first = new WebSocketStream(echo.url);
    await (await first.opened).writable.abort(
      new WebSocketStreamError('', { closeCode: 4001, reason: 'aborted' }),
    );
    assert.equal((await within(5000, 'closed', first.closed)).closeCode, 4001);
    const second = new WebSocketStream(echo.url);
    await (await second.opened).readable.cancel(
      new WebSocketStreamError('', { closeCode: 4002, reason: 'cancelled' }),
    );
    assert.equal((await within(5000, 'closed', second.closed)).closeCode, 4002);
    await until(2000, 'the server to see both', () =>
      ['aborted', 'cancelled'].every((reason) => echo.closes.some((c) => c.reason === reason)),
    );
  });

  it('WebSocketStreamError checks its close code; a reason alone means 1000', () => {
    const error = new WebSocketStreamError('message', { reason: 'why' });
    assert.deepEqual(
      [error.name, error.message, error.closeCode, error.reason],
      ['WebSocketError', 'message', 1000, 'why'],
    );
    assert.equal(new WebSocketStreamError().closeCode, null);
    assert.throws(() => new WebSocketStreamError('', { closeCode: 1006 }), { name: 'InvalidAccessError' });
  });
});

describe('WebSocketStream: failures and the signal', () => {
  it('a failed handshake rejects opened and closed with a WebSocketError', async () => {
    const wss = new WebSocketStream(`ws://127.0.0.1:${await freePort()}/`);
    await assert.rejects(wss.opened, isWebSocketError(1006));
    await assert.rejects(wss.closed, isWebSocketError(1006));
  });

  it('an already aborted signal rejects opened with its reason', async () => {
    const wss = new WebSocketStream(echo.url, { signal: AbortSignal.abort() });
    await assert.rejects(wss.opened, { name: 'AbortError' });
    await assert.rejects(wss.closed, { name: 'AbortError' });
  });

  it('aborting during the handshake rejects opened; after open the signal does nothing', async () => {
    const silent = await rawServer((socket) => socket.resume());
    try {
      const controller = new AbortController();
      const wss = new WebSocketStream(`ws://127.0.0.1:${silent.port}/`, { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      await assert.rejects(within(3000, 'opened to reject', wss.opened), { name: 'AbortError' });
    } finally {
      await silent.close();
    }
    const controller = new AbortController();
    const wss = new WebSocketStream(echo.url, { signal: controller.signal });
    const { writable, readable } = await wss.opened;
    controller.abort();
    await writable.getWriter().write('still open');
    assert.equal((await readable.getReader().read()).value, 'still open');
    wss.close();
    await wss.closed;
  });

  it('a dropped connection rejects closed and errors the readable', async () => {
    const raw = await rawServer(async (socket) => {
      const { headers } = await readRequest(socket);
      socket.write(acceptResponse(headers));
      setTimeout(() => socket.destroy(), 30);
    });
    try {
      const wss = new WebSocketStream(`ws://127.0.0.1:${raw.port}/`);
      const { readable } = await wss.opened;
      await assert.rejects(within(5000, 'closed', wss.closed), isWebSocketError(1006));
      await assert.rejects(readable.getReader().read(), isWebSocketError(1006));
    } finally {
      await raw.close();
    }
  });
});

describe('WebSocketStream: backpressure', () => {
  // The issue asks for a 1 GiB flood over 10 s; scaled down here so that the test takes
  // about 10 s: the server tries to push 256 MiB while the consumer stalls for 5 s.
  const TOTAL = 256 * 1024 * 1024;
  const CHUNK = 64 * 1024;
  const STALL_MS = 5000;

  it('a stalled reader stops the socket reading: the server sees backpressure and client memory stays bounded', async () => {
    const server = createServer({ perMessageDeflate: false });
    let sent = 0;
    let backpressureEvents = 0;
    const block = randomBytes(CHUNK);
    const pump = (socket: Socket) => {
      while (sent < TOTAL) {
        const status = socket.sendBinary(block);
        if (status === 'dropped') return;
        sent += CHUNK;
        if (status === 'backpressure') {
          backpressureEvents++;
          return; // resumes from drain
        }
      }
      socket.close(1000, 'all sent');
    };
    server.route('/flood', { open: pump, drain: pump });
    const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
    try {
      const wss = new WebSocketStream(`ws://127.0.0.1:${port}/flood`, { perMessageDeflate: false });
      const { readable } = await within(5000, 'opened', wss.opened);
      globalThis.gc?.();
      const rssBefore = process.memoryUsage.rss();
      let rssPeak = rssBefore;
      const sampler = setInterval(() => {
        rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
      }, 50);
      await sleep(STALL_MS);
      clearInterval(sampler);
      const sentDuringStall = sent;
      const growth = rssPeak - rssBefore;
      // Loopback TCP buffers hold a few MiB; everything else waits in the server, which
      // saw backpressure and is waiting for its socket to drain.
      assert.ok(backpressureEvents >= 1, 'the server saw backpressure');
      assert.ok(
        sentDuringStall < 48 * 1024 * 1024,
        `the server could only send ${(sentDuringStall / 2 ** 20).toFixed(1)} MiB of 256 while the reader stalled`,
      );
      assert.ok(
        growth < 64 * 1024 * 1024,
        `client RSS grew ${(growth / 2 ** 20).toFixed(1)} MiB during the stall`,
      );

      // The reader catches up: everything arrives, in order and complete.
      let received = 0;
      const reader = readable.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        received += (value as Uint8Array).byteLength;
      }
      assert.equal(received, TOTAL);
      assert.deepEqual(await wss.closed, { closeCode: 1000, reason: 'all sent' });
      process.stdout.write(
        `# backpressure: ${(sentDuringStall / 2 ** 20).toFixed(1)} MiB sent during a ${STALL_MS} ms stall, ` +
          `RSS +${(growth / 2 ** 20).toFixed(1)} MiB, ${backpressureEvents} backpressure events\n`,
      );
    } finally {
      await server.close({ timeout: 500 });
    }
  });

  it('writes resolve only as the socket drains when the server stops reading', async () => {
    let serverSocket: import('node:net').Socket | null = null;
    let discarded = 0;
    const raw = await rawServer(async (socket) => {
      const { headers } = await readRequest(socket);
      socket.write(acceptResponse(headers));
      serverSocket = socket; // paused by readRequest: reads nothing more
    });
    try {
      const wss = new WebSocketStream(`ws://127.0.0.1:${raw.port}/`);
      const { writable } = await within(5000, 'opened', wss.opened);
      const writer = writable.getWriter();
      const chunk = new Uint8Array(1024 * 1024);
      const count = 64;
      let resolved = 0;
      const writes: Promise<void>[] = [];
      for (let i = 0; i < count; i++) writes.push(writer.write(chunk).then(() => void resolved++));
      await sleep(500);
      assert.ok(
        resolved < count / 2,
        `only ${resolved} of ${count} writes completed while the server did not read`,
      );
      assert.ok((writer.desiredSize ?? 0) <= 0, 'the writer reports backpressure');
      serverSocket!.on('data', (data: Buffer) => {
        discarded += data.length;
      });
      serverSocket!.resume();
      await within(10_000, 'every write', Promise.all(writes));
      assert.equal(resolved, count);
      await until(5000, 'the server to read everything', () => discarded >= count * chunk.length);
      wss.close();
    } finally {
      await raw.close();
    }
  });
});
