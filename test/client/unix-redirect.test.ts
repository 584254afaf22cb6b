// ws+unix: URLs against a server on a real unix socket, and redirects (opt-in, bounded,
// credentials dropped across hosts) against real servers on two loopback addresses.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CloseEvent, createServer, dial, HandshakeError, WebSocket } from '../../src/index.js';
import { CLI, type EchoServer, echoServer, NODE, nextEvent, within } from './helpers.js';

async function echoOnce(ws: WebSocket, text: string): Promise<string> {
  await within(5000, 'open', nextEvent(ws, 'open'));
  const reply = nextEvent<MessageEvent>(ws, 'message');
  ws.send(text);
  const data = (await within(5000, 'the echo', reply)).data as string;
  ws.close();
  await within(5000, 'close', nextEvent(ws, 'close'));
  return data;
}

describe('ws+unix: URLs', () => {
  let dir: string;
  let socketPath: string;
  let http: HttpServer;
  const paths: string[] = [];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wsx-unix-'));
    socketPath = join(dir, 'echo.sock');
    const server = createServer();
    server.route('/*', {
      upgrade({ path, query }) {
        paths.push(`${path}${query.size > 0 ? `?${query}` : ''}`);
        return {};
      },
      message: (socket, data, isBinary) => (isBinary ? socket.sendBinary(data) : socket.sendText(data)),
    });
    http = createHttpServer();
    server.attach(http);
    http.listen(socketPath);
    await once(http, 'listening');
  });
  after(async () => {
    http.closeAllConnections();
    http.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects over the unix socket with the request path after the colon', async () => {
    const ws = new WebSocket(`ws+unix:${socketPath}:/chat/room?user=ann`);
    assert.equal(await echoOnce(ws, 'over a unix socket'), 'over a unix socket');
    assert.equal(paths.at(-1), '/chat/room?user=ann');
  });

  it('uses / when the URL has no request path', async () => {
    const socket = await dial(`ws+unix://${socketPath}`);
    assert.equal(socket.readyState, 'open');
    socket.close();
    assert.equal(paths.at(-1), '/');
  });

  it('fails with error and close 1006 when nothing listens on the path', async () => {
    const ws = new WebSocket(`ws+unix:${join(dir, 'missing.sock')}:/`);
    const log: string[] = [];
    ws.onerror = () => log.push('error');
    const closed = await within(5000, 'close', nextEvent<CloseEvent>(ws, 'close'));
    assert.deepEqual([log, closed.code], [['error'], 1006]);
  });

  it('wsx connect takes a ws+unix: URL', async () => {
    const child = spawn(NODE, [CLI, 'connect', `ws+unix:${socketPath}:/cli`], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr!.resume();
    child.stdin!.end('unix line\n');
    const [code] = await within(8000, 'wsx connect to exit', once(child, 'exit'));
    assert.deepEqual([code, out], [0, 'unix line\n']);
    assert.equal(paths.at(-1), '/cli');
  });
});

