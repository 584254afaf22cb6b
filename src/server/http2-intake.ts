import {
  type Http2SecureServer,
  type Http2Server,
  Http2ServerResponse,
  type Http2Session,
  constants as h2,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Socket as NetSocket } from 'node:net';
import { incomingMessageFor } from './incoming-message.js';
import type { UpgradeInput } from './upgrade-flow.js';
import { Http2Peer, refuseStream } from './upgrade-peer.js';

/** Limits of what HTTP/2 adds to a WebSocket server; every field has a default. */
export interface Http2Limits {
  /**
   * Streams a client may have open at once on one connection (SETTINGS_MAX_CONCURRENT_STREAMS,
   * announced by servers `listen` creates): WebSockets and plain requests together. Default 1,000.
   */
  readonly maxStreamsPerSession?: number;
  /** WebSockets open at once on one connection; more extended CONNECTs get 429. Default 1,000. */
  readonly maxWebSocketsPerSession?: number;
  /** Bytes of a request's header list (SETTINGS_MAX_HEADER_LIST_SIZE, servers `listen` creates). Default 16 KiB. */
  readonly maxHeaderListSize?: number;
  /**
   * Streams a client may reset before the server answered them, within about 10 s (a decaying
   * count), before its connection is closed with ENHANCE_YOUR_CALM: bounds the "rapid reset"
   * attack (CVE-2023-44487) on the work each WebSocket request starts. Default 200.
   */
  readonly maxEarlyResets?: number;
}

/** An HTTP/2 server an application owns, plain (h2c) or secure, that `attach` can serve WebSockets on. */
export type AnyHttp2Server = Http2Server | Http2SecureServer;

const DEFAULTS = Object.freeze({
  maxStreamsPerSession: 1_000,
  maxWebSocketsPerSession: 1_000,
  maxHeaderListSize: 16 * 1024,
  maxEarlyResets: 200,
});
/** Half-life of the early-reset count, in ms. */
const RESET_HALF_LIFE = 10_000;

/** Per-session bookkeeping, kept on the session object. */
interface SessionState {
  webSockets: number;
  resets: number;
  resetAt: number;
}
const kState = Symbol('wsx.h2.session');
const kTaken = Symbol('wsx.h2.taken');
type TrackedSession = Http2Session & { [kState]?: SessionState };
type TakenStream = ServerHttp2Stream & { [kTaken]?: boolean };

/** The server side of RFC 8441 for one WebSocketServer: what it hands each HTTP/2 session. */
export class Http2Intake {
  readonly limits: Required<Http2Limits>;
  private readonly servers: AnyHttp2Server[] = [];
  private readonly sessions = new Set<Http2Session>();
  /** Connections of the servers `listen` made (HTTP/1.1 ones included), dropped at shutdown. */
  private readonly connections = new Set<NetSocket>();
  private advertising = false;

  constructor(
    limits: Http2Limits | undefined,
    private readonly deliver: (input: UpgradeInput, peer: Http2Peer) => void,
  ) {
    this.limits = { ...DEFAULTS, ...limits };
    for (const [name, value] of Object.entries(this.limits)) {
      if (!Number.isSafeInteger(value) || value < 1)
        throw new RangeError(`http2.${name} must be a positive integer, got ${value}`);
    }
  }

  /** Settings for the servers `listen` creates. */
  settings(): { maxConcurrentStreams: number; maxHeaderListSize: number; enableConnectProtocol: boolean } {
    return {
      maxConcurrentStreams: this.limits.maxStreamsPerSession,
      maxHeaderListSize: this.limits.maxHeaderListSize,
      enableConnectProtocol: this.advertising,
    };
  }

  /** Takes the extended CONNECTs of an HTTP/2 server (its other streams are left to it). */
  attach(server: AnyHttp2Server): void {
    this.servers.push(server);
    if (this.advertising) server.updateSettings({ enableConnectProtocol: true });
    // Ahead of the app's own listeners, so a stream is marked as ours before they see it.
    (server as Http2Server).prependListener(
      'stream',
      (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: unknown) => {
        this.take(stream, headers, rawHeaders as string[]);
      },
    );
    server.on('session', (session: Http2Session) => this.track(session));
    // Small frames go out at once, as they do on a WebSocket's own TCP connection.
    server.on('connection', setNoDelay);
    // Node's compatibility layer (present whenever a 'request' handler is) turns CONNECT into a
    // 'connect' event and answers 405 when nobody listens (nodejs/node#36977): listen, and leave
    // the streams taken here alone.
    server.on('connect', onCompatConnect);
  }

  /**
   * Starts advertising SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3): called once the
   * server has a WebSocket route, so that a server without any does not invite clients to
   * try (golang/go#71128).
   */
  advertise(): void {
    if (this.advertising) return;
    this.advertising = true;
    for (const server of this.servers) server.updateSettings({ enableConnectProtocol: true });
  }

