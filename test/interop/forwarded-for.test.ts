// The client's address behind real nginx and HAProxy (`trustProxy`, `proxyHeader`, and
// `wsx serve --trust-proxy`). Every connection here is on loopback, so each party gets an
// address of its own in 127.0.0.0/8: clients connect from CLIENT (or OTHER_CLIENT), the proxy
// connects to wsx from PROXY, and wsx can tell them apart. The parsing rules themselves:
// test/server/forwarded.test.ts.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type Socket as NetSocket, connect as netConnect } from 'node:net';
import { after, describe, it } from 'node:test';
import { createServer, type ServerOptions, type WebSocketServer } from '../../src/index.js';
import { killAll, wsx } from './helpers.js';
import type { ProxyRoute } from './proxy-configs.js';
import { type ProxyKind, peers, ReverseProxy } from './reverse-proxy.js';
import { WsxClient } from './wsx-peer.js';

const CLIENT = '127.0.0.2';
const PROXY = '127.0.0.3';
const OTHER_CLIENT = '127.0.0.4';
const SPOOFED = '203.0.113.9';

const PROXIES: readonly { kind: ProxyKind; header: 'x-forwarded-for' | 'forwarded' }[] = [
  { kind: 'nginx', header: 'x-forwarded-for' },
  { kind: 'nginx', header: 'forwarded' },
  { kind: 'haproxy', header: 'x-forwarded-for' },
  { kind: 'haproxy', header: 'forwarded' },
];

interface Seen {
  /** What the upgrade hook was given, and what the socket says. */
  hook: string;
  address: string;
  port: number;
  /** The forwarding headers as they reached wsx. */
  headers: string;
}

const servers: WebSocketServer[] = [];
const proxies: ReverseProxy[] = [];

after(async () => {
  await Promise.all(servers.map((server) => server.close({ timeout: 1_000 })));
  await Promise.all(proxies.map((proxy) => proxy.stop()));
  await killAll();
});

/** A server whose sockets first send what it saw of the client's address. */
async function startServer(options: ServerOptions): Promise<number> {
  const server = createServer(options);
  servers.push(server);
  server.route<Pick<Seen, 'hook' | 'headers'>>('/*', {
    upgrade: ({ remoteAddress, headers }) => ({
      data: {
        hook: remoteAddress,
        headers: `${headers.list('x-forwarded-for')} | ${headers.list('forwarded')}`,
      },
    }),
    open: (ws) => ws.sendText(JSON.stringify({ ...ws.data, address: ws.remoteAddress, port: ws.remotePort })),
  });
  return (await server.listen({ port: 0, host: '127.0.0.1' })).port;
}

async function startProxy(kind: ProxyKind, route: ProxyRoute): Promise<ReverseProxy> {
  const proxy = await ReverseProxy.start(kind, { bindAddress: PROXY, ...route });
  proxies.push(proxy);
  return proxy;
}

/** A TCP connection to `port` from the local address `from`. */
async function connectFrom(from: string, port: number): Promise<NetSocket> {
  const socket = netConnect({ port, host: '127.0.0.1', localAddress: from });
  await once(socket, 'connect');
  return socket;
}

/** Opens a WebSocket from `from` (sending `headers`), and returns what the server saw. */
async function seenFrom(port: number, from: string, headers: Record<string, string> = {}) {
  const transport = await connectFrom(from, port);
  const client = await WsxClient.connect(`ws://127.0.0.1:${port}/`, { transport, headers });
  const seen = JSON.parse((await client.messages.next('what the server saw')).data.toString()) as Seen;
  client.socket.close();
  return { seen, localPort: transport.localPort! };
}

