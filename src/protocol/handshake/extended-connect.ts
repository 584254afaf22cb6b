import { HandshakeError, UsageError } from '../errors.js';
import { acceptKey, isValidKey } from './accept.js';
import { checkRequestHeaders, validateProtocols } from './client.js';
import { type ExtensionOffer, formatExtensions, type HeaderMap, isToken } from './headers.js';
import type { UpgradeRequest } from './server.js';
import { asBadRequest, checkFieldValue, offeredRequest, requireVersion13 } from './server.js';

// RFC 8441: a WebSocket over HTTP/2 is one stream opened by an extended CONNECT
// (`:method CONNECT`, `:protocol websocket`). Sec-WebSocket-Version, -Protocol and
// -Extensions mean what they mean in RFC 6455; there is no Upgrade, no Connection and, by
// §5, no Sec-WebSocket-Key or -Accept (the stream itself proves the server took the request).

/** Header fields that HTTP/2 forbids (RFC 9113 §8.2.2): dropped from what an application adds. */
const CONNECTION_SPECIFIC = new Set([
  'connection',
  'upgrade',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'host',
]);

/**
 * Validates an extended CONNECT that asks for a WebSocket (RFC 8441 §4, §5), given its header
 * fields and pseudo-header fields. Throws a HandshakeError with the status to answer: 400 for
 * a malformed request, 426 (with `sec-websocket-version: 13`) for another version.
 *
 * `key` is the Sec-WebSocket-Key when a client sent a valid one anyway (RFC 8441 §5 says it is
 * not sent; some clients do, and then want the matching Accept), and '' otherwise.
 */
export function validateExtendedConnect(headers: HeaderMap): UpgradeRequest {
  try {
    if (headers.single(':method') !== 'CONNECT') throw new HandshakeError(405, 'not a CONNECT request');
    if (headers.single(':protocol')?.toLowerCase() !== 'websocket')
      throw new HandshakeError(501, 'not a WebSocket CONNECT');
    // RFC 8441 §4: on an extended CONNECT, :scheme and :path are included (unlike RFC 9113 CONNECT).
    if (!headers.single(':scheme')) throw new HandshakeError(400, 'extended CONNECT without :scheme');
    if (!headers.single(':path')) throw new HandshakeError(400, 'extended CONNECT without :path');
    if (!headers.single(':authority')) throw new HandshakeError(400, 'extended CONNECT without :authority');
    requireVersion13(headers, 'sec-websocket-version');
    const sentKey = headers.single('sec-websocket-key')?.trim();
    return offeredRequest(headers, sentKey !== undefined && isValidKey(sentKey) ? sentKey : '');
  } catch (error) {
    throw asBadRequest(error);
  }
}

/** What the server accepted, for the 200 response on the stream. */
export interface ExtendedConnectAcceptance {
  /** The client's Sec-WebSocket-Key, or '' (the RFC 8441 case). */
  readonly key: string;
  readonly protocol?: string | undefined;
  readonly extensions?: readonly ExtensionOffer[];
  readonly headers?: Readonly<Record<string, string | readonly string[]>> | undefined;
}

type H2Headers = Record<string, string | number | string[]>;

/**
 * The response headers that accept an extended CONNECT: `:status` 200, the subprotocol and
 * extensions agreed, the application's own fields (those HTTP/2 forbids are left out) and, only
 * when the client sent a key, the Accept computed from it: undici's WebSocket (undici#5681)
 * sends a key over HTTP/2 and fails the connection without its Accept; a field a client did
 * not ask for is one any other client ignores.
 */
export function buildExtendedConnectResponse(options: ExtendedConnectAcceptance): H2Headers {
  const response: H2Headers = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (!isToken(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
    const lower = name.toLowerCase();
    if (CONNECTION_SPECIFIC.has(lower) || lower.startsWith(':')) continue;
    const values = typeof value === 'string' ? [value] : [...value];
    for (const item of values) checkFieldValue(name, item);
    response[lower] = values.length === 1 ? values[0] : values;
  }
  response[':status'] = 200;
  if (options.protocol !== undefined) {
    if (!isToken(options.protocol))
      throw new TypeError(`subprotocol ${JSON.stringify(options.protocol)} is not a token`);
    response['sec-websocket-protocol'] = options.protocol;
  }
  if (options.extensions !== undefined && options.extensions.length > 0) {
    response['sec-websocket-extensions'] = formatExtensions(options.extensions);
  }
  if (options.key !== '') response['sec-websocket-accept'] = acceptKey(options.key);
  return response;
}

/** The headers of a response that refuses an extended CONNECT (any 4xx or 5xx). */
export function buildExtendedConnectRefusal(
  status: number,
  headers: Readonly<Record<string, string | readonly string[]>> | undefined,
): H2Headers {
  const response: H2Headers = { 'content-type': 'text/plain; charset=utf-8' };
  for (const [name, value] of Object.entries(headers ?? {})) {
    const lower = name.toLowerCase();
    if (!isToken(name) || CONNECTION_SPECIFIC.has(lower) || lower.startsWith(':')) continue;
    response[lower] = typeof value === 'string' ? value : [...value];
  }
  response[':status'] = status;
  return response;
}

/** What goes into a client's extended CONNECT. */
export interface ExtendedConnectOptions {
  readonly scheme: 'https' | 'http';
  /** host[:port], as in a Host header. */
  readonly authority: string;
  readonly path: string;
  readonly protocols?: readonly string[];
  readonly extensions?: readonly ExtensionOffer[];
  readonly origin?: string | undefined;
  readonly headers?: Readonly<Record<string, string | readonly string[]>> | undefined;
}

/** The request headers of a client's extended CONNECT (RFC 8441 §4): no key, no Upgrade. */
export function buildExtendedConnectRequest(options: ExtendedConnectOptions): H2Headers {
  const protocols = options.protocols ?? [];
  validateProtocols(protocols);
  checkRequestHeaders(options.headers, options.origin);
  const request: H2Headers = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    const lower = name.toLowerCase();
    if (CONNECTION_SPECIFIC.has(lower)) {
      throw new UsageError(`header ${name} cannot be sent over HTTP/2 (RFC 9113 §8.2.2)`);
    }
    request[lower] = typeof value === 'string' ? value : [...value];
  }
  request[':method'] = 'CONNECT';
  request[':protocol'] = 'websocket';
  request[':scheme'] = options.scheme;
  request[':authority'] = options.authority;
  request[':path'] = options.path;
  request['sec-websocket-version'] = '13';
  if (protocols.length > 0) request['sec-websocket-protocol'] = protocols.join(', ');
  if (options.extensions !== undefined && options.extensions.length > 0) {
    request['sec-websocket-extensions'] = formatExtensions(options.extensions);
  }
  if (options.origin !== undefined) request.origin = options.origin;
  return request;
}
