import { type Socket as NetSocket, connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Socket } from '../node/socket.js';
import { HandshakeError } from '../protocol/errors.js';
import { type ConnectOptions, connect, DEFAULT_HANDSHAKE_TIMEOUT } from './connect.js';
import { openTunnel, type ProxyOption, resolveProxy } from './proxy.js';
import {
  DEFAULT_MAX_REDIRECTS,
  keepsCredentials,
  REDIRECT_STATUSES,
  redirectTarget,
  withoutCredentials,
} from './redirect.js';
import { isIpAddress, waitConnected } from './transport.js';
import { type ClientTarget, parseClientUrl } from './url.js';

/** Options of `dial`: those of `connect`, plus how to reach the server. */
export interface DialOptions<Data = unknown> extends Omit<ConnectOptions<Data>, 'transport'> {
  /**
   * An HTTP proxy to tunnel through with CONNECT: a URL (`http://user:pass@host:port`, or
   * `https://...` for TLS to the proxy), or `'env'` to use HTTPS_PROXY / HTTP_PROXY /
   * ALL_PROXY unless NO_PROXY lists the host. None by default.
   */
  readonly proxy?: ProxyOption;
  /** Follow 301, 302, 303, 307 and 308 responses to their Location. Default false. */
  readonly followRedirects?: boolean;
  /**
   * How many redirects to follow when `followRedirects` is true (default 10). With 0, or
   * without `followRedirects`, a redirect fails the handshake with a HandshakeError that
   * carries its status and headers.
   */
  readonly maxRedirects?: number;
}

/**
 * Opens a WebSocket connection like `connect`, and also: through an HTTP proxy (CONNECT),
 * over a unix socket (`ws+unix:/path/to.sock:/request/path`), and across redirects when
 * asked to. Credentials (Authorization, Cookie) are not sent on to another host.
 * `handshakeTimeout` applies to each attempt: proxy, TLS and upgrade together.
 *
 * Rejects as `connect` does, and with a {@link ProxyError} when the proxy refuses or breaks
 * the tunnel.
 *
 * @example
 * ```ts
 * import { dial } from 'wsx';
 * const socket = await dial('wss://example.com/feed', { proxy: 'env', followRedirects: true });
 * socket.sendText('subscribe');
 * ```
 */
export async function dial<Data = unknown>(
  url: string | URL,
  options: DialOptions<Data> = {},
): Promise<Socket<Data>> {
  let target = parseClientUrl(url);
  const maxRedirects = options.followRedirects === true ? (options.maxRedirects ?? DEFAULT_MAX_REDIRECTS) : 0;
  let headers = options.headers;
  for (let redirects = 0; ; redirects++) {
    try {
      return await dialOnce(target, { ...options, headers });
    } catch (error) {
      if (!(error instanceof HandshakeError) || !REDIRECT_STATUSES.has(error.status)) throw error;
      if (options.followRedirects !== true) throw error;
      if (redirects >= maxRedirects) {
        throw new HandshakeError(error.status, `too many redirects (more than ${maxRedirects})`, {
          headers: { ...error.headers },
        });
      }
      const location = error.headers.location;
      if (location === undefined || location === '') {
        throw new HandshakeError(error.status, `redirect (${error.status}) without a Location`, {
          headers: { ...error.headers },
        });
      }
      let next: ClientTarget;
      try {
        next = redirectTarget(target, location);
      } catch (cause) {
        throw new HandshakeError(error.status, `redirect to an unusable URL ${JSON.stringify(location)}`, {
          headers: { ...error.headers },
          cause,
        });
      }
      if (!keepsCredentials(target, next)) headers = withoutCredentials(headers);
      target = next;
    }
  }
}

/** One attempt: opens the transport when a proxy or unix socket is involved, then the handshake. */
async function dialOnce<Data>(target: ClientTarget, options: DialOptions<Data>): Promise<Socket<Data>> {
  const timeout = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
  const deadline = Date.now() + timeout;
  const signal = options.signal;
  let transport: NetSocket | undefined;
  if (target.socketPath !== undefined) {
    transport = await openUnix(target, options, deadline);
  } else {
    const proxy = resolveProxy(options.proxy, target);
    if (proxy !== null) {
      transport = await openTunnel(proxy, target.hostname, target.port, { deadline, signal });
      if (target.secure) {
        const tunnel = transport;
        transport = tlsConnect({
          socket: tunnel,
          servername: isIpAddress(target.hostname) ? undefined : target.hostname,
          ALPNProtocols: ['http/1.1'],
          ...options.tls,
        });
        await waitConnected(
          transport,
          'secureConnect',
          deadline,
          signal,
          'the TLS handshake through the proxy',
        );
      }
    }
  }
  const { proxy: _proxy, followRedirects: _follow, maxRedirects: _max, ...rest } = options;
  return connect<Data>(target.href, {
    ...rest,
    transport,
    handshakeTimeout: transport === undefined ? timeout : Math.max(1, deadline - Date.now()),
  });
}

async function openUnix<Data>(
  target: ClientTarget,
  options: DialOptions<Data>,
  deadline: number,
): Promise<NetSocket> {
  const path = target.socketPath!;
  if (target.secure) {
    const transport = tlsConnect({
      path,
      servername: 'localhost',
      ALPNProtocols: ['http/1.1'],
      ...options.tls,
    });
    await waitConnected(transport, 'secureConnect', deadline, options.signal, `the connection to ${path}`);
    return transport;
  }
  const transport = netConnect({ path });
  await waitConnected(transport, 'connect', deadline, options.signal, `the connection to ${path}`);
  return transport;
}
