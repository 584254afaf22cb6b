// HTTP CONNECT proxies: the client through a real tinyproxy on loopback (explicit URL, 'env',
// NO_PROXY, Basic credentials, wss:// through the tunnel, the CLI's --proxy), and the
// environment rules as plain functions.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bypassesProxy, proxyFromEnv, resolveProxy } from '../../src/client/proxy.js';
import { type CloseEvent, dial, ProxyError, WebSocket } from '../../src/index.js';
import { Peer } from '../shared/peer.js';
import {
  CLI,
  type EchoServer,
  echoServer,
  FIXTURES,
  freePort,
  NODE,
  nextEvent,
  sleep,
  within,
} from './helpers.js';

function findTinyproxy(): string | undefined {
  const which = spawnSync('sh', ['-c', 'command -v tinyproxy'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim() !== '') return which.stdout.trim();
  return ['/usr/bin/tinyproxy', '/usr/sbin/tinyproxy'].find((path) => existsSync(path));
}

const TINYPROXY = findTinyproxy();
const tinyproxy = new Peer('tinyproxy', TINYPROXY !== undefined, 'apt-get install tinyproxy');

interface Tinyproxy {
  url: string;
  port: number;
  /** Tunnels the proxy reported, as host:port (from its log). */
  connects(): string[];
  stop(): Promise<void>;
}

/** Starts tinyproxy on a free loopback port with a temporary config (it cannot pick a port itself). */
async function startTinyproxy(extraConfig = ''): Promise<Tinyproxy> {
  if (TINYPROXY === undefined) throw new Error('tinyproxy is not installed (apt-get install tinyproxy)');
  const dir = mkdtempSync(join(tmpdir(), 'wsx-tinyproxy-'));
  const port = await freePort();
  const log = join(dir, 'tinyproxy.log');
  writeFileSync(
    join(dir, 'tinyproxy.conf'),
    [
      `Port ${port}`,
      'Listen 127.0.0.1',
      'Timeout 30',
      'MaxClients 50',
      'Allow 127.0.0.1',
      'LogLevel Info',
      `LogFile "${log}"`,
      `PidFile "${join(dir, 'tinyproxy.pid')}"`,
      'DisableViaHeader Yes',
      extraConfig,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(TINYPROXY, ['-d', '-c', join(dir, 'tinyproxy.conf')], {
    stdio: 'ignore',
  });
  const exited = once(child, 'exit');
  // Ready when it accepts connections.
  const deadline = Date.now() + 5000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const probe = netConnect(port, '127.0.0.1');
      probe.once('connect', () => {
        probe.destroy();
        resolve(true);
      });
      probe.once('error', () => resolve(false));
    });
    if (ok) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('tinyproxy did not start');
    await sleep(25);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    connects() {
      const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
      return [...text.matchAll(/CONNECT (\S+) HTTP/g)].map((match) => match[1]);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const PROXY_VARIABLES = ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY'].flatMap((name) => [
  name,
  name.toLowerCase(),
]);

/** Runs `fn` with the proxy variables set to `values` only, then puts them back. */
async function withProxyEnv<T>(values: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = new Map(PROXY_VARIABLES.map((name) => [name, process.env[name]]));
  for (const name of PROXY_VARIABLES) delete process.env[name];
  Object.assign(process.env, values);
  try {
    return await fn();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

describe('proxy environment rules', () => {
  it('NO_PROXY matches hosts, subdomains, IPs, ports and *', () => {
    assert.equal(bypassesProxy('example.com', 443, 'example.com'), true);
    assert.equal(bypassesProxy('api.example.com', 443, '.example.com'), true);
    assert.equal(bypassesProxy('api.example.com', 443, 'example.com'), true);
    assert.equal(bypassesProxy('api.example.com', 443, '*.example.com'), true);
    assert.equal(bypassesProxy('notexample.com', 443, 'example.com'), false);
    assert.equal(bypassesProxy('127.0.0.1', 80, 'localhost, 127.0.0.1'), true);
    assert.equal(bypassesProxy('example.com', 8080, 'example.com:8080'), true);
    assert.equal(bypassesProxy('example.com', 443, 'example.com:8080'), false);
    assert.equal(bypassesProxy('::1', 80, '[::1]'), true);
    assert.equal(bypassesProxy('anything', 1, '*'), true);
    assert.equal(bypassesProxy('example.com', 443, ''), false);
  });

  it('picks https_proxy for wss:, http_proxy for ws:, then all_proxy; lower case first', () => {
    const env = {
      HTTPS_PROXY: 'http://secure-proxy:3128',
      http_proxy: 'plain-proxy:8080',
      HTTP_PROXY: 'http://ignored:1',
      NO_PROXY: 'internal.example',
    };
    const wss = { secure: true, hostname: 'example.com', port: 443 };
    const ws = { secure: false, hostname: 'example.com', port: 80 };
    assert.equal(proxyFromEnv(wss, env)?.href, 'http://secure-proxy:3128/');
    assert.equal(proxyFromEnv(ws, env)?.href, 'http://plain-proxy:8080/');
    assert.equal(proxyFromEnv({ ...ws, hostname: 'a.internal.example' }, env), null);
    assert.equal(proxyFromEnv(ws, { ALL_PROXY: 'http://all:1' })?.host, 'all:1');
    assert.equal(proxyFromEnv(ws, {}), null);
    assert.equal(resolveProxy(undefined, ws, env), null);
    assert.equal(resolveProxy('http://explicit:9', ws, env)?.host, 'explicit:9');
    assert.throws(() => resolveProxy('socks5://x:1', ws, env), /http: or https:/);
  });
});

describe('through tinyproxy', () => {
  let proxy: Tinyproxy;
  let authProxy: Tinyproxy;
  let echo: EchoServer;
  let secureEcho: EchoServer;
  before(async () => {
    if (!tinyproxy.available) return;
    [proxy, authProxy, echo, secureEcho] = await Promise.all([
      startTinyproxy(),
      startTinyproxy('BasicAuth wsx s3cr3t'),
      echoServer(),
      echoServer({
        tls: { cert: readFileSync(join(FIXTURES, 'cert.pem')), key: readFileSync(join(FIXTURES, 'key.pem')) },
      }),
    ]);
  });
  after(async () => {
    await Promise.all([proxy?.stop(), authProxy?.stop(), echo?.close(), secureEcho?.close()]);
  });

  async function roundTrip(ws: WebSocket, text: string): Promise<string> {
    await within(5000, 'open', nextEvent(ws, 'open'));
    const reply = nextEvent<MessageEvent>(ws, 'message');
    ws.send(text);
    const data = (await within(5000, 'the echo', reply)).data as string;
    ws.close();
    await within(5000, 'close', nextEvent(ws, 'close'));
    return data;
  }

  tinyproxy.it('tunnels ws:// through an explicit proxy', async () => {
    const ws = new WebSocket(echo.url, { proxy: proxy.url });
    assert.equal(await roundTrip(ws, 'via proxy'), 'via proxy');
    assert.ok(proxy.connects().includes(`127.0.0.1:${echo.port}`), `proxy log: ${proxy.connects()}`);
  });

  tinyproxy.it(
    "tunnels wss:// (TLS to the server inside the tunnel), with proxy: 'env' and HTTPS_PROXY",
    async () => {
      await withProxyEnv({ HTTPS_PROXY: proxy.url }, async () => {
        const ws = new WebSocket(secureEcho.url, {
          proxy: 'env',
          tls: { ca: readFileSync(join(FIXTURES, 'cert.pem')) },
        });
        assert.equal(await roundTrip(ws, 'secure via proxy'), 'secure via proxy');
        assert.ok(proxy.connects().includes(`127.0.0.1:${secureEcho.port}`));
      });
    },
  );

  tinyproxy.it("proxy: 'env' honours NO_PROXY and HTTP_PROXY", async () => {
    const before = proxy.connects().length;
    await withProxyEnv({ HTTP_PROXY: proxy.url, NO_PROXY: 'localhost,127.0.0.1' }, async () => {
      assert.equal(await roundTrip(new WebSocket(echo.url, { proxy: 'env' }), 'direct'), 'direct');
    });
    assert.equal(proxy.connects().length, before, 'NO_PROXY bypassed the proxy');
    await withProxyEnv({ HTTP_PROXY: proxy.url }, async () => {
      assert.equal(await roundTrip(new WebSocket(echo.url, { proxy: 'env' }), 'proxied'), 'proxied');
    });
    assert.equal(proxy.connects().length, before + 1);
  });

  tinyproxy.it(
    'sends Basic credentials from the proxy URL; without them the proxy refuses with 407',
    async () => {
      await assert.rejects(dial(echo.url, { proxy: authProxy.url }), (error: unknown) => {
        assert.ok(error instanceof ProxyError);
        assert.equal(error.status, 407);
        return true;
      });
      const refused = new WebSocket(echo.url, { proxy: authProxy.url });
      refused.onerror = () => {};
      const closed = await within(5000, 'close', nextEvent<CloseEvent>(refused, 'close'));
      assert.deepEqual([closed.code, closed.wasClean], [1006, false]);
      const url = authProxy.url.replace('http://', 'http://wsx:s3cr3t@');
      assert.equal(await roundTrip(new WebSocket(echo.url, { proxy: url }), 'authorized'), 'authorized');
    },
  );

  tinyproxy.it('fails with a ProxyError when the proxy is not there', async () => {
    const port = await freePort();
    await assert.rejects(dial(echo.url, { proxy: `http://127.0.0.1:${port}` }), ProxyError);
  });

  tinyproxy.it('wsx connect --proxy sends and prints through the tunnel', async () => {
    const child = spawn(NODE, [CLI, 'connect', echo.url, '--proxy', proxy.url], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr!.resume();
    child.stdin!.end('through the cli\n');
    const [code] = await within(8000, 'wsx connect to exit', once(child, 'exit'));
    assert.equal(code, 0);
    assert.equal(out, 'through the cli\n');
  });
});