  /**
   * Takes a stream if it is an extended CONNECT: a WebSocket goes to the server, another
   * `:protocol` gets 501. Returns false for any other stream (a plain CONNECT included).
   */
  take(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders?: readonly string[]): boolean {
    if (headers[':method'] !== 'CONNECT' || headers[':protocol'] === undefined) return false;
    (stream as TakenStream)[kTaken] = true;
    // Compared without case, as the Upgrade token it stands for (RFC 6455 §4.2.1): a proxy
    // turning a client's `Upgrade: WebSocket` into h2 (HAProxy does) keeps the case.
    if (String(headers[':protocol']).toLowerCase() !== 'websocket') {
      refuseStream(stream, 501, `protocol ${String(headers[':protocol'])} is not served here`);
      return true;
    }
    const session = stream.session as TrackedSession | undefined;
    if (session === undefined) return true;
    const state = stateOf(session);
    if (state.webSockets >= this.limits.maxWebSocketsPerSession) {
      refuseStream(
        stream,
        429,
        `more than ${this.limits.maxWebSocketsPerSession} WebSockets on this connection`,
      );
      return true;
    }
    state.webSockets++;
    stream.once('close', () => {
      state.webSockets--;
      // Reset by the client before it was answered: the work it started was for nothing.
      if (!stream.headersSent && stream.rstCode !== h2.NGHTTP2_NO_ERROR) this.earlyReset(session, state);
    });
    const raw = rawHeaders ?? flatten(headers);
    const path = String(headers[':path'] ?? '/');
    const socket = session.socket as NetSocket;
    this.deliver(
      {
        method: 'CONNECT',
        target: path,
        httpVersion: '2.0',
        fields: raw,
        request: () =>
          incomingMessageFor(
            { method: 'CONNECT', target: path, httpVersion: '2.0', rawHeaders: withHost(raw) },
            socket,
          ),
        noBody: false,
      },
      new Http2Peer(stream),
    );
    return true;
  }

  /** Tracks the connections of a server made by `listen`, so that shutdown can end them all. */
  own(server: AnyHttp2Server): void {
    server.on('connection', (socket: NetSocket) => {
      this.connections.add(socket);
      socket.once('close', () => this.connections.delete(socket));
    });
  }

  /** Ends what is left once the sessions have had their GOAWAY (HTTP/1.1 keep-alive connections). */
  dropConnections(): void {
    for (const socket of this.connections) socket.destroy();
  }

  /** Sends GOAWAY on every session (their streams may finish); those still open at `timeout` are destroyed. */
  async closeSessions(timeout: number): Promise<void> {
    const closing = [...this.sessions].map(
      (session) =>
        new Promise<void>((resolve) => {
          if (session.destroyed) return resolve();
          const done = () => {
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(() => {
            session.destroy();
            done();
          }, timeout);
          session.once('close', done);
          session.close();
        }),
    );
    await Promise.all(closing);
  }

  private track(session: Http2Session): void {
    this.sessions.add(session);
    session.on('close', () => this.sessions.delete(session));
    session.on('error', ignoreError);
  }

  private earlyReset(session: Http2Session, state: SessionState): void {
    const now = Date.now();
    state.resets = state.resets * 0.5 ** ((now - state.resetAt) / RESET_HALF_LIFE) + 1;
    state.resetAt = now;
    if (state.resets > this.limits.maxEarlyResets && !session.destroyed) {
      // The final GOAWAY says why (RFC 9113 §5.4.1); the session's streams end with it.
      session.destroy(undefined, h2.NGHTTP2_ENHANCE_YOUR_CALM);
    }
  }
}

function stateOf(session: TrackedSession): SessionState {
  let state = session[kState];
  if (state === undefined) {
    state = { webSockets: 0, resets: 0, resetAt: 0 };
    session[kState] = state;
  }
  return state;
}

function onCompatConnect(this: AnyHttp2Server, request: { stream?: TakenStream }, response: unknown): void {
  if (request.stream?.[kTaken] === true) return;
  if (this.listenerCount('connect') > 1) return;
  // Nobody else serves CONNECT: a plain CONNECT (RFC 9113 §8.5) asks for a tunnel, which this
  // server does not open; an HTTP/1.1 one (same-port servers) gets its connection closed, as
  // Node does without a 'connect' listener.
  if (response instanceof Http2ServerResponse) {
    response.writeHead(405, { allow: 'GET, HEAD' });
    response.end();
  } else {
    (response as NetSocket).destroy();
  }
}

/** Header fields as alternating names and values, pseudo-header fields first. */
function flatten(headers: IncomingHttpHeaders): string[] {
  const raw: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) raw.push(name, item);
    else raw.push(name, String(value));
  }
  return raw;
}

/** Fields for an IncomingMessage: the pseudo-header fields left out, :authority as Host. */
function withHost(raw: readonly string[]): string[] {
  const fields: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i] === ':authority') fields.push('host', raw[i + 1]);
    else if (!raw[i].startsWith(':')) fields.push(raw[i], raw[i + 1]);
  }
  return fields;
}

function ignoreError(): void {}
function setNoDelay(socket: NetSocket): void {
  socket.setNoDelay(true);
}
