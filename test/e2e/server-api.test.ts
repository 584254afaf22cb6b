import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { connect, createServer, reject, type Socket, type WebSocketServer } from '../../src/index.js';
import { deferred, exchange, responseHead, upgradeRequest, within } from './helpers.js';

const fixtures = new URL('../../../test/fixtures/', import.meta.url);

function echo(socket: Socket, data: Buffer, isBinary: boolean): void {
  if (isBinary) socket.sendBinary(data);
  else socket.sendText(data);
}

/** Opens a `ws` client and resolves with the first message it gets back after sending `payload`. */
function roundTrip(
  url: string,
  payload: string,
  protocols?: string[],
): Promise<{ reply: string; protocol: string }> {
  return within(
    3000,
    `an echo from ${url}`,
    new Promise((resolve, rejectPromise) => {
      const client = new WebSocket(url, protocols);
      client.on('open', () => client.send(payload));
      client.on('message', (data) => {
        resolve({ reply: data.toString(), protocol: client.protocol });
        client.close();
      });
      client.on('error', rejectPromise);
    }),
  );
}

describe('server routes and upgrade hook', () => {
  let server: WebSocketServer;
  let port: number;
  const seen: Array<{ path: string; data: unknown; params: unknown }> = [];
  const reported: Array<{ message: string; handler: string | undefined; path: string | undefined }> = [];

  before(async () => {
    server = createServer({
      origins: ['https://allowed.example'],
      onError: (error, context) =>
        reported.push({ message: error.message, handler: context.handler, path: context.path }),
    });
    server
      .route('/echo', { message: echo })
      .route<{ room: string }>('/rooms/:room', {
        upgrade: (context) => ({ data: { room: context.params.room } }),
        message(socket, data) {
          seen.push({ path: socket.url, data: socket.data, params: data.toString() });
          socket.sendText(`room ${socket.data.room}: ${data.toString()}`);
        },
      })
      .route('/private', {
        upgrade: async (context) => {
          await new Promise((resolve) => setTimeout(resolve, 10));
          if (context.headers.single('authorization') !== 'Bearer secret') {
            return reject(401, { body: 'token required', headers: { 'WWW-Authenticate': 'Bearer' } });
          }
          return { data: 'ok' };
        },
        message: echo,
      })
      .route('/chat', { protocols: ['chat.v2', 'chat.v1'], message: echo })
      .route('/crash', {
        message() {
          throw new Error('handler bug');
        },
      })
      .route('/files/*', { message: echo });
    ({ port } = await server.listen({ port: 0 }));
  });
  after(() => server.close());

  it('routes exact paths and wildcards', async () => {
    assert.equal((await roundTrip(`ws://127.0.0.1:${port}/echo`, 'a')).reply, 'a');
    assert.equal((await roundTrip(`ws://127.0.0.1:${port}/files/x/y`, 'b')).reply, 'b');
  });

  it('gives upgrade-hook data and path parameters to the socket', async () => {
    const { reply } = await roundTrip(`ws://127.0.0.1:${port}/rooms/blue%20sky?x=1`, 'hi');
    assert.equal(reply, 'room blue sky: hi');
    assert.deepEqual(seen.at(-1)?.data, { room: 'blue sky' });
  });

  it('answers 404 for a path without a route', async () => {
    const response = await exchange(port, upgradeRequest('/nowhere'));
    assert.match(response, /^HTTP\/1\.1 404 /);
  });

  it('lets the upgrade hook reject with 401, a body and headers', async () => {
    const response = await exchange(port, upgradeRequest('/private'));
    assert.match(response, /^HTTP\/1\.1 401 Unauthorized\r\n/);
    assert.match(response, /\r\nWWW-Authenticate: Bearer\r\n/);
    assert.match(response, /\r\n\r\ntoken required\n$/);
  });

  it('accepts the upgrade when the hook approves', async () => {
    const { head, close } = await responseHead(
      port,
      upgradeRequest('/private', { Authorization: 'Bearer secret' }),
    );
    close();
    assert.match(head, /^HTTP\/1\.1 101 Switching Protocols/);
    assert.match(head, /\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/);
  });

  it('answers 426 with Sec-WebSocket-Version: 13 to other versions', async () => {
    const response = await exchange(port, upgradeRequest('/echo', { 'Sec-WebSocket-Version': '8' }));
    assert.match(response, /^HTTP\/1\.1 426 Upgrade Required\r\n/);
    assert.match(response, /\r\nSec-WebSocket-Version: 13\r\n/);
  });

  it('answers 400 to a malformed key and to a missing Upgrade token', async () => {
    assert.match(
      await exchange(port, upgradeRequest('/echo', { 'Sec-WebSocket-Key': 'short' })),
      /^HTTP\/1\.1 400 /,
    );
    assert.match(
      await exchange(port, upgradeRequest('/echo', { Connection: 'keep-alive, Upgrade', Upgrade: 'h2c' })),
      /^HTTP\/1\.1 400 /,
    );
  });

  it('accepts Upgrade and Connection as case-insensitive tokens in lists', async () => {
    const { head, close } = await responseHead(
      port,
      upgradeRequest('/echo', { Connection: 'keep-alive, UPGRADE', Upgrade: 'WebSocket' }),
    );
    close();
    assert.match(head, /^HTTP\/1\.1 101 /);
  });

  it('selects the client-preferred subprotocol that the route supports, or none', async () => {
    assert.equal(
      (await roundTrip(`ws://127.0.0.1:${port}/chat`, 'x', ['chat.v1', 'chat.v2'])).protocol,
      'chat.v1',
    );
    const { head, close } = await responseHead(
      port,
      upgradeRequest('/chat', { 'Sec-WebSocket-Protocol': 'other' }),
    );
    close();
    assert.doesNotMatch(head, /Sec-WebSocket-Protocol/i);
  });

  it('refuses origins outside the allowlist with 403', async () => {
    const response = await exchange(port, upgradeRequest('/echo', { Origin: 'https://evil.example' }));
    assert.match(response, /^HTTP\/1\.1 403 /);
    const { head, close } = await responseHead(
      port,
      upgradeRequest('/echo', { Origin: 'https://allowed.example' }),
    );
    close();
    assert.match(head, /^HTTP\/1\.1 101 /);
  });

  it('fails the connection with 1011 when a handler throws, without leaking details', async () => {
    const closed = deferred<{ code: number; reason: string }>();
    const client = new WebSocket(`ws://127.0.0.1:${port}/crash`);
    client.on('open', () => client.send('boom'));
    client.on('close', (code, reason) => closed.resolve({ code, reason: reason.toString() }));
    const { code, reason } = await within(3000, 'the 1011 close', closed.promise);
    assert.equal(code, 1011);
    assert.equal(reason, '');
    assert.deepEqual(reported, [{ message: 'handler bug', handler: 'message', path: '/crash' }]);
  });

  it('counts open connections', async () => {
    const client = await connect(`ws://127.0.0.1:${port}/echo`);
    await within(
      2000,
      'the server to see the socket',
      waitFor(() => server.connections >= 1),
    );
    client.close();
  });
});

