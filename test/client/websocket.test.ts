// The WHATWG WebSocket interface of wsx's client, case by case: constructor checks, constants,
// readyState transitions, event order, send/close checks and their DOMException names,
// bufferedAmount, binaryType, failures, handler attributes, Node options and the heartbeat.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloseEvent, ErrorEvent, HeartbeatTimeoutError, WebSocket } from '../../src/index.js';
import {
  acceptResponse,
  deferred,
  type EchoServer,
  echoServer,
  freePort,
  nextEvent,
  rawServer,
  readFrames,
  readRequest,
  record,
  serverFrame,
  sleep,
  until,
  within,
} from './helpers.js';

function domException(name: string) {
  return (error: unknown) => {
    assert.ok(error instanceof DOMException, `expected a DOMException, got ${String(error)}`);
    assert.equal(error.name, name);
    return true;
  };
}

/** Waits for the close event and returns it. */
function closed(ws: WebSocket): Promise<CloseEvent> {
  return within(8000, 'the close event', nextEvent<CloseEvent>(ws, 'close'));
}

let echo: EchoServer;
before(async () => {
  echo = await echoServer({ protocols: ['chat.v2', 'chat.v1'] });
});
after(() => echo.close());

describe('WebSocket: constants and attributes', () => {
  it('has the ready state constants on the class and on instances', () => {
    assert.deepEqual(
      [WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED],
      [0, 1, 2, 3],
    );
    const ws = new WebSocket(echo.url);
    assert.deepEqual([ws.CONNECTING, ws.OPEN, ws.CLOSING, ws.CLOSED], [0, 1, 2, 3]);
    assert.ok(Object.hasOwn(WebSocket.prototype, 'OPEN'));
    assert.ok(ws instanceof EventTarget);
    ws.close();
  });

  it('starts CONNECTING with empty protocol and extensions, bufferedAmount 0, binaryType blob', async () => {
    const ws = new WebSocket(echo.url);
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    assert.equal(ws.protocol, '');
    assert.equal(ws.extensions, '');
    assert.equal(ws.bufferedAmount, 0);
    assert.equal(ws.binaryType, 'blob');
    assert.equal(ws.url, echo.url);
    ws.close();
    assert.equal(ws.readyState, WebSocket.CLOSING);
    await closed(ws);
  });

  it('ignores binaryType values other than blob, arraybuffer and nodebuffer', () => {
    const ws = new WebSocket(echo.url, { binaryType: 'arraybuffer' });
    assert.equal(ws.binaryType, 'arraybuffer');
    ws.binaryType = 'nodebuffer';
    assert.equal(ws.binaryType, 'nodebuffer');
    ws.binaryType = 'text' as never;
    assert.equal(ws.binaryType, 'nodebuffer');
    ws.binaryType = 'blob';
    assert.equal(ws.binaryType, 'blob');
    ws.close();
  });
});

describe('WebSocket: constructor checks', () => {
  it('throws SyntaxError for invalid and relative URLs', () => {
    assert.throws(() => new WebSocket('not a url'), domException('SyntaxError'));
    assert.throws(() => new WebSocket('/relative/path'), domException('SyntaxError'));
    assert.throws(() => new WebSocket('ws://'), domException('SyntaxError'));
    assert.throws(() => new WebSocket('ws+unix:'), domException('SyntaxError')); // no socket path
  });

  it('throws SyntaxError for other schemes', () => {
    for (const url of ['ftp://example.com/', 'file:///tmp/x', 'data:text/plain,x', 'mailto:a@b.c']) {
      assert.throws(() => new WebSocket(url), domException('SyntaxError'), url);
    }
  });

  it('throws SyntaxError for a fragment, even an empty one', () => {
    assert.throws(() => new WebSocket(`${echo.url}#part`), domException('SyntaxError'));
    assert.throws(() => new WebSocket(`${echo.url}#`), domException('SyntaxError'));
  });

  it('maps http: to ws: and https: to wss: in url', () => {
    const plain = new WebSocket(`http://127.0.0.1:${echo.port}/path?q=1`);
    assert.equal(plain.url, `ws://127.0.0.1:${echo.port}/path?q=1`);
    plain.close();
    const secure = new WebSocket('https://127.0.0.1:1/');
    assert.equal(secure.url, 'wss://127.0.0.1:1/');
    secure.close();
    const port443 = new WebSocket('https://example.invalid:443/x');
    assert.equal(port443.url, 'wss://example.invalid/x');
    port443.close();
  });

  it('throws SyntaxError for repeated or invalid subprotocols', () => {
    assert.throws(() => new WebSocket(echo.url, ['chat', 'chat']), domException('SyntaxError'));
    assert.throws(() => new WebSocket(echo.url, ['chat', 'CHAT']), domException('SyntaxError'));
    assert.throws(() => new WebSocket(echo.url, ''), domException('SyntaxError'));
    assert.throws(() => new WebSocket(echo.url, ['a b']), domException('SyntaxError'));
    assert.throws(() => new WebSocket(echo.url, ['chat,v1']), domException('SyntaxError'));
    assert.throws(() => new WebSocket(echo.url, ['é']), domException('SyntaxError'));
    const ok = new WebSocket(echo.url, 'chat.v1');
    ok.close();
  });
});

