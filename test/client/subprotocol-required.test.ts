// Offered subprotocols and a server that selects none: the WHATWG clients (WebSocket,
// WebSocketStream, ReconnectingWebSocket) fail the connection, as browsers and the ws client
// do; connect() keeps RFC 6455's rule and opens, unless asked for the WHATWG one. A selected
// subprotocol that was not offered fails everywhere.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CloseEvent,
  connect,
  type ErrorEvent,
  HandshakeError,
  ReconnectingWebSocket,
  WebSocket,
  WebSocketStream,
  WebSocketStreamError,
} from '../../src/index.js';
import {
  acceptResponse,
  type EchoServer,
  echoServer,
  nextEvent,
  rawServer,
  readRequest,
  record,
  until,
  within,
} from './helpers.js';

/** A route with no `protocols`: wsx's server then answers 101 without Sec-WebSocket-Protocol. */
let plain: EchoServer;
/** Answers every handshake with 101 and `extra` header lines, by hand. */
let raw: Awaited<ReturnType<typeof rawServer>>;
let extra = '';
before(async () => {
  plain = await echoServer();
  raw = await rawServer(async (socket) => {
    const { headers } = await readRequest(socket);
    socket.write(acceptResponse(headers, extra));
    socket.resume();
  });
});
after(async () => {
  await plain.close();
  await raw.close();
});

const rawUrl = () => `ws://127.0.0.1:${raw.port}/`;

/** The events a WebSocket fires until `close`, each with readyState at that moment. */
async function events(ws: WebSocket | ReconnectingWebSocket, types: string[]) {
  const log = record(ws, types, (event) =>
    event instanceof CloseEvent ? [ws.readyState, event.code, event.wasClean] : ws.readyState,
  );
  const error = within(8000, 'the error event', nextEvent<ErrorEvent>(ws, 'error'));
  await within(8000, 'the close event', nextEvent(ws, 'close'));
  return { log, error: await error };
}

describe('WebSocket: offered subprotocols, none selected', () => {
  for (const [name, url, setup] of [
    ['a wsx route without protocols', () => plain.url, () => {}],
    ['a raw 101 without the header', rawUrl, () => (extra = '')],
  ] as const) {
    it(`${name}: error, then close 1006 not clean, CLOSED, no open`, async () => {
      setup();
      const ws = new WebSocket(url(), ['v1']);
      const { log, error } = await events(ws, ['open', 'message', 'error', 'close']);
      assert.deepEqual(log, [
        ['error', WebSocket.CLOSED],
        ['close', [WebSocket.CLOSED, 1006, false]],
      ]);
      assert.ok(error.error instanceof HandshakeError);
      assert.match(error.message, /no subprotocol/);
      assert.equal(ws.readyState, WebSocket.CLOSED);
      assert.equal(ws.protocol, '');
    });
  }

  it('the server sees the connection dropped, not kept open', async () => {
    const before = plain.closes.length;
    const ws = new WebSocket(plain.url, 'v1');
    await within(8000, 'close', nextEvent(ws, 'close'));
    await until(5000, 'the server to see the close', () => plain.closes.length > before);
    assert.equal(plain.closes.at(-1)!.code, 1006);
    assert.equal(plain.sockets.size, 0);
  });

  it('without an offer, the same server opens with protocol ""', async () => {
    const ws = new WebSocket(plain.url);
    await within(5000, 'open', nextEvent(ws, 'open'));
    assert.equal(ws.protocol, '');
    ws.close();
    await within(5000, 'close', nextEvent(ws, 'close'));
  });
});

describe('WebSocket: a selected subprotocol that was not offered', () => {
  for (const [name, offered, header] of [
    ['another than offered', ['v1'], 'Sec-WebSocket-Protocol: v2\r\n'],
    ['one when none was offered', [], 'Sec-WebSocket-Protocol: v1\r\n'],
  ] as const) {
    it(`${name}: error, then close 1006, no open`, async () => {
      extra = header;
      const ws = new WebSocket(rawUrl(), offered);
      const { log, error } = await events(ws, ['open', 'error', 'close']);
      assert.deepEqual(log, [
        ['error', WebSocket.CLOSED],
        ['close', [WebSocket.CLOSED, 1006, false]],
      ]);
      assert.match(error.message, /not offered/);
    });
  }
});

describe('WebSocketStream: offered subprotocols, none selected', () => {
  it('opened and closed reject with a WebSocketError (1006)', async () => {
    const stream = new WebSocketStream(plain.url, { protocols: ['v1'] });
    for (const promise of [stream.opened, stream.closed] as Promise<unknown>[]) {
      await assert.rejects(within(8000, 'the rejection', promise), (error: unknown) => {
        assert.ok(error instanceof WebSocketStreamError);
        assert.equal(error.closeCode, 1006);
        assert.match(error.message, /no subprotocol/);
        return true;
      });
    }
  });
});

describe('ReconnectingWebSocket: offered subprotocols, none selected', () => {
  it('every attempt fails like a WebSocket; no open, and close 1006 when retries run out', async () => {
    const ws = new ReconnectingWebSocket(plain.url, ['v1'], {
      reconnect: { maxRetries: 1, minDelay: 10, maxDelay: 10 },
    });
    const log = record(ws, ['open', 'error', 'reconnecting', 'reconnectfailed', 'close']);
    const event = await within(8000, 'close', nextEvent<CloseEvent>(ws, 'close'));
    assert.deepEqual(
      log.map(([type]) => type),
      ['error', 'reconnecting', 'error', 'reconnectfailed', 'close'],
    );
    assert.deepEqual([event.code, event.wasClean], [1006, false]);
    assert.equal(ws.readyState, ReconnectingWebSocket.CLOSED);
  });
});

describe('connect(): RFC 6455 lets the server select none', () => {
  it('opens with protocol ""', async () => {
    const socket = await within(5000, 'connect', connect(plain.url, { protocols: ['v1'] }));
    assert.equal(socket.protocol, '');
    assert.equal(socket.readyState, 'open');
    socket.terminate();
  });

  it('with requireProtocol, rejects with a HandshakeError (status 101)', async () => {
    await assert.rejects(
      connect(plain.url, { protocols: ['v1'], requireProtocol: true }),
      (error: unknown) => {
        assert.ok(error instanceof HandshakeError);
        assert.equal(error.status, 101);
        assert.match(error.message, /no subprotocol \(offered: v1\)/);
        return true;
      },
    );
  });

  it('a selected subprotocol that was not offered still rejects', async () => {
    extra = 'Sec-WebSocket-Protocol: v2\r\n';
    await assert.rejects(connect(rawUrl(), { protocols: ['v1'] }), /not offered/);
  });
});
