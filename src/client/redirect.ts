import { UsageError } from '../protocol/errors.js';
import { type ClientTarget, parseClientUrl } from './url.js';

/** Statuses that send the client to another URL in Location. */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Request headers that carry credentials: dropped when a redirect leaves the host. */
export const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'cookie',
  'proxy-authorization',
]);

export const DEFAULT_MAX_REDIRECTS = 10;

/**
 * Where a redirect leads: Location resolved against the redirected URL (http: and https:
 * map to ws: and wss:; a fragment is dropped). A relative Location from a ws+unix: URL stays
 * on the same unix socket. Throws a UsageError when the result is not a WebSocket URL.
 */
export function redirectTarget(from: ClientTarget, location: string): ClientTarget {
  // Relative references resolve against the request as HTTP saw it.
  const next = new URL(location, from.href.replace(/^ws/, 'http'));
  next.hash = '';
  if (from.socketPath !== undefined && next.host === 'localhost' && /^(http|ws)s?:$/.test(next.protocol)) {
    return { ...from, href: `${from.secure ? 'wss' : 'ws'}://localhost${next.pathname}${next.search}` };
  }
  const target = parseClientUrl(next.href);
  // A server on the network must not be able to point the client at a local unix socket.
  if (target.socketPath !== undefined && from.socketPath === undefined) {
    throw new UsageError(`refusing a redirect from ${from.href} to the unix socket ${target.socketPath}`);
  }
  return target;
}

/**
 * Whether following a redirect from `from` to `to` keeps the credentials: only when it stays
 * on the same host and port (and the same unix socket), and does not drop TLS.
 */
export function keepsCredentials(from: ClientTarget, to: ClientTarget): boolean {
  if (from.socketPath !== to.socketPath) return false;
  if (from.host.toLowerCase() !== to.host.toLowerCase()) return false;
  return to.secure || !from.secure;
}

/** The headers without their credential fields. */
export function withoutCredentials(
  headers: Readonly<Record<string, string | readonly string[]>> | undefined,
): Record<string, string | readonly string[]> | undefined {
  if (headers === undefined) return undefined;
  const kept: Record<string, string | readonly string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!CREDENTIAL_HEADERS.has(name.toLowerCase())) kept[name] = value;
  }
  return kept;
}
