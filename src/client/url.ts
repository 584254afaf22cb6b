import { UsageError } from '../protocol/errors.js';
import { parseWebSocketUrl } from './connect.js';

/**
 * Where a client connects: a host and port over TCP (ws:, wss:, or http: and https: taken as
 * their WebSocket equivalents), or a unix domain socket (ws+unix:, wss+unix:).
 */
export interface ClientTarget {
  /** The ws:// or wss:// URL the handshake is made for (for a unix socket: ws://localhost/path). */
  readonly href: string;
  readonly secure: boolean;
  /** Host name or address, without IPv6 brackets ('localhost' for a unix socket). */
  readonly hostname: string;
  readonly port: number;
  /** Host and port as in the URL (what a redirect is compared by). */
  readonly host: string;
  /** The unix socket's path, for ws+unix: and wss+unix: URLs. */
  readonly socketPath?: string;
}

/**
 * Parses a client URL. Besides ws:, wss:, http: and https:, it takes
 * `ws+unix:/path/to.sock:/request/path?query` (the request path defaults to /): the part
 * before the first ':' of the path is the socket, the rest is the request-target.
 * Throws a UsageError for anything else, and for URLs with a fragment.
 */
export function parseClientUrl(input: string | URL): ClientTarget {
  const text = String(input);
  if (/^wss?\+unix:/i.test(text)) return parseUnixUrl(text);
  const target = parseWebSocketUrl(input);
  return {
    href: target.href,
    secure: target.secure,
    hostname: target.hostname,
    port: target.port,
    host: target.hostHeader,
  };
}

function parseUnixUrl(text: string): ClientTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`invalid URL: ${text}`);
  }
  if (url.href.includes('#')) throw new UsageError('a WebSocket URL cannot have a fragment');
  const secure = url.protocol.toLowerCase() === 'wss+unix:';
  const pathname = url.pathname;
  const colon = pathname.indexOf(':');
  const encodedSocket = colon === -1 ? pathname : pathname.slice(0, colon);
  const requestPath = colon === -1 ? '/' : pathname.slice(colon + 1) || '/';
  let socketPath: string;
  try {
    socketPath = decodeURIComponent(encodedSocket);
  } catch {
    throw new UsageError(`invalid socket path in ${text}`);
  }
  if (socketPath === '') throw new UsageError(`no socket path in ${text}`);
  if (!requestPath.startsWith('/')) throw new UsageError(`the request path must start with / in ${text}`);
  return {
    href: `${secure ? 'wss' : 'ws'}://localhost${requestPath}${url.search}`,
    secure,
    hostname: 'localhost',
    port: secure ? 443 : 80,
    host: 'localhost',
    socketPath,
  };
}
