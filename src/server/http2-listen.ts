import type { IncomingMessage, ServerResponse } from 'node:http';
import { createSecureServer, createServer, type Settings } from 'node:http2';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { AnyHttp2Server } from './http2-intake.js';

/**
 * The HTTP/2 server `listen({ http2: true })` makes: with TLS, one port for h2 and HTTP/1.1
 * (ALPN picks; `allowHTTP1`); without, h2c with prior knowledge (HTTP/2 only).
 */
export function createHttp2Listener(
  tls: HttpsServerOptions | undefined,
  settings: Settings,
  onRequest: (request: IncomingMessage, response: ServerResponse) => void,
): AnyHttp2Server {
  // Node's compatibility objects stand in for IncomingMessage and ServerResponse here.
  const handler = onRequest as unknown as Parameters<typeof createServer>[1];
  if (tls === undefined) return createServer({ settings }, handler);
  return createSecureServer({ ...tls, allowHTTP1: true, settings }, handler);
}

/** Whether a server is one of node:http2's (it takes settings), not an http(s) one. */
export function isHttp2Server(server: object): server is AnyHttp2Server {
  return typeof (server as { updateSettings?: unknown }).updateSettings === 'function';
}
