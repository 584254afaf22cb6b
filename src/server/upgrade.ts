import type { IncomingMessage } from 'node:http';
import type { HeaderMap } from '../protocol/handshake/headers.js';

/** What the upgrade hook sees of a request that passed the RFC 6455 checks. */
export interface UpgradeContext {
  /** The HTTP request: as Node parsed it (`attach`, `handleUpgrade`), or, under `listen`, made from wsx's own reading of the head when first used. */
  readonly request: IncomingMessage;
  /** The request path without the query, and the query. */
  readonly path: string;
  /** The query string's parameters. */
  readonly query: URLSearchParams;
  /** Values captured by `:name` segments of the route pattern. */
  readonly params: Readonly<Record<string, string>>;
  /** The request's header fields, looked up case-insensitively (`headers.single('authorization')`). */
  readonly headers: HeaderMap;
  /** The `Origin` header, undefined when absent (clients other than browsers may omit it). */
  readonly origin: string | undefined;
  /** Subprotocols the client offered, in its order of preference. */
  readonly protocols: readonly string[];
  /** The client's address: the TCP peer's, or behind a trusted proxy (`trustProxy`) the one its header names. */
  readonly remoteAddress: string;
}

/** Accepts the upgrade, optionally with data for the socket and a chosen subprotocol. */
export interface UpgradeAcceptance<Data> {
  /** The socket's `data` (what the route's handlers see as `socket.data`). */
  readonly data?: Data;
  /** One of the offered subprotocols, `null` for none; when absent the route's `protocols` decide. */
  readonly protocol?: string | null;
  /** Extra headers for the 101 response. */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
}

/** Refuses the upgrade with an HTTP status (4xx or 5xx), optional body and headers. */
export class UpgradeRejection {
  /**
   * @param status - The HTTP status sent back, 400-599.
   * @param body - The response body (default empty).
   * @param headers - Extra response headers (e.g. `WWW-Authenticate`).
   * @throws RangeError for a status outside 400-599.
   */
  constructor(
    readonly status: number,
    readonly body: string = '',
    readonly headers: Readonly<Record<string, string | readonly string[]>> = {},
  ) {
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new RangeError(`a rejection needs a 4xx or 5xx status, got ${status}`);
    }
  }
}

/**
 * Builds an UpgradeRejection: `return reject(401, { body: 'token required' })`.
 *
 * @throws RangeError for a status outside 400-599.
 * @example
 * ```ts
 * import { createServer, reject } from 'wsx';
 * const server = createServer();
 * server.route('/chat', {
 *   upgrade: ({ headers }) =>
 *     headers.single('authorization') === 'Bearer secret'
 *       ? { data: { user: 'alice' } }
 *       : reject(401, { headers: { 'WWW-Authenticate': 'Bearer' } }),
 *   message: (socket, data) => socket.send(data),
 * });
 * ```
 */
export function reject(
  status: number,
  options: { body?: string; headers?: Readonly<Record<string, string | readonly string[]>> } = {},
): UpgradeRejection {
  return new UpgradeRejection(status, options.body, options.headers);
}

/** The upgrade hook: accept (return nothing or an acceptance), or reject. May be async. */
export type UpgradeHook<Data> = (
  context: UpgradeContext,
) =>
  | UpgradeAcceptance<Data>
  | UpgradeRejection
  | undefined
  | Promise<UpgradeAcceptance<Data> | UpgradeRejection | undefined>;

/** The server's default choice: the client's most preferred subprotocol that the route supports. */
export function selectProtocol(
  offered: readonly string[],
  supported: readonly string[] | undefined,
): string | null {
  if (supported === undefined) return null;
  // The server's own string: the client's is a slice of its request, which it would keep alive.
  for (const protocol of offered) {
    const at = supported.indexOf(protocol);
    if (at !== -1) return supported[at];
  }
  return null;
}