describe('server lifecycle', () => {
  it('attaches to an existing http server, which keeps serving plain requests', async () => {
    const http = createHttpServer((_request, response) => response.end('plain'));
    const server = createServer().attach(http).route('/ws', { message: echo });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;
    try {
      assert.equal((await roundTrip(`ws://127.0.0.1:${port}/ws`, 'attached')).reply, 'attached');
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'plain');
    } finally {
      await server.close();
      await new Promise((resolve) => http.close(resolve));
    }
  });

  it('takes upgrades from a framework through handleUpgrade', async () => {
    const server = createServer().route('/*', { message: echo });
    const http = createHttpServer();
    http.on('upgrade', (request, socket, head) => server.handleUpgrade(request, socket, head));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;
    try {
      assert.equal((await roundTrip(`ws://127.0.0.1:${port}/any`, 'hooked')).reply, 'hooked');
    } finally {
      await server.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    }
  });

  it('serves wss:// over TLS', async () => {
    const server = createServer().route('/*', { message: echo });
    const { port } = await server.listen({
      port: 0,
      tls: {
        cert: readFileSync(new URL('cert.pem', fixtures)),
        key: readFileSync(new URL('key.pem', fixtures)),
      },
    });
    try {
      const reply = deferred<string>();
      const client = await connect(`wss://localhost:${port}/`, {
        tls: { ca: readFileSync(new URL('cert.pem', fixtures)) },
        handlers: { message: (_socket, data) => reply.resolve(data.toString()) },
      });
      client.sendText('secure');
      assert.equal(await within(3000, 'the wss echo', reply.promise), 'secure');
      client.close();
    } finally {
      await server.close();
    }
  });

  it('closes every socket with 1001 on shutdown and waits for the closing handshakes', async () => {
    const server = createServer().route('/*', { message: echo });
    const { port } = await server.listen({ port: 0 });
    const codes: number[] = [];
    const clients = await Promise.all(
      Array.from({ length: 5 }, () =>
        connect(`ws://127.0.0.1:${port}/`, { handlers: { close: (_socket, code) => codes.push(code) } }),
      ),
    );
    await within(5000, 'shutdown', server.close());
    await within(
      2000,
      'every client to close',
      waitFor(() => codes.length === 5),
    );
    assert.deepEqual(codes, [1001, 1001, 1001, 1001, 1001]);
    assert.ok(clients.every((client) => client.wasClean));
    assert.equal(server.connections, 0);
  });

  it('reports dropped sends after close and validates close codes', async () => {
    const server = createServer().route('/*', {});
    const { port } = await server.listen({ port: 0 });
    try {
      const client = await connect(`ws://127.0.0.1:${port}/`);
      assert.throws(() => client.close(1005), /cannot be sent/);
      assert.throws(() => client.close(1000, 'x'.repeat(124)), /123/);
      assert.equal(client.sendText('before'), 'sent');
      client.close(1000, 'done');
      assert.equal(client.sendText('after'), 'dropped');
    } finally {
      await server.close();
    }
  });
});

function waitFor(condition: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (condition() ? resolve() : setTimeout(check, 5));
    check();
  });
}
