import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { DEFAULT_HEAD_LIMITS } from '../protocol/handshake/http-head.js';
import type { AnyHttp2Server } from './http2-intake.js';
import { createHttp2Listener } from './http2-listen.js';
import type { WebSocketServer } from './server.js';
import type { ListenOptions } from './server-options.js';
import { upgradeRead } from './upgrade-flow.js';
import { UpgradeListener } from './upgrade-listener.js';

// `listen`: the servers a WebSocketServer makes for itself, and binding them.

/** `WebSocketServer.listen`: an http (or https, or HTTP/2) server of its own, attached and listening. */
export function createAndListen(
  server: WebSocketServer,
  options: ListenOptions,
): Promise<{ port: number; host: string }> {
  const onRequest = options.request ?? answerUpgradeRequired;
  // Node checks its header and request timeouts only every connectionsCheckingInterval
  // (30 s by default): check often enough for the handshake timeout to mean what it says.
  const checking = { connectionsCheckingInterval: Math.min(1_000, server.handshakeTimeout) };
  if (options.http2 === true) return listenHttp2(server, options, onRequest);
  const http = options.tls
    ? createHttpsServer({ ...checking, ...options.tls }, onRequest)
    : createHttpServer(checking, onRequest);
  // Slow senders of the request head are cut off by the handshake timeout.
  http.headersTimeout = server.handshakeTimeout;
  http.requestTimeout = server.handshakeTimeout;
  // Upgrade requests on connections the HTTP server serves (keep-alive) come this way.
  server.attach(http);
  server.httpServers.push(http);
  if (options.httpParser !== true) {
    // New connections are read by wsx's request-head reader; the HTTP server gets the rest.
    readHeads(server, http, options.tls ? 'secureConnection' : 'connection');
  }
  return bind(server, http, options);
}

/** `listen` with HTTP/2: h2 and HTTP/1.1 on one TLS port, or h2c alone. */
function listenHttp2(
  server: WebSocketServer,
  options: ListenOptions,
  onRequest: NonNullable<ListenOptions['request']>,
): Promise<{ port: number; host: string }> {
  const http2 = createHttp2Listener(options.tls, server.http2.settings(), onRequest);
  server.attach(http2);
  server.http2Servers.push(http2);
  server.http2.own(http2);
  if (options.tls !== undefined) {
    const http1 = http2 as unknown as HttpServer;
    http1.headersTimeout = server.handshakeTimeout;
    http1.requestTimeout = server.handshakeTimeout;
    // HTTP/1.1 connections of the shared port are read by wsx's request-head reader too.
    readHeads(server, http1, 'secureConnection');
  }
  return bind(server, http2, options);
}

/** Reads the request heads of `http`'s new connections with wsx's reader, upgrades going to `server`. */
function readHeads(
  server: WebSocketServer,
  http: HttpServer,
  event: 'connection' | 'secureConnection',
): void {
  server.listeners.push(
    new UpgradeListener(http, event, {
      handshakeTimeout: server.handshakeTimeout,
      maxHeaderBytes: DEFAULT_HEAD_LIMITS.maxHeaderBytes,
      upgrade: (head, socket, rest) => upgradeRead(server, head, socket, rest),
    }),
  );
}

async function bind(
  server: WebSocketServer,
  http: HttpServer | AnyHttp2Server,
  options: ListenOptions,
): Promise<{ port: number; host: string }> {
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  });
  // Once listening, an error (a failed accept when out of file descriptors) is reported
  // rather than thrown: the server goes on serving.
  http.on('error', (error) => server.reportError(error, { kind: 'server' }));
  const address = http.address() as AddressInfo;
  return { port: address.port, host: address.address };
}

function answerUpgradeRequired(_request: IncomingMessage, response: ServerResponse): void {
  response.writeHead(426, {
    'Content-Type': 'text/plain; charset=utf-8',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
  });
  response.end('This is a WebSocket endpoint: connect with a WebSocket client.\n');
}