for (const { kind, header } of PROXIES) {
  const peer = peers[kind];
  const spoof: Record<string, string> =
    header === 'forwarded' ? { Forwarded: `for=${SPOOFED}` } : { 'X-Forwarded-For': SPOOFED };

  describe(`the client's address behind ${kind} (${header})`, () => {
    peer.it('with the proxy trusted, the server sees the client the header names', async () => {
      const upstreamPort = await startServer({ trustProxy: [PROXY], proxyHeader: header });
      const proxy = await startProxy(kind, { tls: 'none', upstreamPort, header });
      const { seen, localPort } = await seenFrom(proxy.port, CLIENT);
      assert.equal(seen.address, CLIENT);
      assert.equal(seen.hook, CLIENT, 'the upgrade hook sees it too');
      // Forwarded carries the client's port as well; X-Forwarded-For does not.
      assert.equal(seen.port, header === 'forwarded' ? localPort : 0);
    });

    peer.it(
      "a client's own header is passed on by the proxy, and ignored: its address is the rightmost",
      async () => {
        const upstreamPort = await startServer({ trustProxy: [PROXY], proxyHeader: header });
        const proxy = await startProxy(kind, { tls: 'none', upstreamPort, header });
        const { seen } = await seenFrom(proxy.port, CLIENT, spoof);
        const spoofedAt = seen.headers.indexOf(SPOOFED);
        assert.ok(
          spoofedAt !== -1 && spoofedAt < seen.headers.lastIndexOf(CLIENT),
          `the proxy passed it on, left of its own: ${seen.headers}`,
        );
        assert.equal(seen.address, CLIENT);
      },
    );

    peer.it("without trust, the server sees the proxy's address", async () => {
      const upstreamPort = await startServer({ proxyHeader: header });
      const proxy = await startProxy(kind, { tls: 'none', upstreamPort, header });
      const { seen } = await seenFrom(proxy.port, CLIENT);
      assert.deepEqual([seen.address, seen.hook], [PROXY, PROXY]);
    });
  });
}

describe('a chain of trusted proxies', () => {
  const OUTER_PROXY = '127.0.0.5';
  // The test needs both; it is reported under whichever is missing.
  const both = peers.nginx.available ? peers.haproxy : peers.nginx;

  both.it('HAProxy in front of nginx: the client is found past both', async () => {
    const upstreamPort = await startServer({ trustProxy: [PROXY, OUTER_PROXY] });
    const nginx = await startProxy('nginx', { tls: 'none', upstreamPort });
    const haproxy = await startProxy('haproxy', {
      tls: 'none',
      upstreamPort: nginx.port,
      bindAddress: OUTER_PROXY,
    });
    const { seen } = await seenFrom(haproxy.port, CLIENT, { 'X-Forwarded-For': SPOOFED });
    assert.equal(seen.headers, `${SPOOFED}, ${CLIENT}, ${OUTER_PROXY} | undefined`);
    assert.equal(seen.address, CLIENT);
  });
});

describe('a forwarding header sent by anyone but a trusted proxy', () => {
  it('a client straight to the server cannot choose its address', async () => {
    const port = await startServer({ trustProxy: [PROXY, 'private'] });
    for (const headers of [
      { 'X-Forwarded-For': SPOOFED },
      { 'X-Forwarded-For': `${SPOOFED}, ${PROXY}` },
      { 'X-Forwarded-For': 'garbage, ][, ::::' },
    ]) {
      const { seen } = await seenFrom(port, CLIENT, headers);
      assert.deepEqual([seen.address, seen.hook], [CLIENT, CLIENT], JSON.stringify(headers));
    }
  });
});

describe('maxConnectionsPerAddress counts clients, not the proxy', () => {
  peers.nginx.it('behind nginx: one connection per client, two clients through one proxy', async () => {
    const upstreamPort = await startServer({ trustProxy: [PROXY], maxConnectionsPerAddress: 1 });
    const proxy = await startProxy('nginx', { tls: 'none', upstreamPort });
    await assertOnePerClient(proxy.port);
  });

  peers.haproxy.it('wsx serve --trust-proxy behind HAProxy: the same, from the command line', async () => {
    const served = wsx('wsx serve', [
      'serve',
      '--echo',
      '--port',
      '0',
      '--trust-proxy',
      `10.0.0.0/8,${PROXY}`,
      '--max-connections-per-address',
      '1',
    ]);
    const upstreamPort = Number(/:(\d+)\/$/.exec(await served.takeLine('the listening line'))![1]);
    const proxy = await startProxy('haproxy', { tls: 'none', upstreamPort });
    await assertOnePerClient(proxy.port);
    served.kill('SIGTERM');
    assert.deepEqual(await served.waitForExit(), { code: 0, signal: null }, served.diagnostics());
  });
});

/** Through the proxy at `port`: CLIENT and OTHER_CLIENT each get in once; CLIENT's second try gets 503. */
async function assertOnePerClient(port: number): Promise<void> {
  const url = `ws://127.0.0.1:${port}/`;
  const first = await WsxClient.connect(url, { transport: await connectFrom(CLIENT, port) });
  const other = await WsxClient.connect(url, { transport: await connectFrom(OTHER_CLIENT, port) });
  await assert.rejects(
    WsxClient.connect(url, { transport: await connectFrom(CLIENT, port) }),
    (error: Error & { status?: number }) => error.status === 503,
  );
  first.socket.close();
  other.socket.close();
  await Promise.all([first.waitClosed(), other.waitClosed()]);
}
