import type { Server as HttpServer } from 'node:http';
import type { Socket as NetSocket } from 'node:net';
import { publishHandshakeRejected } from '../node/diagnostics.js';
import { listenTransport, type TransportSink, unlistenTransport } from '../node/reading.js';
import { HandshakeError } from '../protocol/errors.js';
import { asksForUpgrade, type RequestHead, RequestHeadReader } from '../protocol/handshake/request-head.js';
import { buildRejectResponse } from '../protocol/handshake/server.js';
import { type ListedSocket, SocketList } from './socket-list.js';

/** What the listener needs from the WebSocket server. */
export interface UpgradeListenerOptions {
  /** Time for a connection to send its whole request head; then 408 and the connection is dropped. */
  readonly handshakeTimeout: number;
  /** Most bytes of a request head (request line and fields). */
  readonly maxHeaderBytes: number;
  /** Takes an upgrade request, with the bytes read after the head in `rest`; the socket keeps reading (see UpgradeListener). */
  readonly upgrade: (head: RequestHead, socket: NetSocket, rest: Buffer) => void;
}

type Listener = (this: HttpServer, socket: NetSocket) => void;

/**
 * A connection whose request head is still arriving: its reader, and the sink of its
 * transport's events (`listenTransport`) until the WebSocket socket takes them over.
 */
class PendingHead extends RequestHeadReader implements TransportSink, ListedSocket<PendingHead> {
  /** Set once the head is complete: later events are the upgrade's (or nobody's). */
  done = false;
  /** @internal Neighbours in the listener's list of pending heads. */
  listPrev: PendingHead | null = null;
  /** @internal */
  listNext: PendingHead | null = null;
  constructor(
    readonly listener: UpgradeListener,
    readonly socket: NetSocket,
    readonly deadline: number,
    limits: UpgradeListenerOptions,
  ) {
    super(limits);
  }
  onData(chunk: Buffer): void {
    // After the head, bytes reach here only once the request was refused: they are dropped.
    if (!this.done) this.listener.received(this, chunk);
  }
  onEnd(): void {
    if (!this.done) this.listener.ended(this);
  }
  finish(): void {
    this.listener.forget(this);
  }
  onError(): void {}
  onDrain(): void {}
}

/**
 * The lean path of `listen()`: reads each connection's request head with wsx's own reader
 * (`RequestHeadReader`) instead of Node's HTTP parser. Upgrade requests go straight to the
 * WebSocket server, without an IncomingMessage or a parser per connection; any other request
 * is handed, with every byte read so far put back, to the HTTP server's own connection
 * handler, which then serves it (and whatever follows on the connection) as it always does.
 *
 * The connection's listeners are the ones its WebSocket socket will use (`listenTransport`):
 * an upgrade answered at once goes from head to socket inside one read, with no listener
 * added or removed and reading never paused.
 *
 * Slow heads are cut by one sweep over the pending connections (no timer per connection),
 * every quarter of `handshakeTimeout` and at least every second.
 */
export class UpgradeListener {
  private readonly server: HttpServer;
  private readonly options: UpgradeListenerOptions;
  /** Node's own handlers of new connections, for requests that are not upgrades. */
  private readonly httpHandlers: Listener[];
  /**
   * Heads still arriving, threaded through the heads themselves: not a Set, for the reason
   * `subscribers.ts` gives (here a Set made V8's scavenges promote about 1.6 times the bytes
   * per handshake).
   */
  private readonly pending = new SocketList<PendingHead>();
  private readonly timer: NodeJS.Timeout;

  /** Takes over `event` ('connection', or 'secureConnection' for https) of an http(s) server. */
  constructor(server: HttpServer, event: 'connection' | 'secureConnection', options: UpgradeListenerOptions) {
    this.server = server;
    this.options = options;
    this.httpHandlers = server.listeners(event) as Listener[];
    server.removeAllListeners(event);
    server.on(event, (socket: NetSocket) => this.accept(socket));
    const period = Math.min(1_000, Math.max(10, Math.ceil(options.handshakeTimeout / 4)));
    this.timer = setInterval(sweep, period, this);
    this.timer.unref();
  }

  /** Stops the sweep and drops the connections whose head has not arrived. */
  close(): void {
    clearInterval(this.timer);
    for (const state of this.pending) this.release(state).destroy();
  }

  private accept(socket: NetSocket): void {
    // An HTTP/2 connection (ALPN h2, on a same-port server) has no request head to read.
    if ((socket as { alpnProtocol?: string | false }).alpnProtocol === 'h2') {
      for (const handler of this.httpHandlers) handler.call(this.server, socket);
      return;
    }
    const state = new PendingHead(this, socket, Date.now() + this.options.handshakeTimeout, this.options);
    this.pending.add(state);
    listenTransport(socket, state);
  }

  /** @internal */
  received(state: PendingHead, chunk: Buffer): void {
    let head: RequestHead | null;
    try {
      head = state.push(chunk);
    } catch (error) {
      if (!(error instanceof HandshakeError)) throw error;
      this.refuse(state, error.status, error.message);
      return;
    }
    if (head === null) return;
    const socket = state.socket;
    state.done = true;
    this.pending.delete(state);
    if (asksForUpgrade(head)) {
      // The socket goes on reading into `state`, which drops what comes after a refusal;
      // the WebSocket socket takes the listeners over when the upgrade is accepted.
      const rest = head.headLength === head.received.length ? EMPTY : head.received.subarray(head.headLength);
      this.options.upgrade(head, socket, rest);
      return;
    }
    // Not ours: Node's HTTP server reads the connection from its first byte.
    unlistenTransport(socket);
    socket.pause();
    socket.unshift(head.received);
    for (const handler of this.httpHandlers) handler.call(this.server, socket);
    socket.resume();
  }

  /** @internal The peer ended its side before its head was complete. */
  ended(state: PendingHead): void {
    if (state.received === 0) {
      this.release(state).end();
      return;
    }
    this.refuse(state, 400, 'the connection ended within the request head');
  }

  /** @internal The connection closed. */
  forget(state: PendingHead): void {
    this.pending.delete(state);
  }

  /** @internal */
  sweep(): void {
    const now = Date.now();
    for (const state of this.pending) {
      if (state.socket.destroyed) this.pending.delete(state);
      else if (now >= state.deadline) this.refuse(state, 408, 'request head not received in time');
    }
  }

  /** Answers like Node's HTTP server answers a bad or late head: the status, then the connection is dropped. */
  private refuse(state: PendingHead, status: number, message: string): void {
    const socket = this.release(state);
    publishHandshakeRejected(status, message, socket.remoteAddress);
    if (socket.writable) socket.write(buildRejectResponse(status, `${message}\n`));
    socket.destroy();
  }

  /** Stops reading the head: later bytes are dropped, errors ignored (the listeners stay). */
  private release(state: PendingHead): NetSocket {
    this.pending.delete(state);
    state.done = true;
    return state.socket;
  }
}

const EMPTY = Buffer.alloc(0);

function sweep(listener: UpgradeListener): void {
  listener.sweep();
}
