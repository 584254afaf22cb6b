import { type Socket as NetSocket, connect as netConnect } from 'node:net';
import { type ConnectionOptions as TlsConnectionOptions, connect as tlsConnect } from 'node:tls';
import { UsageError, WebSocketError } from '../protocol/errors.js';
import { isIpAddress, readResponseHead, waitConnected } from './transport.js';

/**
 * How a client reaches the server: `undefined`/`null` connects directly; a URL
 * (`http://[user:password@]host:port`, or `https://` for TLS to the proxy itself) tunnels
 * through that proxy with CONNECT; `'env'` takes the proxy from the environment
 * (`https_proxy`/`HTTPS_PROXY` for wss:, `http_proxy`/`HTTP_PROXY` for ws:, then
 * `all_proxy`/`ALL_PROXY`), unless `no_proxy`/`NO_PROXY` lists the host.
 */
export type ProxyOption = string | URL | null | undefined;

/** The proxy refused or broke the tunnel. `status` is its HTTP status (0 when there was none). */
export class ProxyError extends WebSocketError {
  /** The proxy's HTTP status for the CONNECT request (0 when it gave none). */
  readonly status: number;
  constructor(status: number, message: string, options?: { cause?: unknown }) {
    super('WSX_PROXY', message, options);
    this.status = status;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** The proxy to use for a target, or null for a direct connection. */
export function resolveProxy(
  option: ProxyOption,
  target: { readonly secure: boolean; readonly hostname: string; readonly port: number },
  env: Env = process.env,
): URL | null {
  if (option === undefined || option === null || option === '') return null;
  if (option === 'env') return proxyFromEnv(target, env);
  return parseProxyUrl(option);
}

/** Reads the proxy for a target from the environment, the way curl does. */
export function proxyFromEnv(
  target: { readonly secure: boolean; readonly hostname: string; readonly port: number },
  env: Env = process.env,
): URL | null {
  const noProxy = env.no_proxy ?? env.NO_PROXY ?? '';
  if (bypassesProxy(target.hostname, target.port, noProxy)) return null;
  const value =
    (target.secure ? (env.https_proxy ?? env.HTTPS_PROXY) : (env.http_proxy ?? env.HTTP_PROXY)) ||
    env.all_proxy ||
    env.ALL_PROXY;
  return value ? parseProxyUrl(value) : null;
}

/** Parses a proxy URL; `host:port` without a scheme is taken as `http://host:port`. */
export function parseProxyUrl(value: string | URL): URL {
  const text = String(value);
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`);
  } catch {
    throw new UsageError(`invalid proxy URL: ${text}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`proxy URL scheme must be http: or https:, not ${url.protocol}`);
  return url;
}

/**
 * Whether `no_proxy` exempts a host: a comma- or space-separated list of host names (which
 * also match their subdomains; a leading `.` or `*.` is ignored), IP addresses, each with an
 * optional `:port`, or `*` for every host. CIDR ranges are not supported.
 */
export function bypassesProxy(hostname: string, port: number, noProxy: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  for (const raw of noProxy.split(/[\s,]+/)) {
    let entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    let entryPort: number | null = null;
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    if (bracketed) {
      entry = bracketed[1];
      if (bracketed[2] !== undefined) entryPort = Number(bracketed[2]);
    } else if (entry.indexOf(':') !== -1 && entry.indexOf(':') === entry.lastIndexOf(':')) {
      entryPort = Number(entry.slice(entry.indexOf(':') + 1));
      entry = entry.slice(0, entry.indexOf(':'));
    }
    if (entryPort !== null && entryPort !== port) continue;
    entry = entry.replace(/^\*?\./, '');
    if (host === entry || host.endsWith(`.${entry}`)) return true;
  }
  return false;
}

/**
 * Opens a tunnel to `host:port` through an HTTP proxy (RFC 9110 §9.3.6): connects to the
 * proxy (over TLS for an https: proxy), sends CONNECT with Basic credentials from the proxy
 * URL's user info, and resolves with the transport once the proxy answers 2xx. The
 * transport is left paused; the caller speaks to the target over it (TLS first for wss:).
 */
export async function openTunnel(
  proxy: URL,
  host: string,
  port: number,
  options: {
    readonly deadline: number;
    readonly signal?: AbortSignal | undefined;
    /** TLS options for an https: proxy. */
    readonly proxyTls?: TlsConnectionOptions | undefined;
  },
): Promise<NetSocket> {
  const secure = proxy.protocol === 'https:';
  const proxyHost = proxy.hostname.replace(/^\[|\]$/g, '');
  const proxyPort = proxy.port === '' ? (secure ? 443 : 80) : Number(proxy.port);
  const transport: NetSocket = secure
    ? tlsConnect({
        host: proxyHost,
        port: proxyPort,
        servername: isIpAddress(proxyHost) ? undefined : proxyHost,
        ...options.proxyTls,
      })
    : netConnect({ host: proxyHost, port: proxyPort });
  const what = `the connection to the proxy ${proxy.host}`;
  try {
    await waitConnected(
      transport,
      secure ? 'secureConnect' : 'connect',
      options.deadline,
      options.signal,
      what,
    );
  } catch (error) {
    throw error instanceof ProxyError
      ? error
      : new ProxyError(0, `${what} failed: ${message(error)}`, { cause: error });
  }
  const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  let request = `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n`;
  if (proxy.username !== '' || proxy.password !== '') {
    const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    request += `Proxy-Authorization: Basic ${Buffer.from(credentials, 'utf8').toString('base64')}\r\n`;
  }
  transport.write(`${request}\r\n`, 'latin1');
  let head: Awaited<ReturnType<typeof readResponseHead>>;
  try {
    head = await readResponseHead(transport, options.deadline, options.signal, 'the proxy CONNECT');
  } catch (error) {
    throw new ProxyError(0, `the proxy did not open a tunnel: ${message(error)}`, { cause: error });
  }
  if (head.status < 200 || head.status > 299) {
    transport.destroy();
    throw new ProxyError(head.status, `the proxy refused the tunnel: ${head.status} ${head.reason}`.trim());
  }
  if (head.rest.length > 0) {
    // Neither a WebSocket server nor a TLS server speaks first: bytes here are the proxy's.
    transport.destroy();
    throw new ProxyError(head.status, 'the proxy sent data after its CONNECT response');
  }
  return transport;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
