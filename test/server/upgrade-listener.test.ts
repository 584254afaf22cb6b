// The lean path of listen(): request heads read by wsx's own reader on real sockets. Upgrade
// requests split across writes, limits, malformed heads, bodies, slowloris; requests that are
// not upgrades handed to the HTTP server intact (split heads, bodies, keep-alive, pipelining,
// an upgrade later on a kept-alive connection); the upgrade hook's IncomingMessage; and the
// same statuses as the Node-parser path for a corpus of requests.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Socket as NetSocket, connect as netConnect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createServer, reject, type WebSocketServer } from '../../src/index.js';
import { sleep, within } from './helpers.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

function upgrade(path = '/echo', extra = ''): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`
  );
}

/** A masked client text frame. */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = payload.map((byte, i) => byte ^ mask[i % 4]);
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

/** A connection that collects everything it receives. */
class Client {
  readonly socket: NetSocket;
  received = Buffer.alloc(0);
  readonly closed: Promise<void>;
  constructor(port: number) {
    this.socket = netConnect(port, '127.0.0.1');
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
    });
    this.socket.on('error', () => {});
    this.closed = new Promise((resolve) => this.socket.on('close', () => resolve()));
  }
  get text(): string {
    return this.received.toString('latin1');
  }
  /** Writes the parts with a pause between them, so that each arrives in its own read. */
  async writeSlowly(...parts: Array<string | Buffer>): Promise<void> {
    for (const part of parts) {
      this.socket.write(part);
      await sleep(20);
    }
  }
  until(what: string, test: (text: string) => boolean, ms = 3000): Promise<void> {
    return within(
      ms,
      what,
      new Promise<void>((resolve) => {
        const check = () => {
          if (test(this.text)) {
            this.socket.off('data', check);
            resolve();
          }
        };
        this.socket.on('data', check);
        this.socket.on('close', check);
        check();
      }),
    );
  }
}

function statusOf(text: string): number {
  const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
  return match === null ? 0 : Number(match[1]);
}

/** Sends `request` and resolves with the status of the answer (0: closed without one). */
async function statusFor(port: number, request: string | Buffer): Promise<number> {
  const client = new Client(port);
  client.socket.write(request);
  await client.until('an answer or a close', (text) => text.includes('\r\n\r\n'), 5000).catch(() => {});
  client.socket.destroy();
  return statusOf(client.text);
}

function countResponses(text: string): number {
  return text.split('HTTP/1.1 200 OK').length - 1;
}

/** A server with an echo route, a hook route, and an HTTP handler that echoes method, url and body. */
function makeServer(seen: { request?: IncomingMessage; refused?: NetSocket }) {
  const server = createServer({ handshakeTimeout: 1000 });
  server.route('/echo', {
    message(socket, data, isBinary) {
      if (isBinary) socket.sendBinary(data);
      else socket.sendText(data);
    },
  });
  server.route('/hook', {
    upgrade(context) {
      seen.request = context.request;
      return { data: null };
    },
  });
  // Decides later, while the client's first frames are already on their way.
  server.route('/slow-hook', {
    async upgrade(context) {
      await sleep(50);
      return { data: context.headers.single('x-tag') };
    },
    message(socket, data) {
      socket.sendText(`${socket.data as string}:${data.toString()}`);
    },
  });
  // Refuses after a wait, during which the connection is held (not read).
  server.route('/slow-refusal', {
    async upgrade(context) {
      seen.refused = context.request.socket as NetSocket;
      await sleep(20);
      return reject(401, { body: 'no' });
    },
  });
  const request = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = `${req.method} ${req.url} ${Buffer.concat(chunks).toString()}`;
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    });
  };
  return { server, request };
}

describe('listen(): upgrade requests read by wsx', () => {
  let server: WebSocketServer;
  let port: number;
  const seen: { request?: IncomingMessage; refused?: NetSocket } = {};

  before(async () => {
    const made = makeServer(seen);
    server = made.server;
    ({ port } = await server.listen({ port: 0, request: made.request }));
  });
  after(async () => {
    await server.close({ timeout: 500 });
  });

  it('upgrades a head split across several writes, with a frame in the last one', async () => {
    const client = new Client(port);
    const request = upgrade();
    await client.writeSlowly(
      request.slice(0, 3),
      request.slice(3, 40),
      request.slice(40, -3),
      Buffer.concat([Buffer.from(request.slice(-3)), textFrame('first')]),
    );
    await client.until('the echo', (text) => text.includes('first'));
    assert.equal(statusOf(client.text), 101);
    client.socket.write(textFrame('second'));
    await client.until('the second echo', (text) => text.includes('second'));
    client.socket.destroy();
  });

  it('upgrades a head sent one byte per write, field names in any case', async () => {
    // Its own server: 170 writes a few ms apart can take longer than the 1 s handshakeTimeout above.
    const own = createServer();
    own.route('/echo', { message: (socket, data) => socket.sendText(data) });
    const { port: ownPort } = await own.listen({ port: 0 });
    try {
      const client = new Client(ownPort);
      const request = upgrade('/echo', 'X-Other: 1\r\n')
        .replace('Sec-WebSocket-Key', 'sEC-wEBsOCKET-kEY')
        .replace('Connection', 'CONNECTION');
      for (const byte of request) {
        client.socket.write(byte);
        await sleep(2);
      }
      client.socket.write(textFrame('bytewise'));
      await client.until('the echo', (text) => text.includes('bytewise'));
      assert.equal(statusOf(client.text), 101);
      assert.match(client.text, /Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/);
      client.socket.destroy();
    } finally {
      await own.close({ timeout: 500 });
    }
  });

  it('takes frames sent right behind the head, in the same write, as the first messages', async () => {
    const client = new Client(port);
    client.socket.write(Buffer.concat([Buffer.from(upgrade()), textFrame('one'), textFrame('two')]));
    await client.until('both echoes', (text) => text.includes('two'));
    const text = client.text;
    assert.equal(statusOf(text), 101);
    assert.ok(text.indexOf('one') < text.indexOf('two'));
    client.socket.destroy();
  });

  it('holds frames that arrive while an async upgrade hook decides, then delivers them in order', async () => {
    const client = new Client(port);
    client.socket.write(Buffer.concat([Buffer.from(upgrade('/slow-hook', 'X-Tag: t\r\n')), textFrame('a')]));
    await sleep(10);
    client.socket.write(textFrame('b'));
    await client.until('both echoes', (text) => text.includes('t:b'));
    const text = client.text;
    assert.equal(statusOf(text), 101);
    assert.ok(text.indexOf('t:a') !== -1 && text.indexOf('t:a') < text.indexOf('t:b'));
    client.socket.destroy();
  });

  it('answers a refused upgrade though bytes follow its head, and goes on serving', async () => {
    const client = new Client(port);
    client.socket.write(Buffer.concat([Buffer.from(upgrade('/nowhere')), textFrame('ignored')]));
    await client.until('the answer', (text) => text.includes('\r\n\r\n'));
    assert.equal(statusOf(client.text), 404);
    client.socket.write('more bytes that nobody reads as a request');
    client.socket.end();
    await within(3000, 'the close', client.closed);
    assert.equal(await statusFor(port, upgrade()), 101);
  });

  it('reads on after an async hook refused, so that the connection ends when the client ends', async () => {
    const client = new Client(port);
    client.socket.write(upgrade('/slow-refusal'));
    await client.until('the answer', (text) => text.includes('\r\n\r\n'));
    assert.equal(statusOf(client.text), 401);
    const refused = seen.refused!;
    const ended = once(refused, 'end').then(() => 'end');
    // Without reading, the server would only drop the connection at its 2 s cut-off, never seeing the end.
    const closedFirst = once(refused, 'close').then(() => 'close without end');
    client.socket.end();
    assert.equal(await Promise.race([ended, closedFirst]), 'end');
  });

  it('gives the upgrade hook an IncomingMessage of the request', async () => {
    const client = new Client(port);
    client.socket.write(upgrade('/hook?x=1', 'X-Custom: a\r\nX-Custom: b\r\n'));
    await client.until('the 101', (text) => text.includes('\r\n\r\n'));
    assert.equal(statusOf(client.text), 101);
    const request = seen.request!;
    assert.equal(request.method, 'GET');
    assert.equal(request.url, '/hook?x=1');
    assert.equal(request.httpVersion, '1.1');
    assert.equal(request.headers.host, '127.0.0.1');
    assert.equal(request.headers['x-custom'], 'a, b');
    assert.equal(request.rawHeaders[0], 'Host');
    assert.equal(request.socket.remotePort, client.socket.localPort);
    client.socket.destroy();
  });

  it('refuses malformed heads with 400, large ones with 431, bodies with 400', async () => {
    assert.equal(await statusFor(port, 'GET / HTTP/1.1\r\nBad Name: x\r\n\r\n'), 400);
    assert.equal(await statusFor(port, 'GET / HTTP/1.1\nHost: a\n\n'), 400);
    assert.equal(await statusFor(port, upgrade('/echo', 'X-A: a\r\n folded\r\n')), 400);
    assert.equal(await statusFor(port, upgrade('/echo', `X-Big: ${'a'.repeat(17 * 1024)}\r\n`)), 431);
    let many = '';
    for (let i = 0; i < 96; i++) many += `x-${i}: v\r\n`;
    assert.equal(await statusFor(port, upgrade('/echo', many)), 431);
    assert.equal(await statusFor(port, upgrade('/echo', 'Content-Length: 5\r\n')), 400);
    assert.equal(await statusFor(port, upgrade('/echo', 'Transfer-Encoding: chunked\r\n')), 400);
    assert.equal(await statusFor(port, upgrade('/echo', 'Content-Length: 0\r\n')), 101);
  });

  it('answers the statuses of the RFC 6455 checks as before (404, 405, 426, 400)', async () => {
    assert.equal(await statusFor(port, upgrade('/nowhere')), 404);
    assert.equal(await statusFor(port, upgrade().replace('GET', 'POST')), 405);
    const version = await statusFor(port, upgrade().replace('Version: 13', 'Version: 8'));
    assert.equal(version, 426);
    assert.equal(await statusFor(port, upgrade().replace(KEY, 'short')), 400);
    assert.equal(await statusFor(port, upgrade('/echo', `Sec-WebSocket-Key: ${KEY}\r\n`)), 400);
  });

  it('cuts a slow head off with 408 once handshakeTimeout has passed, however many bytes still come', async (t) => {
    // The listener's deadline (Date.now() at accept + handshakeTimeout) and its sweep (every
    // quarter of handshakeTimeout) run on mocked time that the test advances: what is checked
    // is the order of sweeps, deadline and bytes, not a wall-clock bound.
    t.mock.timers.enable({ apis: ['Date', 'setInterval'], now: Date.now() });
    const own = makeServer({}).server;
    const { port: ownPort } = await own.listen({ port: 0 });
    try {
      const request = upgrade();
      const slow = new Client(ownPort);
      const onTime = new Client(ownPort);
      slow.socket.write(request.slice(0, 10));
      onTime.socket.write(request.slice(0, 10));
      // The server accepts connections in order: once it has upgraded this third one, it has
      // accepted the two above, at the mocked time that has not moved yet.
      const witness = new Client(ownPort);
      witness.socket.write(upgrade());
      await witness.until('the 101', (text) => text.includes('\r\n\r\n'));
      /** An echo on the witness: the server has read what the others sent before it. */
      const roundTrip = async (text: string) => {
        witness.socket.write(textFrame(text));
        await witness.until(`the echo of ${text}`, (received) => received.includes(text));
      };
      // Three sweeps, 750 ms of the 1000: a byte more on each head after each, nothing cut.
      for (let i = 0; i < 3; i++) {
        t.mock.timers.tick(250);
        slow.socket.write(request[10 + i]);
        onTime.socket.write(request[10 + i]);
        await roundTrip(`sweep ${i + 1}`);
      }
      assert.deepEqual([slow.text, onTime.text], ['', ''], 'no answer before handshakeTimeout');
      onTime.socket.write(request.slice(13));
      await onTime.until('the 101', (text) => text.includes('\r\n\r\n'));
      assert.equal(statusOf(onTime.text), 101, 'a head completed in time is upgraded');
      // The fourth sweep is at the deadline: the head still incomplete is cut, though it kept growing.
      t.mock.timers.tick(250);
      await within(5000, 'the cut-off', slow.closed);
      assert.equal(statusOf(slow.text), 408);
      for (const client of [onTime, witness]) client.socket.destroy();
    } finally {
      await own.close({ timeout: 500 });
    }
  });

  it('answers 400 to a head cut short by the end of the connection, and ends an empty connection', async () => {
    const half = new Client(port);
    half.socket.write('GET / HT');
    await sleep(20);
    half.socket.end();
    await within(2000, 'a close after a partial head', half.closed);
    assert.equal(statusOf(half.text), 400);

    const empty = new Client(port);
    await new Promise((resolve) => empty.socket.once('connect', resolve));
    empty.socket.end();
    await within(2000, 'a close of an empty connection', empty.closed);
    assert.equal(empty.text, '');
  });
});

describe('listen(): requests that are not upgrades go to the HTTP server', () => {
  let server: WebSocketServer;
  let port: number;

  before(async () => {
    const made = makeServer({});
    server = made.server;
    ({ port } = await server.listen({ port: 0, request: made.request }));
  });
  after(async () => {
    await server.close({ timeout: 500 });
  });

  it('serves a request whose head and body come in several writes', async () => {
    const client = new Client(port);
    await client.writeSlowly(
      'PO',
      'ST /publish/news HTTP/1.1\r\nHost: a\r\nContent-Le',
      'ngth: 11\r\n\r',
      '\nhello',
      ' world',
    );
    await client.until('the response', (text) => text.includes('world'));
    assert.equal(statusOf(client.text), 200);
    assert.ok(client.text.endsWith('POST /publish/news hello world'), client.text);
    client.socket.destroy();
  });

  it('serves pipelined requests, then more on the kept-alive connection, then an upgrade on it', async () => {
    const client = new Client(port);
    client.socket.write(
      'GET /stats HTTP/1.1\r\nHost: a\r\n\r\nGET /metrics HTTP/1.1\r\nHost: a\r\n\r\n' +
        'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi',
    );
    await client.until(
      'three responses',
      (text) => countResponses(text) === 3 && text.endsWith('POST /p hi'),
    );
    assert.match(client.text, /GET \/stats .*GET \/metrics .*POST \/p hi$/s);
    client.received = Buffer.alloc(0);
    await client.writeSlowly('GET /again HTTP/1.1\r\n', 'Host: a\r\n\r\n');
    await client.until('the fourth response', (text) => text.endsWith('GET /again '));
    client.received = Buffer.alloc(0);
    client.socket.write(Buffer.concat([Buffer.from(upgrade()), textFrame('upgraded later')]));
    await client.until('the echo', (text) => text.includes('upgraded later'));
    assert.equal(statusOf(client.text), 101);
    client.socket.destroy();
  });

  it('answers 426 by default to plain requests, and HTTP/1.0 and other methods reach the handler', async () => {
    const plain = createServer();
    const { port: plainPort } = await plain.listen({ port: 0 });
    try {
      assert.equal(await statusFor(plainPort, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'), 426);
      assert.equal(
        await statusFor(plainPort, 'GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n'),
        426,
      );
    } finally {
      await plain.close({ timeout: 100 });
    }
    assert.equal(await statusFor(port, 'GET /old HTTP/1.0\r\n\r\n'), 200);
    assert.equal(await statusFor(port, 'DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n'), 200);
  });

  it('lets a request with more fields than maxHeaders through (that limit is for upgrades)', async () => {
    let many = '';
    for (let i = 0; i < 150; i++) many += `x-${i}: v\r\n`;
    assert.equal(await statusFor(port, `GET / HTTP/1.1\r\nHost: a\r\n${many}\r\n`), 200);
  });
});

describe('listen(): the same answers as the Node-parser path', () => {
  const servers: WebSocketServer[] = [];
  const ports: number[] = [];

  before(async () => {
    for (const httpParser of [false, true]) {
      const made = makeServer({});
      servers.push(made.server);
      ports.push((await made.server.listen({ port: 0, request: made.request, httpParser })).port);
    }
  });
  after(async () => {
    for (const server of servers) await server.close({ timeout: 500 });
  });

  const corpus: Array<[string, string]> = [
    ['a valid upgrade', upgrade()],
    ['an upgrade to a path without a route', upgrade('/none')],
    ['an upgrade with a query', upgrade('/echo?a=b')],
    ['HEAD with upgrade fields', upgrade().replace('GET', 'HEAD')],
    ['HTTP/1.0 upgrade', upgrade().replace('HTTP/1.1', 'HTTP/1.0')],
    ['no Host', upgrade().replace('Host: 127.0.0.1\r\n', '')],
    ['two Hosts', upgrade('/echo', 'Host: b\r\n')],
    ['Upgrade: h2c', upgrade().replace('Upgrade: websocket', 'Upgrade: h2c')],
    ['two Upgrade fields', upgrade('/echo', 'Upgrade: websocket\r\n')],
    ['two versions', upgrade('/echo', 'Sec-WebSocket-Version: 13\r\n')],
    ['a bad subprotocol list', upgrade('/echo', 'Sec-WebSocket-Protocol: a b\r\n')],
    ['a bad extension offer', upgrade('/echo', 'Sec-WebSocket-Extensions: ;;\r\n')],
    [
      'upper-case tokens',
      upgrade().replace('websocket', 'WebSocket').replace('Upgrade\r\nSec', 'UPGRADE\r\nSec'),
    ],
    ['a plain GET', 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a plain POST', 'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx'],
    ['a NUL in a value', 'GET / HTTP/1.1\r\nHost: a\x00\r\n\r\n'],
    ['a space in a name', 'GET / HTTP/1.1\r\nHo st: a\r\n\r\n'],
    ['garbage', '\x16\x03\x01\x00\x05hello\r\n\r\n'],
    ['a head over 16 KiB', upgrade('/echo', `X-Big: ${'a'.repeat(20 * 1024)}\r\n`)],
    ['101 fields', upgrade('/echo', Array.from({ length: 96 }, (_, i) => `x-${i}: v\r\n`).join(''))],
  ];
  for (const [name, request] of corpus) {
    it(name, async () => {
      const [lean, http] = [await statusFor(ports[0], request), await statusFor(ports[1], request)];
      assert.notEqual(http, 0, "Node's parser answered with a status");
      assert.equal(lean, http, `wsx's reader answered ${lean}, Node's parser ${http}`);
    });
  }
});
