import type { Server as HttpServer } from 'node:http';
import type { Socket as NetSocket } from 'node:net';
import { publishHandshakeRejected } from '../node/diagnostics.js';
import { HandshakeError } from '../protocol/errors.js';
import { asksForUpgrade, type RequestHead, RequestHeadReader } from '../protocol/handshake/request-head.js';
import { buildRejectResponse } from '../protocol/handshake/server.js';

/** What the listener needs from the WebSocket server. */
export interface UpgradeListenerOptions {
  /** Time for a connection to send its whole request head; then 408 and the connection is dropped. */
  readonly handshakeTimeout: number;
  /** Most bytes of a request head (request line and fields). */
  readonly maxHeaderBytes: number;
  /** Takes an upgrade request; the socket is paused, with the bytes after the head unread in `rest`. */
  readonly upgrade: (head: RequestHead, socket: NetSocket, rest: Buffer) => void;
}

type Listener = (this: HttpServer, socket: NetSocket) => void;

const kHead = Symbol('wsx.head');
type HeadSocket = NetSocket & { [kHead]?: PendingHead };

/** A connection whose request head is still arriving. */
class PendingHead {
  readonly reader: RequestHeadReader;
  constructor(
    readonly listener: UpgradeListener,
    readonly deadline: number,
    limits: UpgradeListenerOptions,
  ) {
    this.reader = new RequestHeadReader(limits);
  }
}

/**
 * The lean path of `listen()`: reads each connection's request head with wsx's own reader
 * (`RequestHeadReader`) instead of Node's HTTP parser. Upgrade requests go straight to the
 * WebSocket server, without an IncomingMessage or a parser per connection; any other request
 * is handed, with every byte read so far put back, to the HTTP server's own connection
 * handler, which then serves it (and whatever follows on the connection) as it always does.
 *
 * Slow heads are cut by one sweep over the pending connections (no timer per connection),
 * every quarter of `handshakeTimeout` and at least every second.
 */
export class UpgradeListener {
  private readonly server: HttpServer;
  private readonly options: UpgradeListenerOptions;
  /** Node's own handlers of new connections, for requests that are not upgrades. */
  private readonly httpHandlers: Listener[];
  private readonly pending = new Set<HeadSocket>();
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
    for (const socket of this.pending) this.release(socket).destroy();
  }

  private accept(socket: HeadSocket): void {
    // An HTTP/2 connection (ALPN h2, on a same-port server) has no request head to read.
    if ((socket as { alpnProtocol?: string | false }).alpnProtocol === 'h2') {
      for (const handler of this.httpHandlers) handler.call(this.server, socket);
      return;
    }
    socket[kHead] = new PendingHead(this, Date.now() + this.options.handshakeTimeout, this.options);
    socket.on('data', onHeadData);
    socket.on('end', onHeadEnd);
    socket.on('error', ignoreError);
    this.pending.add(socket);
  }

  /** @internal */
  received(socket: HeadSocket, state: PendingHead, chunk: Buffer): void {
    let head: RequestHead | null;
    try {
      head = state.reader.push(chunk);
    } catch (error) {
      if (!(error instanceof HandshakeError)) throw error;
      this.refuse(socket, error.status, error.message);
      return;
    }
    if (head === null) return;
    this.release(socket).pause();
    if (asksForUpgrade(head)) {
      this.options.upgrade(head, socket, head.received.subarray(head.headLength));
      return;
    }
    // Not ours: Node's HTTP server reads the connection from its first byte.
    socket.unshift(head.received);
    for (const handler of this.httpHandlers) handler.call(this.server, socket);
    socket.resume();
  }

  /** @internal The peer ended its side before its head was complete. */
  ended(socket: HeadSocket, state: PendingHead): void {
    if (state.reader.received === 0) {
      this.release(socket).on('error', ignoreError).end();
      return;
    }
    this.refuse(socket, 400, 'the connection ended within the request head');
  }

  /** @internal */
  sweep(): void {
    const now = Date.now();
    for (const socket of this.pending) {
      if (socket.destroyed) this.release(socket);
      else if (now >= socket[kHead]!.deadline) this.refuse(socket, 408, 'request head not received in time');
    }
  }

  /** Answers like Node's HTTP server answers a bad or late head: the status, then the connection is dropped. */
  private refuse(socket: HeadSocket, status: number, message: string): void {
    publishHandshakeRejected(status, message, socket.remoteAddress);
    this.release(socket).on('error', ignoreError);
    if (socket.writable) socket.write(buildRejectResponse(status, `${message}\n`));
    socket.destroy();
  }

  /** Stops reading heads on `socket`; leaves it with no listener of ours. */
  private release(socket: HeadSocket): HeadSocket {
    this.pending.delete(socket);
    socket[kHead] = undefined;
    socket.removeListener('data', onHeadData);
    socket.removeListener('end', onHeadEnd);
    socket.removeListener('error', ignoreError);
    return socket;
  }
}

// Module-level listeners: `this` is the socket, which points to its pending head.
function onHeadData(this: HeadSocket, chunk: Buffer): void {
  const state = this[kHead];
  if (state !== undefined) state.listener.received(this, state, chunk);
}
function onHeadEnd(this: HeadSocket): void {
  const state = this[kHead];
  if (state !== undefined) state.listener.ended(this, state);
}
function sweep(listener: UpgradeListener): void {
  listener.sweep();
}
function ignoreError(): void {}
