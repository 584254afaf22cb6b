// ReconnectingWebSocket: backoff, the offline queue and its policies, hooks and events, against
// a real `wsx serve --echo` child process that is killed and restarted.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  Backoff,
  type CloseEvent,
  type DropEvent,
  type ReconnectEvent,
  ReconnectingWebSocket,
} from '../../src/index.js';
import {
  echoServer,
  freePort,
  nextEvent,
  record,
  type ServeProcess,
  serveEcho,
  until,
  within,
} from './helpers.js';

const servers: ServeProcess[] = [];
after(async () => {
  for (const server of servers) await server.stop();
});

async function serve(port: number): Promise<ServeProcess> {
  const server = await serveEcho(port);
  servers.push(server);
  return server;
}

describe('Backoff', () => {
  it('grows exponentially up to maxDelay, and jitter cuts each wait by up to its fraction', () => {
    const backoff = new Backoff({ minDelay: 100, maxDelay: 1000, factor: 2, jitter: 0.5 });
    const noJitter = () => 0;
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((attempt) => backoff.delay(attempt, noJitter)),
      [100, 200, 400, 800, 1000, 1000],
    );
    assert.deepEqual(
      [1, 2, 3].map((attempt) => backoff.delay(attempt, () => 1)),
      [50, 100, 200],
    );
    for (let i = 0; i < 100; i++) {
      const delay = backoff.delay(3);
      assert.ok(delay >= 200 && delay <= 400);
    }
    assert.throws(() => new Backoff({ minDelay: 10, maxDelay: 5 }), RangeError);
  });
});

describe('ReconnectingWebSocket: the offline queue', () => {
  /** A socket that cannot connect and waits long before retrying: it stays offline. */
  async function offline(queue: {
    maxQueuedMessages?: number;
    maxQueuedBytes?: number;
    queuePolicy?: 'drop-oldest' | 'drop-newest' | 'error';
  }) {
    const port = await freePort();
    const rws = new ReconnectingWebSocket(`ws://127.0.0.1:${port}/`, {
      reconnect: { minDelay: 60_000, maxDelay: 60_000, ...queue },
    });
    const dropped: unknown[] = [];
    rws.addEventListener('drop', (event) => dropped.push((event as DropEvent).data));
    rws.addEventListener('error', () => {});
    return { rws, dropped };
  }

  it('drop-oldest keeps the newest messages', async () => {
    const { rws, dropped } = await offline({ maxQueuedMessages: 2, queuePolicy: 'drop-oldest' });
    rws.send('a');
    rws.send('b');
    rws.send('c');
    assert.equal(rws.queuedMessages, 2);
    assert.equal(rws.bufferedAmount, 2);
    assert.deepEqual(dropped, ['a']);
    rws.close();
    await within(5000, 'close', nextEvent(rws, 'close'));
    assert.equal(rws.readyState, ReconnectingWebSocket.CLOSED);
  });

  it('drop-newest refuses new messages when full', async () => {
    const { rws, dropped } = await offline({ maxQueuedMessages: 2, queuePolicy: 'drop-newest' });
    rws.send('a');
    rws.send('b');
    rws.send('c');
    assert.deepEqual(dropped, ['c']);
    assert.equal(rws.queuedMessages, 2);
    rws.close();
    await within(5000, 'close', nextEvent(rws, 'close'));
  });

  it("'error' throws QuotaExceededError when full; the byte limit counts too", async () => {
    const { rws } = await offline({ maxQueuedMessages: 10, maxQueuedBytes: 5, queuePolicy: 'error' });
    rws.send('abc');
    rws.send(new Uint8Array(2));
    assert.throws(() => rws.send('x'), { name: 'QuotaExceededError' });
    assert.equal(rws.bufferedAmount, 5);
    rws.close();
    await within(5000, 'close', nextEvent(rws, 'close'));
    rws.send('ignored after close');
    assert.equal(rws.queuedMessages, 0);
  });

  it('drop-oldest makes room by bytes', async () => {
    const { rws, dropped } = await offline({ maxQueuedBytes: 5 });
    rws.send('abc');
    rws.send('de');
    rws.send('fg');
    assert.deepEqual(dropped, ['abc']);
    assert.equal(rws.bufferedAmount, 4);
    rws.close();
    await within(5000, 'close', nextEvent(rws, 'close'));
  });
});