describe('WebSocket: opening, messages and closing', () => {
  it('fires open, then messages, then close, each as a task, with readyState changing inside them', async () => {
    const ws = new WebSocket(echo.url, ['chat.v1', 'chat.v2']);
    const log = record(ws, ['open', 'message', 'error', 'close'], () => ws.readyState);
    const done = closed(ws);
    ws.addEventListener('open', () => {
      assert.equal(ws.protocol, 'chat.v1'); // the server takes the first offered it supports
      ws.send('one');
      ws.send('two');
    });
    let messages = 0;
    ws.addEventListener('message', () => {
      messages++;
      if (messages === 2) {
        ws.close(1000, 'done');
        assert.equal(ws.readyState, WebSocket.CLOSING);
        // close() does not dispatch anything synchronously
        assert.equal(log.at(-1)?.[0], 'message');
      }
    });
    const event = await done;
    assert.deepEqual(log, [
      ['open', WebSocket.OPEN],
      ['message', WebSocket.OPEN],
      ['message', WebSocket.OPEN],
      ['close', WebSocket.CLOSED],
    ]);
    assert.ok(event instanceof CloseEvent);
    assert.equal(event.code, 1000);
    assert.equal(event.wasClean, true);
    await until(2000, 'the server to record the close', () => echo.closes.some((c) => c.reason === 'done'));
  });

  it('runs microtasks between events (each event is its own task)', async () => {
    const ws = new WebSocket(echo.url);
    const order: string[] = [];
    ws.onopen = () => {
      ws.send('a');
      ws.send('b');
    };
    ws.onmessage = (event) => {
      const data = (event as MessageEvent).data as string;
      order.push(`message ${data}`);
      queueMicrotask(() => order.push(`microtask after ${data}`));
      if (data === 'b') ws.close();
    };
    await closed(ws);
    assert.deepEqual(order, ['message a', 'microtask after a', 'message b', 'microtask after b']);
  });

  it('delivers text as strings and binary as Blob, ArrayBuffer or Buffer by binaryType', async () => {
    const ws = new WebSocket(echo.url);
    const received: unknown[] = [];
    const got = deferred();
    ws.onopen = () => ws.send(new Uint8Array([1, 2, 3]));
    ws.onmessage = (event) => {
      const message = event as MessageEvent;
      assert.ok(message instanceof MessageEvent);
      assert.equal(message.origin, `ws://127.0.0.1:${echo.port}`);
      received.push(message.data);
      if (received.length === 1) {
        ws.binaryType = 'arraybuffer';
        ws.send(new Uint8Array([4, 5]));
      } else if (received.length === 2) {
        ws.binaryType = 'nodebuffer';
        ws.send(new Uint8Array([6]));
      } else if (received.length === 3) {
        ws.send('text ✓');
      } else {
        got.resolve();
      }
    };
    await within(5000, 'four echoes', got.promise);
    ws.close();
    assert.ok(received[0] instanceof Blob);
    assert.deepEqual([...new Uint8Array(await (received[0] as Blob).arrayBuffer())], [1, 2, 3]);
    assert.ok(received[1] instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(received[1] as ArrayBuffer)], [4, 5]);
    assert.ok(Buffer.isBuffer(received[2]));
    assert.deepEqual([...(received[2] as Buffer)], [6]);
    assert.equal(received[3], 'text ✓');
    await closed(ws);
  });

  it('sends strings, ArrayBuffers, views (their own range only) and Blobs, in order', async () => {
    const ws = new WebSocket(echo.url, { binaryType: 'nodebuffer' });
    const received: string[] = [];
    const got = deferred();
    ws.onopen = () => {
      const bytes = new Uint8Array([9, 1, 2, 3, 9]);
      ws.send('first');
      ws.send(new Blob(['blob ', 'bytes']));
      ws.send(new Uint8Array([7, 7]).buffer);
      ws.send(new DataView(bytes.buffer, 1, 3));
      ws.send('last');
    };
    ws.onmessage = (event) => {
      const data = (event as MessageEvent).data as string | Buffer;
      received.push(typeof data === 'string' ? data : `bin:${[...data].join(',')}`);
      if (received.length === 5) got.resolve();
    };
    await within(5000, 'five echoes', got.promise);
    assert.deepEqual(received, [
      'first',
      'bin:98,108,111,98,32,98,121,116,101,115',
      'bin:7,7',
      'bin:1,2,3',
      'last',
    ]);
    ws.close();
    await closed(ws);
  });

  it('close() without arguments sends a close frame without status: the code is 1005', async () => {
    const ws = new WebSocket(echo.url);
    ws.onopen = () => ws.close();
    const event = await closed(ws);
    assert.equal(event.code, 1005);
    assert.equal(event.wasClean, true);
    assert.equal(event.reason, '');
  });

  it('close(code, reason) reaches the server; a reason without code means 1000', async () => {
    const ws = new WebSocket(echo.url);
    ws.onopen = () => ws.close(4321, 'ciao ✓');
    const event = await closed(ws);
    // The event reports the server's close frame: wsx echoes the code and the reason.
    assert.deepEqual([event.code, event.reason, event.wasClean], [4321, 'ciao ✓', true]);
    await until(2000, 'the server to see the close', () =>
      echo.closes.some((c) => c.code === 4321 && c.reason === 'ciao ✓'),
    );
    const ws2 = new WebSocket(echo.url);
    ws2.onopen = () => ws2.close(undefined, 'just a reason');
    const event2 = await closed(ws2);
    assert.equal(event2.code, 1000);
    await until(2000, 'the server to see the reason', () =>
      echo.closes.some((c) => c.code === 1000 && c.reason === 'just a reason'),
    );
  });

  it('reports the server-initiated close with its code and reason', async () => {
    const ws = new WebSocket(echo.url);
    await nextEvent(ws, 'open');
    const done = closed(ws);
    for (const socket of echo.sockets) socket.close(4002, 'server says bye');
    const event = await done;
    assert.deepEqual([event.code, event.reason, event.wasClean], [4002, 'server says bye', true]);
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });

  it('turns CLOSING when the server starts the closing handshake, after the messages before it', async () => {
    const raw = await rawServer(async (socket) => {
      const { headers } = await readRequest(socket);
      socket.write(acceptResponse(headers));
      const close = Buffer.concat([Buffer.from([0x0f, 0xa3]), Buffer.from('server first')]);
      socket.write(Buffer.concat([serverFrame(0x1, 'last words'), serverFrame(0x8, close)]));
      socket.resume();
      setTimeout(() => socket.end(), 150); // TCP closes a little after the closing handshake
    });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${raw.port}/`);
      const log = record(ws, ['open', 'message', 'error', 'close'], () => ws.readyState);
      await nextEvent(ws, 'message');
      await until(1000, 'readyState CLOSING', () => ws.readyState === WebSocket.CLOSING);
      assert.deepEqual(log, [
        ['open', WebSocket.OPEN],
        ['message', WebSocket.OPEN],
      ]);
      ws.send('too late'); // dropped, counted
      assert.equal(ws.bufferedAmount, 8);
      const event = await closed(ws);
      assert.deepEqual([event.code, event.reason, event.wasClean], [4003, 'server first', true]);
    } finally {
      await raw.close();
    }
  });

  it('does not deliver messages that arrive after close() was called', async () => {
    const server = await echoServer({ welcome: 'welcome' });
    try {
      const ws = new WebSocket(server.url);
      const log = record(ws, ['open', 'message', 'close']);
      ws.onopen = () => ws.close();
      await closed(ws);
      assert.deepEqual(
        log.map(([type]) => type),
        ['open', 'close'],
      );
    } finally {
      await server.close();
    }
  });
});

describe('WebSocket: send and close checks', () => {
  it('send() while CONNECTING throws InvalidStateError', async () => {
    const ws = new WebSocket(echo.url);
    assert.throws(() => ws.send('too early'), domException('InvalidStateError'));
    ws.close();
    await closed(ws);
  });

  it('close() checks the code ([Clamp] unsigned short): 1000 or 3000-4999, else InvalidAccessError', async () => {
    const ws = new WebSocket(echo.url);
    await nextEvent(ws, 'open');
    for (const code of [0, 999, 1001, 1005, 1006, 1011, 2999, 5000, 65535, -1, Number.NaN]) {
      assert.throws(() => ws.close(code), domException('InvalidAccessError'), String(code));
    }
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.close(3000.4); // clamps to 3000
    const event = await closed(ws);
    assert.equal(event.code, 3000);
  });

  it('close() checks the reason: at most 123 UTF-8 bytes, else SyntaxError; checks come first even when closed', async () => {
    const ws = new WebSocket(echo.url);
    await nextEvent(ws, 'open');
    assert.throws(() => ws.close(1000, 'x'.repeat(124)), domException('SyntaxError'));
    assert.throws(() => ws.close(1000, 'é'.repeat(62)), domException('SyntaxError')); // 124 bytes
    ws.close(1000, `${'é'.repeat(61)}x`); // 123 bytes
    await closed(ws);
    assert.throws(() => ws.close(1001), domException('InvalidAccessError'));
    assert.throws(() => ws.close(1000, 'y'.repeat(200)), domException('SyntaxError'));
    ws.close(); // no-op once closed
  });

  it('after close(), send() sends nothing but adds to bufferedAmount', async () => {
    const ws = new WebSocket(echo.url);
    await nextEvent(ws, 'open');
    let echoes = 0;
    ws.onmessage = () => echoes++;
    ws.close();
    ws.send('abc');
    ws.send(new Uint8Array(10));
    ws.send('é');
    assert.equal(ws.bufferedAmount, 3 + 10 + 2);
    await closed(ws);
    ws.send('more');
    assert.equal(ws.bufferedAmount, 3 + 10 + 2 + 4);
    assert.equal(echoes, 0);
  });

  it('bufferedAmount counts what send() queued and falls back as the socket drains', async () => {
    const ws = new WebSocket(echo.url);
    await nextEvent(ws, 'open');
    const size = 4 * 1024 * 1024;
    ws.send(new Uint8Array(size));
    assert.equal(ws.bufferedAmount, size);
    ws.send('12345');
    assert.equal(ws.bufferedAmount, size + 5);
    await until(5000, 'bufferedAmount to drain', () => ws.bufferedAmount === 0);
    ws.close();
    await closed(ws);
  });
});

describe('WebSocket: failures', () => {
  it('connection refused: error, then close 1006 not clean, readyState CLOSED in both, no open', async () => {
    const port = await freePort();
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    const log = record(ws, ['open', 'error', 'close'], (event) =>
      event instanceof CloseEvent ? [ws.readyState, event.code, event.wasClean, event.reason] : ws.readyState,
    );
    await closed(ws);
    assert.deepEqual(log, [
      ['error', WebSocket.CLOSED],
      ['close', [WebSocket.CLOSED, 1006, false, '']],
    ]);
  });

  it('a refused handshake (HTTP 404) fails the same way, with the cause on the error event', async () => {
    const raw = await rawServer(async (socket) => {
      await readRequest(socket);
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    });
    try {
      const failing = new WebSocket(`ws://127.0.0.1:${raw.port}/missing`);
      const error = within(5000, 'error', nextEvent<ErrorEvent>(failing, 'error'));
      const event = await closed(failing);
      assert.deepEqual([event.code, event.wasClean], [1006, false]);
      const errorEvent = await error;
      assert.ok(errorEvent instanceof ErrorEvent);
      assert.equal((errorEvent.error as { status: number }).status, 404);
    } finally {
      await raw.close();
    }
  });

  it('close() while CONNECTING fails the attempt: CLOSING at once, then error and close 1006, no open', async () => {
    const ws = new WebSocket(echo.url);
    const log = record(ws, ['open', 'error', 'close']);
    ws.close(1000, 'never mind');
    assert.equal(ws.readyState, WebSocket.CLOSING);
    const event = await closed(ws);
    assert.deepEqual(
      log.map(([type]) => type),
      ['error', 'close'],
    );
    assert.deepEqual([event.code, event.wasClean], [1006, false]);
  });

  it('a protocol violation by the server: error, then close 1006 not clean', async () => {
    const raw = await rawServer(async (socket) => {
      const { headers } = await readRequest(socket);
      socket.write(acceptResponse(headers));
      socket.write(serverFrame(0x3, 'reserved opcode')); // opcode 3 is reserved
      socket.resume();
    });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${raw.port}/`);
      const log = record(ws, ['open', 'message', 'error', 'close']);
      const event = await closed(ws);
      assert.deepEqual(
        log.map(([type]) => type),
        ['open', 'error', 'close'],
      );
      assert.deepEqual([event.code, event.wasClean], [1006, false]);
    } finally {
      await raw.close();
    }
  });

  it('what a message listener sends goes out before a violation read with that message fails the connection', async () => {
    const received: Array<{ opcode: number; payload: Buffer }> = [];
    const raw = await rawServer(async (socket) => {
      const { headers, rest } = await readRequest(socket);
      socket.write(acceptResponse(headers));
      // One write, so the client reads both frames at once: a message, then a reserved opcode.
      socket.write(Buffer.concat([serverFrame(0x1, 'echo me'), serverFrame(0x3, 'reserved')]));
      let buffered = rest;
      socket.on('data', (chunk: Buffer) => {
        const { frames, rest: left } = readFrames(Buffer.concat([buffered, chunk]));
        buffered = left;
        received.push(...frames);
      });
      socket.resume();
    });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${raw.port}/`);
      ws.onmessage = (event) => ws.send(event.data as string);
      const log = record(ws, ['open', 'message', 'error', 'close']);
      const event = await closed(ws);
      assert.deepEqual(
        log.map(([type]) => type),
        ['open', 'message', 'error', 'close'],
      );
      assert.deepEqual([event.code, event.wasClean], [1006, false]);
      await until(1000, 'the close frame to arrive', () => received.some((frame) => frame.opcode === 0x8));
      assert.deepEqual(
        received.map((frame) => frame.opcode),
        [0x1, 0x8],
        'the echo, then the close frame',
      );
      assert.equal(received[0].payload.toString(), 'echo me');
      assert.equal(received[1].payload.readUInt16BE(0), 1002);
    } finally {
      await raw.close();
    }
  });

  it('a dropped TCP connection closes with 1006, not clean (no error event: nothing failed here)', async () => {
    const raw = await rawServer(async (socket) => {
      const { headers } = await readRequest(socket);
      socket.write(acceptResponse(headers));
      socket.write(serverFrame(0x1, 'hello'));
      setTimeout(() => socket.destroy(), 50);
    });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${raw.port}/`);
      const log = record(ws, ['open', 'message', 'error', 'close']);
      const event = await closed(ws);
      assert.deepEqual(
        log.map(([type]) => type),
        ['open', 'message', 'close'],
      );
      assert.deepEqual([event.code, event.wasClean], [1006, false]);
    } finally {
      await raw.close();
    }
  });

  it('handshakeTimeout bounds a server that never answers', async () => {
    const raw = await rawServer((socket) => socket.resume());
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${raw.port}/`, { handshakeTimeout: 300 });
      const error = nextEvent<ErrorEvent>(ws, 'error');
      // `closed` waits 8 s at most: a bound the 300 ms timeout meets however loaded the machine.
      const event = await closed(ws);
      assert.equal(event.code, 1006);
      assert.match((await error).message, /timed out/);
    } finally {
      await raw.close();
    }
  });
});

