import { type ClientHttp2Session, connect as http2Connect } from 'node:http2';
import {
  type TLSSocket,
  type ConnectionOptions as TlsConnectionOptions,
  connect as tlsConnect,
} from 'node:tls';
import { HandshakeError } from '../protocol/errors.js';
import { isIpAddress, waitConnected } from './transport.js';

/** How long a session with no WebSocket left stays open for the next one, in ms. */
export const HTTP2_IDLE_TIMEOUT = 5_000;

/** Where a session goes: the origin, and the TLS options that reach it. */
export interface SessionTarget {
  readonly secure: boolean;
  readonly hostname: string;
  readonly port: number;
  readonly tls?: TlsConnectionOptions | undefined;
}

/** What `http2: 'auto'` settled on: a session to open streams on, or HTTP/1.1 (over this TLS socket when one is open). */
export type SessionChoice =
  | { readonly session: PooledSession }
  | { readonly http1: true; transport?: TLSSocket | undefined };

/**
 * One HTTP/2 connection to an origin, shared by every WebSocket to it (RFC 8441 §1: many
 * WebSockets, and plain requests, over one connection). Counted by its streams; once it has
 * none for HTTP2_IDLE_TIMEOUT it closes, and until then it does not keep the process alive.
 */
export class PooledSession {
  private streams = 0;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly session: ClientHttp2Session,
    private readonly forget: () => void,
  ) {
    session.on('close', forget);
    session.on('goaway', forget);
    session.on('error', forget);
    this.idle();
  }

  /** A WebSocket starts on this session; `release` when its stream has closed. */
  use(): void {
    this.streams++;
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.session.ref();
  }

  release(): void {
    this.streams--;
    if (this.streams === 0) this.idle();
  }

  private idle(): void {
    this.session.unref();
    this.idleTimer = setTimeout(() => {
      this.forget();
      this.session.close();
    }, HTTP2_IDLE_TIMEOUT);
    this.idleTimer.unref();
  }
}

type Pool = Map<string, Promise<SessionChoice>>;
/** Sessions by TLS options object (none: the default pool), then by origin. */
const pools = new WeakMap<object, Pool>();
const defaultPool: Pool = new Map();
/** Origins known to answer h2 without extended CONNECT: 'auto' goes straight to HTTP/1.1. */
const noExtendedConnect = new Set<string>();

/**
 * A session to `target` for a WebSocket, from the pool or newly opened. With `mode` 'auto',
 * HTTP/1.1 is chosen when ALPN does not pick h2 or the server does not advertise
 * SETTINGS_ENABLE_CONNECT_PROTOCOL; with `true`, those fail with a HandshakeError. Plain
 * ws:// uses HTTP/2 with prior knowledge (h2c) under `true`, HTTP/1.1 under 'auto'.
 */
export function acquireSession(
  target: SessionTarget,
  mode: true | 'auto',
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<SessionChoice> {
  const origin = `${target.secure ? 'https' : 'http'}://${target.hostname}:${target.port}`;
  if (mode === 'auto' && (!target.secure || noExtendedConnect.has(origin))) {
    return Promise.resolve({ http1: true });
  }
  const pool = target.tls === undefined ? defaultPool : poolFor(target.tls);
  const key = origin;
  let pending = pool.get(key);
  if (pending === undefined) {
    const forget = () => {
      if (pool.get(key) === pending) pool.delete(key);
    };
    pending = open(target, origin, mode, deadline, signal, forget);
    pool.set(key, pending);
    // A failed or HTTP/1.1 attempt is not kept: the next WebSocket tries again.
    pending.then((choice) => ('http1' in choice ? forget() : undefined), forget);
  }
  return pending.then(takeChoice);
}

/** A TLS socket opened for HTTP/1.1 goes to one WebSocket only; others waiting open their own. */
function takeChoice(choice: SessionChoice): SessionChoice {
  if (!('http1' in choice) || choice.transport === undefined) return choice;
  const transport = choice.transport;
  choice.transport = undefined;
  return { http1: true, transport };
}

function poolFor(tls: object): Pool {
  let pool = pools.get(tls);
  if (pool === undefined) {
    pool = new Map();
    pools.set(tls, pool);
  }
  return pool;
}

async function open(
  target: SessionTarget,
  origin: string,
  mode: true | 'auto',
  deadline: number,
  signal: AbortSignal | undefined,
  forget: () => void,
): Promise<SessionChoice> {
  let tlsSocket: TLSSocket | undefined;
  if (target.secure) {
    tlsSocket = tlsConnect({
      host: target.hostname,
      port: target.port,
      servername: isIpAddress(target.hostname) ? undefined : target.hostname,
      ALPNProtocols: mode === 'auto' ? ['h2', 'http/1.1'] : ['h2'],
      ...target.tls,
    });
    try {
      await waitConnected(tlsSocket, 'secureConnect', deadline, signal, `the TLS handshake with ${origin}`);
    } catch (error) {
      // A server without h2 may end the TLS handshake with no_application_protocol.
      if (mode === true && /no application protocol/i.test(String(error))) {
        throw new HandshakeError(0, `${origin} did not agree to HTTP/2 (ALPN)`, { cause: error });
      }
      throw error;
    }
    if (tlsSocket.alpnProtocol !== 'h2') {
      if (mode === 'auto') return { http1: true, transport: tlsSocket };
      tlsSocket.destroy();
      throw new HandshakeError(0, `${origin} did not agree to HTTP/2 (ALPN)`);
    }
  }
  const connected = tlsSocket;
  const session = http2Connect(origin, {
    settings: { enablePush: false },
    ...(connected === undefined ? {} : { createConnection: () => connected }),
  });
  const advertised = await firstSettings(session, origin, deadline, signal);
  if (!advertised) {
    session.close();
    if (mode === 'auto') {
      // Remembered for a bounded number of origins (oldest forgotten first).
      if (noExtendedConnect.size >= 1_000) noExtendedConnect.delete(noExtendedConnect.values().next().value!);
      noExtendedConnect.add(origin);
      return { http1: true };
    }
    throw new HandshakeError(
      0,
      `${origin} does not advertise WebSockets over HTTP/2 (RFC 8441 SETTINGS_ENABLE_CONNECT_PROTOCOL)`,
    );
  }
  return { session: new PooledSession(session, forget) };
}

/** Waits for the server's first SETTINGS: whether it enables extended CONNECT. */
function firstSettings(
  session: ClientHttp2Session,
  origin: string,
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    const timer = setTimeout(
      () => settle(new HandshakeError(0, `HTTP/2 settings from ${origin} timed out`)),
      Math.max(0, deadline - Date.now()),
    );
    const onAbort = () => settle(signal!.reason);
    const onError = (error: Error) => settle(error);
    const onClose = () => settle(new HandshakeError(0, `the HTTP/2 connection to ${origin} closed`));
    const onSettings = () => settle(null, session.remoteSettings.enableConnectProtocol === true);
    function settle(error: unknown, value?: boolean): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      session.off('remoteSettings', onSettings);
      session.off('error', onError);
      session.off('close', onClose);
      if (error === null) {
        resolve(value!);
        return;
      }
      session.destroy();
      reject(error);
    }
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    session.once('remoteSettings', onSettings);
    session.on('error', onError);
    session.once('close', onClose);
  });
}
