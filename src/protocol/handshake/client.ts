import { HandshakeError, UsageError } from '../errors.js';
import { acceptKey } from './accept.js';
import {
  type ExtensionOffer,
  formatExtensions,
  type HeaderMap,
  isToken,
  listHasToken,
  parseExtensions,
} from './headers.js';
import type { ResponseHead } from './http-head.js';
import { checkFieldValue, formatHeaderLines } from './server.js';

/** What goes into a client's opening handshake (RFC 6455 §4.1). */
export interface UpgradeRequestOptions {
  /** Host header value: host, with `:port` when not the scheme's default. */
  readonly host: string;
  /** Path and query: the request-target. */
  readonly path: string;
  readonly key: string;
  readonly protocols?: readonly string[];
  readonly extensions?: readonly ExtensionOffer[];
  readonly origin?: string | undefined;
  readonly headers?: Readonly<Record<string, string | readonly string[]>> | undefined;
}

/** Header fields the handshake sets itself; an application cannot override them. */
const RESERVED_REQUEST_HEADERS = new Set([
  'upgrade',
  'connection',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
]);

/** Checks subprotocol names: tokens, each offered once (RFC 6455 §4.1, item 10). */
export function validateProtocols(protocols: readonly string[]): void {
  const seen = new Set<string>();
  for (const protocol of protocols) {
    if (!isToken(protocol)) throw new UsageError(`subprotocol ${JSON.stringify(protocol)} is not a token`);
    if (seen.has(protocol)) throw new UsageError(`subprotocol ${protocol} is offered twice`);
    seen.add(protocol);
  }
}

/**
 * Checks an application's request headers (and Origin) before anything is sent: a name the
 * handshake sets itself is a UsageError; a name that is not a token, or a value that cannot be
 * written on the wire, is a TypeError naming the header.
 */
export function checkRequestHeaders(
  headers: Readonly<Record<string, string | readonly string[]>> | undefined,
  origin?: string,
): void {
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (RESERVED_REQUEST_HEADERS.has(name.toLowerCase()))
      throw new UsageError(`header ${name} is set by the handshake`);
    if (!isToken(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
    for (const item of typeof value === 'string' ? [value] : value) checkFieldValue(name, item);
  }
  if (origin !== undefined) checkFieldValue('Origin', origin);
}

/** The GET request that opens a WebSocket connection. */
export function buildUpgradeRequest(options: UpgradeRequestOptions): string {
  const protocols = options.protocols ?? [];
  validateProtocols(protocols);
  const custom = options.headers ?? {};
  checkRequestHeaders(custom, options.origin);
  let hostLine = `Host: ${checkFieldValue('Host', options.host)}\r\n`;
  for (const name of Object.keys(custom)) {
    if (name.toLowerCase() === 'host') hostLine = '';
  }
  let head =
    `GET ${options.path} HTTP/1.1\r\n${hostLine}Upgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${options.key}\r\nSec-WebSocket-Version: 13\r\n`;
  if (protocols.length > 0) head += `Sec-WebSocket-Protocol: ${protocols.join(', ')}\r\n`;
  if (options.extensions !== undefined && options.extensions.length > 0) {
    head += `Sec-WebSocket-Extensions: ${formatExtensions(options.extensions)}\r\n`;
  }
  if (options.origin !== undefined) head += `Origin: ${checkFieldValue('Origin', options.origin)}\r\n`;
  return `${head}${formatHeaderLines(custom)}\r\n`;
}

/** What the server agreed to. */
export interface UpgradeResult {
  readonly protocol: string;
  readonly extensions: readonly ExtensionOffer[];
}

/** How strict the response checks are beyond RFC 6455. */
export interface UpgradeResponseChecks {
  /**
   * Fail when subprotocols were offered and the server selected none. RFC 6455 lets a server
   * select none; the WHATWG standard (fetch's "obtain a WebSocket connection") fails the
   * connection then, and the WebSocket and WebSocketStream clients follow it.
   */
  readonly requireProtocol?: boolean;
}

/**
 * Validates the server's response (RFC 6455 §4.1, items 1-6 of the client's checks):
 * status 101, Upgrade and Connection, the Accept value, a subprotocol among those offered
 * (or, with `requireProtocol`, one at all when some were offered), and no extension that
 * was not offered. Throws a HandshakeError carrying the status.
 */
export function validateUpgradeResponse(
  head: ResponseHead,
  key: string,
  offeredProtocols: readonly string[],
  offeredExtensions: readonly string[],
  checks: UpgradeResponseChecks = {},
): UpgradeResult {
  const fail = (message: string): never => {
    throw new HandshakeError(head.status, message);
  };
  if (head.status !== 101) {
    // The response's headers go with the error: a client may follow a redirect's Location.
    throw new HandshakeError(head.status, `server answered ${head.status} ${head.reason}`.trim(), {
      headers: head.headers.toRecord(),
    });
  }
  const headers = head.headers;
  if (!listHasToken(headers.list('upgrade'), 'websocket')) fail('response Upgrade header is not websocket');
  if (!listHasToken(headers.list('connection'), 'upgrade')) fail('response Connection header lacks Upgrade');
  const accept = headers.all('sec-websocket-accept');
  if (accept.length !== 1 || accept[0] !== acceptKey(key))
    fail('Sec-WebSocket-Accept does not match the key');
  return validateAgreement(head.status, headers, offeredProtocols, offeredExtensions, checks);
}

/**
 * Checks what a server agreed to, over HTTP/1.1 or HTTP/2 alike: a subprotocol among those
 * offered (or, with `requireProtocol`, one at all), and no extension that was not offered.
 */
export function validateAgreement(
  status: number,
  headers: HeaderMap,
  offeredProtocols: readonly string[],
  offeredExtensions: readonly string[],
  checks: UpgradeResponseChecks = {},
): UpgradeResult {
  const fail = (message: string): never => {
    throw new HandshakeError(status, message);
  };
  const protocolValues = headers.all('sec-websocket-protocol');
  let protocol = '';
  if (protocolValues.length > 0) {
    if (protocolValues.length > 1) fail('server selected more than one subprotocol');
    protocol = protocolValues[0];
    if (!offeredProtocols.includes(protocol))
      fail(`server selected subprotocol ${JSON.stringify(protocol)} that was not offered`);
  } else if (checks.requireProtocol === true && offeredProtocols.length > 0) {
    fail(`server selected no subprotocol (offered: ${offeredProtocols.join(', ')})`);
  }
  const extensionList = headers.list('sec-websocket-extensions');
  let extensions: ExtensionOffer[] = [];
  if (extensionList !== undefined) {
    try {
      extensions = parseExtensions(extensionList);
    } catch (error) {
      throw new HandshakeError(status, `malformed Sec-WebSocket-Extensions: ${(error as Error).message}`);
    }
    for (const extension of extensions) {
      if (!offeredExtensions.includes(extension.name))
        fail(`server accepted extension ${extension.name} that was not offered`);
    }
  }
  return { protocol, extensions };
}