describe('WebSocket: event handler attributes', () => {
  it('on* run in listener order, keep their place when replaced, and stop when set to null', async () => {
    const ws = new WebSocket(echo.url);
    const order: string[] = [];
    ws.addEventListener('open', () => order.push('listener 1'));
    ws.onopen = () => order.push('handler A');
    ws.addEventListener('open', () => order.push('listener 2'));
    ws.onopen = () => order.push('handler B'); // replaces A in A's place
    assert.equal(typeof ws.onopen, 'function');
    ws.onmessage = () => order.push('message');
    ws.onmessage = null;
    assert.equal(ws.onmessage, null);
    ws.onerror = 'not a function' as never;
    assert.equal(ws.onerror, null);
    const closeSeen = deferred<unknown>();
    ws.onclose = function (this: WebSocket, event) {
      closeSeen.resolve([this === ws, (event as CloseEvent).code]);
    };
    await nextEvent(ws, 'open');
    ws.send('echo me');
    await sleep(100);
    ws.close(1000);
    assert.deepEqual(await within(5000, 'onclose', closeSeen.promise), [true, 1000]);
    assert.deepEqual(order, ['listener 1', 'handler B', 'listener 2']);
  });
});

describe('WebSocket: Node options', () => {
  it('sends extra headers and takes options as the second argument', async () => {
    const ws = new WebSocket(`${echo.url}with-headers`, {
      headers: { 'X-Custom': 'yes', Authorization: 'Bearer t0ken' },
      protocols: ['chat.v1'],
    });
    await nextEvent(ws, 'open');
    assert.equal(ws.protocol, 'chat.v1');
    const seen = echo.upgrades.find((u) => u.path === '/with-headers');
    assert.equal(seen?.headers['x-custom'], 'yes');
    assert.equal(seen?.headers.authorization, 'Bearer t0ken');
    ws.close();
    await closed(ws);
  });

  it('signal aborts the opening handshake like close() does; after open it has no effect', async () => {
    const silent = await rawServer((socket) => socket.resume());
    try {
      const controller = new AbortController();
      const ws = new WebSocket(`ws://127.0.0.1:${silent.port}/`, { signal: controller.signal });
      const log = record(ws, ['open', 'error', 'close']);
      setTimeout(() => controller.abort(), 30);
      const event = await closed(ws);
      assert.deepEqual(
        log.map(([type]) => type),
        ['error', 'close'],
      );
      assert.equal(event.code, 1006);
    } finally {
      await silent.close();
    }
    const controller = new AbortController();
    const ws = new WebSocket(echo.url, { signal: controller.signal });
    await nextEvent(ws, 'open');
    controller.abort();
    await sleep(50);
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.close();
    await closed(ws);
  });

  it('with pingInterval, pongs keep the connection, and the first ping left unanswered ends it: error, then 1006', async () => {
    // The server answers the first 3 pings and not the 4th. What is checked is the count and
    // the order, not the time: the pong timeout is long so that a slow machine cannot make a
    // pong late.
    let pings = 0;
    const raw = await rawServer(async (socket) => {
      const { headers, rest } = await readRequest(socket);
      socket.write(acceptResponse(headers));
      let buffered = rest;
      socket.on('data', (chunk: Buffer) => {
        const { frames, rest: left } = readFrames(Buffer.concat([buffered, chunk]));
        buffered = left;
        for (const frame of frames) {
          if (frame.opcode !== 0x9) continue;
          pings++;
          if (pings <= 3) socket.write(serverFrame(0xa, frame.payload));
        }
      });
      socket.resume();
    });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${raw.port}/`, { pingInterval: 50, pongTimeout: 2000 });
      const log = record(ws, ['error', 'close'], (event) => event);
      await nextEvent(ws, 'open');
      await until(8000, 'the third ping', () => pings >= 3);
      assert.equal(log.length, 0, 'answered pings keep the connection');
      const event = await within(8000, 'the close event', nextEvent<CloseEvent>(ws, 'close'));
      assert.deepEqual([event.code, event.wasClean], [1006, false]);
      assert.deepEqual(
        log.map(([type]) => type),
        ['error', 'close'],
      );
      assert.ok((log[0][1] as ErrorEvent).error instanceof HeartbeatTimeoutError);
      assert.equal(pings, 4, 'one ping at a time: none sent while a pong is awaited');
    } finally {
      await raw.close();
    }
  });

  it('with pingInterval, a live server keeps the connection open', async () => {
    const ws = new WebSocket(echo.url, { pingInterval: 50, pongTimeout: 2000 });
    const log = record(ws, ['error', 'close']);
    await nextEvent(ws, 'open');
    const pingsBefore = echo.pings();
    await until(8000, 'five pings answered', () => echo.pings() >= pingsBefore + 5);
    assert.equal(ws.readyState, WebSocket.OPEN);
    assert.deepEqual(log, []);
    ws.close();
    assert.equal((await closed(ws)).wasClean, true);
  });
});
