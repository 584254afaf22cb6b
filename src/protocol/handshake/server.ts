import { HandshakeError } from '../errors.js';
import { acceptKey, isValidKey } from './accept.js';
import {
  type ExtensionOffer,
  formatExtensions,
  type HeaderMap,
  HeaderSyntaxError,
  isToken,
  listHasToken,
  parseExtensions,
  parseTokenList,
} from './headers.js';

/** What a valid client upgrade request asks for (RFC 6455 §4.2.1). */
export interface UpgradeRequest {
  readonly key: string;
  /** Offered subprotocols, in the client's order of preference. */
  readonly protocols: readonly string[];
  /** Offered extensions, in the client's order of preference. */
  readonly extensions: readonly ExtensionOffer[];
  readonly origin: string | undefined;
}

/** The request line and header fields, as an HTTP parser reports them. */
export interface RequestHead {
  readonly method: string;
  /** "1.1" for HTTP/1.1. */
  readonly httpVersion: string;
  readonly headers: HeaderMap;
}

/**
 * Validates a client's opening handshake (RFC 6455 §4.2.1). Throws a HandshakeError whose
 * status is what the server answers: 400 for a malformed request, 405 for a method other
 * than GET, 426 with `Sec-WebSocket-Version: 13` for any other version.
 */
export function validateUpgradeRequest(head: RequestHead): UpgradeRequest {
  if (head.method !== 'GET') {
    throw new HandshakeError(405, `method ${head.method} cannot upgrade; use GET`, {
      headers: { Allow: 'GET' },
    });
  }
  if (!isHttp11OrLater(head.httpVersion)) {
    throw new HandshakeError(400, `HTTP/${head.httpVersion} cannot upgrade; HTTP/1.1 or later is required`);
  }
  const headers = head.headers;
  try {
    if (!headers.single('host')) throw new HandshakeError(400, 'missing Host header');
    if (!anyHasToken(headers.all('upgrade'), 'websocket')) {
      throw new HandshakeError(400, 'Upgrade header does not name websocket');
    }
    if (!anyHasToken(headers.all('connection'), 'upgrade')) {
      throw new HandshakeError(400, 'Connection header does not include Upgrade');
    }
    requireVersion13(headers, 'Sec-WebSocket-Version');
    const key = validKey(headers.single('sec-websocket-key'));
    if (key === undefined) throw new HandshakeError(400, 'Sec-WebSocket-Key is not base64 of 16 bytes');
    return offeredRequest(headers, key);
  } catch (error) {
    throw asBadRequest(error);
  }
}

/**
 * RFC 6455 §4.2.2: a version other than 13 is answered with 426 and the version the server
 * speaks, in `answerHeader` (its spelling: HTTP/2 field names are lower case).
 */
export function requireVersion13(headers: HeaderMap, answerHeader: string): void {
  const version = headers.single('sec-websocket-version');
  if (version === '13' || version?.trim() === '13') return;
  throw new HandshakeError(
    426,
    version === undefined ? `missing ${answerHeader}` : `unsupported version ${version}`,
    { headers: { [answerHeader]: '13' } },
  );
}

/** The request with `key` and what the client offers: subprotocols, extensions, origin. */
export function offeredRequest(headers: HeaderMap, key: string): UpgradeRequest {
  const protocolList = headers.list('sec-websocket-protocol');
  const extensionList = headers.list('sec-websocket-extensions');
  return {
    key,
    protocols: protocolList === undefined ? [] : parseTokenList(protocolList),
    extensions: extensionList === undefined ? [] : parseExtensions(extensionList),
    origin: headers.single('origin'),
  };
}

/** A header field that does not parse is the client's mistake: 400, with the parser's reason. */
export function asBadRequest(error: unknown): unknown {
  return error instanceof HeaderSyntaxError
    ? new HandshakeError(400, error.message, { cause: error })
    : error;
}

/**
 * The key if it is valid once trimmed, else undefined. Both head readers hand values over
 * without surrounding white space already, so the trim is left for a key that fails as it is.
 */
function validKey(sent: string | undefined): string | undefined {
  if (sent === undefined || isValidKey(sent)) return sent;
  const trimmed = sent.trim();
  return isValidKey(trimmed) ? trimmed : undefined;
}

/** `listHasToken` over a field's values (the list they make together), without joining them. */
function anyHasToken(values: readonly string[], token: string): boolean {
  for (const value of values) if (listHasToken(value, token)) return true;
  return false;
}

function isHttp11OrLater(version: string): boolean {
  if (version === '1.1') return true;
  const [major, minor] = version.split('.').map(Number);
  return major > 1 || (major === 1 && minor >= 1);
}

/** What the server accepted, for the 101 response. */
export interface AcceptOptions {
  readonly key: string;
  readonly protocol?: string | undefined;
  readonly extensions?: readonly ExtensionOffer[];
  /** Extra response headers (set-cookie...); names and values are checked for injection. */
  readonly headers?: Readonly<Record<string, string | readonly string[]>> | undefined;
}

/** The `101 Switching Protocols` response head. */
export function buildAcceptResponse(options: AcceptOptions): string {
  let head =
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${acceptKey(options.key)}\r\n`;
  if (options.protocol !== undefined) {
    if (!isToken(options.protocol))
      throw new TypeError(`subprotocol ${JSON.stringify(options.protocol)} is not a token`);
    head += `Sec-WebSocket-Protocol: ${options.protocol}\r\n`;
  }
  if (options.extensions !== undefined && options.extensions.length > 0) {
    head += `Sec-WebSocket-Extensions: ${formatExtensions(options.extensions)}\r\n`;
  }
  return `${head}${formatHeaderLines(options.headers)}\r\n`;
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** A complete HTTP response that refuses the upgrade, closing the connection afterwards. */
export function buildRejectResponse(
  status: number,
  body = '',
  headers?: Readonly<Record<string, string | readonly string[]>>,
): Buffer {
  if (!Number.isInteger(status) || status < 400 || status > 599) {
    throw new RangeError(`a rejection needs a 4xx or 5xx status, got ${status}`);
  }
  const payload = Buffer.from(body, 'utf8');
  const lower = new Set(Object.keys(headers ?? {}).map((name) => name.toLowerCase()));
  let head = `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nConnection: close\r\n`;
  if (!lower.has('content-type')) head += 'Content-Type: text/plain; charset=utf-8\r\n';
  head += `Content-Length: ${payload.length}\r\n${formatHeaderLines(headers, ['content-length', 'connection'])}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), payload]);
}

/** Header lines for a response; refuses names that are not tokens and values with CR, LF or NUL. */
export function formatHeaderLines(
  headers: Readonly<Record<string, string | readonly string[]>> | undefined,
  skip: readonly string[] = [],
): string {
  if (headers === undefined) return '';
  let lines = '';
  for (const [name, value] of Object.entries(headers)) {
    if (!isToken(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
    if (skip.includes(name.toLowerCase())) continue;
    for (const item of typeof value === 'string' ? [value] : value)
      lines += `${name}: ${checkFieldValue(name, item)}\r\n`;
  }
  return lines;
}

/**
 * Returns `value` if it can be written as a header field value: heads are written as
 * latin1, so besides CR, LF and NUL, any character above U+00FF is refused too (it would
 * be truncated to a byte, and U+010A would become LF).
 */
export function checkFieldValue(name: string, value: string): string {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 0x0d || code === 0x0a || code === 0 || code > 0xff) {
      const character = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
      throw new TypeError(
        `invalid character ${character} in the value of header ${name}: a header value cannot hold ` +
          'CR, LF, NUL or a character above U+00FF',
      );
    }
  }
  return value;
}
