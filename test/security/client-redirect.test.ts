// Redirects must never carry credentials to another host (the class of follow-redirects'
// CVE-2022-0155 / CVE-2022-0536 / CVE-2024-28849 and undici's CVE-2022-31151 / CVE-2023-45143 /
// CVE-2024-24758, and of ws's fix that drops Authorization and Cookie on cross-host redirects).
// `connect` does not follow redirects at all: a 3xx answer is reported as a HandshakeError
// carrying that status, and no second request is made, to the redirect target or anywhere else.
// `dial` (src/client/dial.ts, tested when it exists) follows them only with `followRedirects`,
// and then must drop Authorization, Cookie and Proxy-Authorization whenever the host, the port,
// the socket or TLS changes, and must not be sent from the network to a local unix socket.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type DialOptions, dial } from '../../src/client/dial.js';
import { connect, HandshakeError } from '../../src/index.js';
import { sleep } from './helpers.js';

interface RawServer {
  server: Server;
  port: number;
  /** Every request head received, in order. */
  requests: string[];
  connections: number;
}

/** A TCP server that answers every request head with `response(port)`. */
async function rawHttpServer(response: (self: RawServer) => string): Promise<RawServer> {
  const self: RawServer = { server: createNetServer(), port: 0, requests: [], connections: 0 };
  self.server.on('connection', (socket) => {
    self.connections++;
    let text = '';
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end === -1) return;
      self.requests.push(text.slice(0, end));
      text = text.slice(end + 4);
      socket.end(response(self));
    });
  });
  await new Promise<void>((resolve) => self.server.listen(0, '127.0.0.1', resolve));
  self.port = (self.server.address() as { port: number }).port;
  return self;
}