describe('ReconnectingWebSocket: reconnection', () => {
  it('reconnects after the server is killed and restarted: hook first, then the queue, in order', async () => {
    const port = await freePort();
    let server = await serve(port);
    const hooks: Array<{ attempt: number; reconnected: boolean }> = [];
    const rws = new ReconnectingWebSocket(`ws://127.0.0.1:${port}/`, {
      reconnect: {
        minDelay: 50,
        maxDelay: 200,
        onConnect(socket, info) {
          hooks.push(info);
          socket.send(`auth ${hooks.length}`); // goes before anything queued
        },
      },
    });
    const messages: string[] = [];
    rws.onmessage = (event) => messages.push(event.data as string);
    rws.onerror = () => {};
    const log = record(rws, ['open', 'reconnecting', 'reconnect', 'reconnectfailed', 'close'], (event) =>
      event.type === 'reconnecting' ? (event as ReconnectEvent).code : undefined,
    );

    await within(5000, 'open', nextEvent(rws, 'open'));
    assert.equal(rws.readyState, ReconnectingWebSocket.OPEN);
    rws.send('first');
    await until(5000, 'the first echo', () => messages.includes('first'));

    // Killed: no close frame, the connection drops (1006), attempts fail while it is down.
    await server.stop('SIGKILL');
    await within(5000, 'reconnecting', nextEvent(rws, 'reconnecting'));
    assert.equal(rws.readyState, ReconnectingWebSocket.CONNECTING);
    rws.send('queued 1');
    rws.send('queued 2');
    assert.equal(rws.queuedMessages, 2);
    await until(
      5000,
      'a few failed attempts',
      () => log.filter(([type]) => type === 'reconnecting').length >= 3,
    );
    const reconnected = nextEvent<ReconnectEvent>(rws, 'reconnect');
    server = await serve(port);
    const event = await within(5000, 'reconnect', reconnected);
    assert.ok(event.attempt >= 3);
    await until(5000, 'the queued echoes', () => messages.includes('queued 2'));
    assert.deepEqual(messages, ['auth 1', 'first', 'auth 2', 'queued 1', 'queued 2']);
    assert.deepEqual(hooks[0], { attempt: 0, reconnected: false });
    assert.equal(hooks[1].reconnected, true);

    // Shut down gracefully: the server closes with 1001, which is also retried.
    const again = nextEvent(rws, 'reconnect');
    const stopping = server.stop('SIGTERM');
    const lost = await within(5000, 'reconnecting', nextEvent<ReconnectEvent>(rws, 'reconnecting'));
    assert.deepEqual([lost.code, lost.wasClean], [1001, true]);
    await stopping;
    server = await serve(port);
    await within(5000, 'the second reconnect', again);
    await until(5000, 'the third hook', () => messages.includes('auth 3'));

    rws.close(1000, 'bye');
    const closed = await within(5000, 'close', nextEvent<CloseEvent>(rws, 'close'));
    assert.deepEqual([closed.code, closed.wasClean], [1000, true]);
    assert.equal(rws.readyState, ReconnectingWebSocket.CLOSED);
    const types = log.map(([type]) => type);
    assert.equal(types.filter((type) => type === 'open').length, 3);
    assert.equal(types.filter((type) => type === 'reconnect').length, 2);
    assert.equal(types.filter((type) => type === 'close').length, 1);
    assert.ok(!types.includes('reconnectfailed'));
  });

  it('gives up after maxRetries consecutive failures: reconnectfailed, then close', async () => {
    const port = await freePort();
    const rws = new ReconnectingWebSocket(`ws://127.0.0.1:${port}/`, {
      reconnect: { minDelay: 10, maxDelay: 20, maxRetries: 2 },
    });
    rws.onerror = () => {};
    const log = record(rws, ['open', 'reconnecting', 'reconnectfailed', 'close'], (event) =>
      event.type === 'close' ? (event as CloseEvent).code : (event as ReconnectEvent).attempt,
    );
    await within(5000, 'close', nextEvent(rws, 'close'));
    assert.deepEqual(log, [
      ['reconnecting', 1],
      ['reconnecting', 2],
      ['reconnectfailed', 2],
      ['close', 1006],
    ]);
    assert.equal(rws.readyState, ReconnectingWebSocket.CLOSED);
  });

  it('does not reconnect after a clean close with 1000 from the server', async () => {
    const server = await echoServer();
    try {
      const rws = new ReconnectingWebSocket(server.url, { reconnect: { minDelay: 10 } });
      const log = record(rws, ['open', 'reconnecting', 'close']);
      await within(5000, 'open', nextEvent(rws, 'open'));
      for (const socket of server.sockets) socket.close(1000, 'logged out');
      const closed = await within(5000, 'close', nextEvent<CloseEvent>(rws, 'close'));
      assert.equal(closed.code, 1000);
      assert.deepEqual(
        log.map(([type]) => type),
        ['open', 'close'],
      );
    } finally {
      await server.close();
    }
  });

  it('a throwing onConnect hook is reported and the connection is retried', async () => {
    const server = await echoServer();
    try {
      let calls = 0;
      const rws = new ReconnectingWebSocket(server.url, {
        reconnect: {
          minDelay: 10,
          onConnect() {
            calls++;
            if (calls === 1) throw new Error('auth service down');
          },
        },
      });
      const errors: string[] = [];
      rws.onerror = (event) => errors.push((event as unknown as { message: string }).message);
      await within(5000, 'open', nextEvent(rws, 'open'));
      assert.equal(calls, 2);
      assert.match(errors[0], /auth service down/);
      rws.close();
      await within(5000, 'close', nextEvent(rws, 'close'));
    } finally {
      await server.close();
    }
  });
});
