// The event maps of WebSocket and ReconnectingWebSocket, as the compiler sees them (this file is
// type-checked with strict on: a listener typed wrongly, or not typed at all, fails the build)
// and as they run: each event is an instance of the class its type names, and `data` is one
// of the types MessageData lists, narrowed by typeof and instanceof.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CloseEvent,
  DropEvent,
  ErrorEvent,
  type MessageData,
  MessageEvent,
  ReconnectEvent,
  ReconnectingWebSocket,
  WebSocket,
} from '../../src/index.js';
import { deferred, type EchoServer, echoServer, freePort, nextEvent, within } from './helpers.js';

let echo: EchoServer;
before(async () => {
  echo = await echoServer();
});
after(() => echo.close());

/** A compile-time check that `Actual` is exactly `Expected`. */
type Equals<Actual, Expected> =
  (<T>() => T extends Actual ? 1 : 2) extends <T>() => T extends Expected ? 1 : 2 ? true : false;
function assertType<_Check extends true>(): void {}

describe('WebSocket: typed events', () => {
  it('addEventListener and on* give each type its event class; data is a MessageData', async () => {
    const ws = new WebSocket(echo.url);
    const seen: string[] = [];
    const done = deferred<MessageData[]>();
    const received: MessageData[] = [];
    ws.addEventListener('open', function (event) {
      assertType<Equals<typeof this, WebSocket>>();
      assertType<Equals<typeof event, Event>>();
      this.send('text');
      this.send(new Uint8Array([1, 2]));
    });
    ws.addEventListener('message', (event) => {
      assertType<Equals<typeof event.data, MessageData>>();
      assert.ok(event instanceof MessageEvent);
      received.push(event.data);
      if (received.length === 1) ws.binaryType = 'nodebuffer';
      if (received.length === 2) done.resolve(received);
    });
    ws.onclose = (event) => seen.push(`close ${event.code} ${event.wasClean}`);
    ws.onerror = (event) => seen.push(`error ${event.message}`);
    ws.onmessage = (event) => {
      // Narrowing the union is how a handler tells the kinds apart.
      if (typeof event.data === 'string') seen.push(`text ${event.data.toUpperCase()}`);
      else if (Buffer.isBuffer(event.data)) seen.push(`buffer ${event.data.length}`);
      else if (event.data instanceof ArrayBuffer) seen.push(`arraybuffer ${event.data.byteLength}`);
      else seen.push(`blob ${event.data.size}`);
    };
    // Types the map does not name take plain Events.
    ws.addEventListener('custom', (event) => assertType<Equals<typeof event, Event>>());

    const [text, binary] = await within(5000, 'two echoes', done.promise);
    assert.equal(text, 'text');
    assert.ok(Buffer.isBuffer(binary));
    ws.close(1000);
    await within(5000, 'close', nextEvent(ws, 'close'));
    assert.deepEqual(seen, ['text TEXT', 'buffer 2', 'close 1000 true']);
  });

  it('error is an ErrorEvent with the cause; removeEventListener takes the typed listener', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${await freePort()}/`);
    const removed = (event: CloseEvent) => assert.fail(`removed listener ran: ${event.code}`);
    ws.addEventListener('close', removed);
    ws.removeEventListener('close', removed);
    const error = deferred<unknown>();
    ws.addEventListener('error', (event) => {
      assertType<Equals<typeof event, ErrorEvent>>();
      error.resolve(event.error);
    });
    const close = await within(5000, 'close', nextEvent(ws, 'close'));
    assert.ok(close instanceof CloseEvent);
    assert.ok((await error.promise) instanceof Error);
  });

  it('rejects listeners that read what an event does not have', () => {
    const ws = new WebSocket(echo.url);
    // @ts-expect-error a close event has no data
    ws.addEventListener('close', (event) => event.data);
    // @ts-expect-error an open event is a plain Event
    ws.onopen = (event: CloseEvent) => event.code;
    // @ts-expect-error data is not always a string
    ws.onmessage = (event) => event.data.toUpperCase();
    ws.close();
  });
});

describe('ReconnectingWebSocket: typed events', () => {
  it('reconnecting, reconnectfailed, drop and close carry their fields', async () => {
    const ws = new ReconnectingWebSocket(`ws://127.0.0.1:${await freePort()}/`, {
      reconnect: { maxRetries: 1, minDelay: 5, maxDelay: 5, jitter: 0, maxQueuedMessages: 1 },
    });
    const seen: string[] = [];
    ws.addEventListener('reconnecting', (event) => {
      assertType<Equals<typeof event, ReconnectEvent>>();
      seen.push(`reconnecting ${event.attempt} ${event.delay} ${event.code}`);
    });
    ws.addEventListener('reconnectfailed', (event) => seen.push(`failed ${event.attempt}`));
    ws.addEventListener('drop', (event) => {
      assertType<Equals<typeof event, DropEvent>>();
      assert.ok(event instanceof DropEvent);
      seen.push(`drop ${String(event.data)} ${event.policy}`);
    });
    ws.onerror = (event) => assert.ok(event instanceof ErrorEvent);
    ws.onclose = (event) => seen.push(`close ${event.code}`);
    ws.send('first');
    ws.send('second'); // the queue holds one: 'first' is dropped
    await within(5000, 'close', nextEvent(ws, 'close'));
    assert.deepEqual(seen, ['drop first drop-oldest', 'reconnecting 1 5 1006', 'failed 1', 'close 1006']);
  });

  it('the events are instances of the classes the map names', async () => {
    const ws = new ReconnectingWebSocket(`ws://127.0.0.1:${await freePort()}/`, {
      reconnect: { maxRetries: 0 },
    });
    const failed = within(5000, 'reconnectfailed', nextEvent(ws, 'reconnectfailed'));
    assert.ok((await failed) instanceof ReconnectEvent);
  });
});