describe('the client does not follow redirects', () => {
  let target: RawServer;
  let redirector: RawServer;
  let status = 302;

  before(async () => {
    // The redirect target: another "host" (another port; `localhost` names it differently).
    target = await rawHttpServer(() => 'HTTP/1.1 500 Should Not Be Reached\r\nContent-Length: 0\r\n\r\n');
    redirector = await rawHttpServer(
      () =>
        `HTTP/1.1 ${status} Moved\r\nLocation: ws://localhost:${target.port}/stolen\r\n` +
        'Content-Length: 5\r\nConnection: close\r\n\r\nmoved',
    );
  });
  after(async () => {
    target.server.close();
    redirector.server.close();
  });

  for (const code of [301, 302, 303, 307, 308]) {
    it(`a ${code} to another host is a HandshakeError with status ${code}, and nothing is sent there`, async () => {
      status = code;
      const before0 = redirector.requests.length;
      const error = await connect(`ws://127.0.0.1:${redirector.port}/chat`, {
        headers: { Authorization: 'Bearer secret-token', Cookie: 'session=secret-cookie' },
        handshakeTimeout: 3000,
      }).then(
        () => assert.fail('the handshake should fail'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof HandshakeError, `got ${String(error)}`);
      assert.equal(error.status, code);
      // Give a redirect-following client time to make its second request.
      await sleep(100);
      assert.equal(redirector.requests.length, before0 + 1, 'exactly one request was made');
      assert.match(redirector.requests.at(-1)!, /^GET \/chat HTTP\/1\.1\r\n/);
      assert.equal(target.connections, 0, 'the redirect target was never contacted');
      assert.equal(target.requests.length, 0);
    });
  }

  it('a redirect to the same host is not followed either', async () => {
    const same = await rawHttpServer(
      (self) =>
        `HTTP/1.1 301 Moved\r\nLocation: ws://127.0.0.1:${self.port}/again\r\nContent-Length: 0\r\n\r\n`,
    );
    try {
      const error = await connect(`ws://127.0.0.1:${same.port}/first`, {
        headers: { Authorization: 'Bearer secret-token' },
        handshakeTimeout: 3000,
      }).then(
        () => assert.fail('the handshake should fail'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof HandshakeError);
      assert.equal(error.status, 301);
      await sleep(100);
      assert.equal(same.requests.length, 1);
      assert.equal(same.connections, 1);
    } finally {
      same.server.close();
    }
  });
});

describe('dial with followRedirects drops credentials across hosts', () => {
  const opened: RawServer[] = [];
  const CREDENTIALS = {
    AUTHORIZATION: 'Bearer secret-token',
    cookie: 'session=secret-cookie',
    'Proxy-Authorization': 'Basic c2VjcmV0',
    'X-Trace': 'kept',
  };

  after(() => {
    for (const server of opened) server.server.close();
  });

  async function server(answer: (self: RawServer) => string): Promise<RawServer> {
    const made = await rawHttpServer(answer);
    opened.push(made);
    return made;
  }

  async function attempt(url: string, options: DialOptions = {}): Promise<unknown> {
    return dial(url, {
      headers: CREDENTIALS,
      handshakeTimeout: 3000,
      followRedirects: true,
      ...options,
    }).then(
      (socket) => {
        socket.terminate();
        return null;
      },
      (error: unknown) => error,
    );
  }

  const hasCredentials = (head: string) => /^(authorization|cookie|proxy-authorization):/im.test(head);

  it('to another host: the next request carries no Authorization, Cookie or Proxy-Authorization', async () => {
    const target = await server(() => 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
    const origin = await server(
      () => `HTTP/1.1 302 Found\r\nLocation: ws://localhost:${target.port}/next\r\n\r\n`,
    );
    await attempt(`ws://127.0.0.1:${origin.port}/first`);
    assert.equal(origin.requests.length, 1);
    assert.ok(hasCredentials(origin.requests[0]), 'the first request had them');
    assert.equal(target.requests.length, 1, 'the redirect was followed');
    assert.ok(!hasCredentials(target.requests[0]), `credentials leaked:\n${target.requests[0]}`);
    assert.match(target.requests[0], /^X-Trace: kept$/m);
  });

  it('to the same host and port: credentials are kept', async () => {
    const same = await server((self) =>
      self.requests.length === 1
        ? `HTTP/1.1 301 Moved\r\nLocation: /second\r\n\r\n`
        : 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n',
    );
    await attempt(`ws://127.0.0.1:${same.port}/first`);
    assert.equal(same.requests.length, 2);
    assert.ok(hasCredentials(same.requests[1]));
  });

  it('to the same host name on another port: dropped', async () => {
    const target = await server(() => 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
    const origin = await server(
      () => `HTTP/1.1 307 Temporary\r\nLocation: ws://127.0.0.1:${target.port}/\r\n\r\n`,
    );
    await attempt(`ws://127.0.0.1:${origin.port}/`);
    assert.equal(target.requests.length, 1);
    assert.ok(!hasCredentials(target.requests[0]));
  });

  it('away and back again: still dropped on the way back', async () => {
    let originPort = 0;
    const away = await server(
      () => `HTTP/1.1 302 Found\r\nLocation: ws://127.0.0.1:${originPort}/back\r\n\r\n`,
    );
    const origin = await server((self) =>
      self.requests.length === 1
        ? `HTTP/1.1 302 Found\r\nLocation: ws://localhost:${away.port}/\r\n\r\n`
        : 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n',
    );
    originPort = origin.port;
    await attempt(`ws://127.0.0.1:${origin.port}/`);
    assert.equal(origin.requests.length, 2);
    assert.ok(!hasCredentials(away.requests[0]));
    assert.ok(!hasCredentials(origin.requests[1]), 'credentials came back after leaving the host');
  });

  it('a redirect loop ends after maxRedirects with a HandshakeError', async () => {
    const loop = await server(
      (self) => `HTTP/1.1 302 Found\r\nLocation: ws://127.0.0.1:${self.port}/again\r\n\r\n`,
    );
    const error = await attempt(`ws://127.0.0.1:${loop.port}/`, { maxRedirects: 3 });
    assert.ok(error instanceof HandshakeError);
    assert.equal(loop.requests.length, 4);
  });

  it('without followRedirects, dial makes one request', async () => {
    const target = await server(() => 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
    const origin = await server(
      () => `HTTP/1.1 302 Found\r\nLocation: ws://localhost:${target.port}/\r\n\r\n`,
    );
    const error = await attempt(`ws://127.0.0.1:${origin.port}/`, { followRedirects: false });
    assert.ok(error instanceof HandshakeError);
    assert.equal((error as HandshakeError).status, 302);
    assert.equal(target.connections, 0);
  });

  // A network server must not be able to send the client to a local unix socket (SSRF to
  // e.g. /var/run/docker.sock): curl refuses redirects to protocols other than the network
  // ones for the same reason.
  it('a redirect from ws:// to a ws+unix: socket is refused, and the socket never connected', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'wsx-redirect-'));
    const path = join(folder, 'trap.sock');
    let trapped = 0;
    const trap = createNetServer((socket) => {
      trapped++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => trap.listen(path, resolve));
    try {
      const origin = await server(() => `HTTP/1.1 302 Found\r\nLocation: ws+unix:${path}:/\r\n\r\n`);
      const error = await attempt(`ws://127.0.0.1:${origin.port}/`);
      assert.equal(trapped, 0, "the client connected to a local unix socket on a remote server's word");
      assert.ok(error instanceof HandshakeError, `got ${String(error)}`);
    } finally {
      trap.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
