/**
 * The WHATWG argument checks shared by WebSocket, ReconnectingWebSocket and WebSocketStream:
 * the URL, the subprotocol list, and the code and reason of `close`.
 */
import { MAX_CLOSE_REASON_BYTES } from '../protocol/close.js';
import { isToken } from '../protocol/handshake/headers.js';
import { parseClientUrl } from './url.js';

/**
 * The constructor's URL steps: parse (a relative or invalid URL is a SyntaxError, as Node has
 * no base URL), map http(s) to ws(s), accept ws, wss (and ws+unix, wss+unix), refuse fragments.
 */
export function parseUrl(input: string | URL): { href: string; origin: string; dialUrl: string } {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    throw new DOMException(`WebSocket: ${JSON.stringify(String(input))} is not a valid URL`, 'SyntaxError');
  }
  if (url.protocol === 'http:') url = new URL(`ws:${url.href.slice(5)}`);
  else if (url.protocol === 'https:') url = new URL(`wss:${url.href.slice(6)}`);
  const scheme = url.protocol;
  if (scheme !== 'ws:' && scheme !== 'wss:' && scheme !== 'ws+unix:' && scheme !== 'wss+unix:') {
    throw new DOMException(`WebSocket: the URL scheme must be ws: or wss:, not ${scheme}`, 'SyntaxError');
  }
  if (url.href.includes('#')) {
    throw new DOMException('WebSocket: the URL cannot have a fragment', 'SyntaxError');
  }
  try {
    parseClientUrl(url.href); // what dial will do, e.g. with a ws+unix: socket path
  } catch (error) {
    throw new DOMException(`WebSocket: ${(error as Error).message}`, 'SyntaxError');
  }
  return { href: url.href, origin: url.origin, dialUrl: url.href };
}

/** The constructor's protocols steps: each a token, none twice (compared case-insensitively). */
export function parseProtocols(protocols: string | Iterable<string> | undefined): string[] {
  if (protocols === undefined) return [];
  const list = typeof protocols === 'string' ? [protocols] : Array.from(protocols, String);
  const seen = new Set<string>();
  for (const protocol of list) {
    if (!isToken(protocol)) {
      throw new DOMException(
        `WebSocket: ${JSON.stringify(protocol)} is not a valid subprotocol`,
        'SyntaxError',
      );
    }
    const key = protocol.toLowerCase();
    if (seen.has(key))
      throw new DOMException(`WebSocket: subprotocol ${protocol} is listed twice`, 'SyntaxError');
    seen.add(key);
  }
  return list;
}

/**
 * The argument checks of `close(code, reason)`: the code (a WebIDL `[Clamp] unsigned short`)
 * must be 1000 or 3000-4999, else InvalidAccessError; the reason at most 123 UTF-8 bytes,
 * else SyntaxError. Absent arguments stay undefined.
 */
export function checkCloseArguments(
  code: unknown,
  reason: unknown,
): { code: number | undefined; reason: string | undefined } {
  let closeCode: number | undefined;
  if (code !== undefined) {
    closeCode = clampUint16(code);
    if (closeCode !== 1000 && (closeCode < 3000 || closeCode > 4999)) {
      throw new DOMException(
        `close: the code must be 1000 or in 3000-4999; got ${closeCode}`,
        'InvalidAccessError',
      );
    }
  }
  let closeReason: string | undefined;
  if (reason !== undefined) {
    closeReason = String(reason);
    if (Buffer.byteLength(closeReason, 'utf8') > MAX_CLOSE_REASON_BYTES) {
      throw new DOMException('close: the reason is longer than 123 UTF-8 bytes', 'SyntaxError');
    }
  }
  return { code: closeCode, reason: closeReason };
}

/** WebIDL `[Clamp] unsigned short`. */
function clampUint16(value: unknown): number {
  const number = Number(value);
  if (Number.isNaN(number)) return 0;
  const clamped = Math.min(Math.max(number, 0), 65535);
  const floor = Math.floor(clamped);
  const fraction = clamped - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