describe('redirects', () => {
  let target: EchoServer; // on 127.0.0.1
  let otherHost: EchoServer; // on 127.0.0.2: another host
  let redirector: HttpServer;
  let base: string;
  /** Headers of the upgrades the redirector's own WebSocket endpoint accepted, by path. */
  const local = new Map<string, Record<string, string | undefined>>();
  before(async () => {
    [target, otherHost] = await Promise.all([echoServer(), echoServer({ host: '127.0.0.2' })]);
    const endpoint = createServer();
    endpoint.route('/*', {
      upgrade({ path, headers }) {
        local.set(path, {
          authorization: headers.list('authorization'),
          cookie: headers.list('cookie'),
          'x-custom': headers.list('x-custom'),
        });
        return {};
      },
      message: (socket, data, isBinary) => (isBinary ? socket.sendBinary(data) : socket.sendText(data)),
    });
    // Answers upgrade requests on /go/STATUS?to=URL with that status and Location; other
    // paths are a WebSocket echo on the same host and port.
    redirector = createHttpServer();
    redirector.on('upgrade', (request, socket, head) => {
      const url = new URL(request.url ?? '/', 'http://x');
      if (!url.pathname.startsWith('/go/')) {
        endpoint.handleUpgrade(request, socket, head);
        return;
      }
      const status = Number(url.pathname.split('/')[2] ?? 302);
      const location = url.searchParams.get('to');
      socket.end(
        `HTTP/1.1 ${status} Redirect\r\n${location === null ? '' : `Location: ${location}\r\n`}Content-Length: 0\r\n\r\n`,
      );
    });
    redirector.listen(0, '127.0.0.1');
    await once(redirector, 'listening');
    base = `ws://127.0.0.1:${(redirector.address() as { port: number }).port}`;
  });
  after(async () => {
    redirector.closeAllConnections();
    redirector.close();
    await Promise.all([target.close(), otherHost.close()]);
  });

  const credentials = { Authorization: 'Bearer secret', Cookie: 'session=1', 'X-Custom': 'kept' };

  it('are not followed by default: the handshake fails with the status and Location', async () => {
    const to = `${target.url}final`;
    await assert.rejects(dial(`${base}/go/302?to=${encodeURIComponent(to)}`), (error: unknown) => {
      assert.ok(error instanceof HandshakeError);
      assert.equal(error.status, 302);
      assert.equal(error.headers.location, to);
      return true;
    });
    const ws = new WebSocket(`${base}/go/301?to=${encodeURIComponent(to)}`);
    ws.onerror = () => {};
    const closed = await within(5000, 'close', nextEvent<CloseEvent>(ws, 'close'));
    assert.deepEqual([closed.code, closed.wasClean], [1006, false]);
  });

  it('followRedirects follows to the same host and port, keeping credentials', async () => {
    const ws = new WebSocket(`${base}/go/307?to=${encodeURIComponent('/same-host')}`, {
      followRedirects: true,
      headers: credentials,
    });
    assert.equal(await echoOnce(ws, 'redirected'), 'redirected');
    assert.deepEqual(local.get('/same-host'), {
      authorization: 'Bearer secret',
      cookie: 'session=1',
      'x-custom': 'kept',
    });
  });

  it('drops Authorization and Cookie when a redirect changes port', async () => {
    const to = `${target.url}other-port`;
    const socket = await dial(`${base}/go/302?to=${encodeURIComponent(to)}`, {
      followRedirects: true,
      headers: credentials,
    });
    socket.close();
    const seen = target.upgrades.find((upgrade) => upgrade.path === '/other-port');
    assert.deepEqual(
      [seen?.headers.authorization, seen?.headers.cookie, seen?.headers['x-custom']],
      [undefined, undefined, 'kept'],
    );
  });

  it('drops Authorization and Cookie when a redirect changes host', async () => {
    const to = `${otherHost.url}other-host`;
    const socket = await dial(`${base}/go/308?to=${encodeURIComponent(to)}`, {
      followRedirects: true,
      headers: credentials,
    });
    socket.close();
    const seen = otherHost.upgrades.find((upgrade) => upgrade.path === '/other-host');
    assert.ok(seen);
    assert.equal(seen.headers.authorization, undefined);
    assert.equal(seen.headers.cookie, undefined);
    assert.equal(seen.headers['x-custom'], 'kept');
  });

  it('resolves relative locations and maps http(s) to ws(s)', async () => {
    const to = `http://127.0.0.1:${target.port}/from-http`;
    const hop = `/go/301?to=${encodeURIComponent(to)}`;
    const socket = await dial(`${base}/go/303?to=${encodeURIComponent(hop)}`, { followRedirects: true });
    socket.close();
    assert.ok(target.upgrades.some((upgrade) => upgrade.path === '/from-http'));
  });

  it('stops at maxRedirects, and fails on a redirect without Location', async () => {
    const loop = `${base}/go/302?to=${encodeURIComponent('/go/302?to=%2Fgo%2F302')}`;
    await assert.rejects(dial(loop, { followRedirects: true, maxRedirects: 2 }), (error: unknown) => {
      assert.ok(error instanceof HandshakeError);
      assert.equal(error.status, 302);
      assert.match(error.message, /too many redirects/);
      return true;
    });
    await assert.rejects(dial(`${base}/go/302`, { followRedirects: true }), /without a Location/);
    await assert.rejects(
      dial(`${base}/go/302?to=${encodeURIComponent('ftp://example.com/')}`, { followRedirects: true }),
      /unusable URL/,
    );
  });
});
