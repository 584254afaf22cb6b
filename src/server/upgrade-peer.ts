import type { ServerHttp2Stream } from 'node:http2';
import type { Socket as NetSocket } from 'node:net';
import { type PeerEndpoint, peerOf } from '../node/peer-address.js';
import type { HttpVersion, Transport } from '../node/transport.js';
import type { HandshakeError } from '../protocol/errors.js';
import {
  buildExtendedConnectRefusal,
  buildExtendedConnectResponse,
  type ExtendedConnectAcceptance,
} from '../protocol/handshake/extended-connect.js';
import { buildAcceptResponse, buildRejectResponse } from '../protocol/handshake/server.js';

/**
 * The client end of a WebSocket handshake, as the server answers it: over HTTP/1.1 a 101 or
 * an error response on the connection; over HTTP/2 a response on the stream. Everything else
 * in the server (routes, hook, origins, limits) is the same for both.
 */
export interface UpgradePeer {
  readonly httpVersion: HttpVersion;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly destroyed: boolean;
  /** The connection's socket (for an IncomingMessage made on demand). */
  readonly socket: NetSocket;
  refuse(error: HandshakeError, body: string): void;
  /** Holds back what the peer sends while an upgrade hook decides (the acceptance reads on). */
  hold(): void;
  /** Sends the acceptance and returns the transport the WebSocket runs over. */
  accept(acceptance: ExtendedConnectAcceptance): Transport;
}

/** An upgrade request on an HTTP/1.1 connection (RFC 6455). */
export class Http1Peer implements UpgradePeer {
  readonly httpVersion = '1.1';

  /** Read on first use, without the copy net.Socket would keep (see `peerOf`). */
  private peer: PeerEndpoint | null = null;

  /**
   * @param listened - The connection already has its listeners (`listenTransport`, under
   *   `listen`): its errors are taken, and it is read until paused.
   */
  constructor(
    readonly socket: NetSocket,
    private readonly listened = false,
  ) {
    if (!listened) socket.on('error', ignoreError);
  }

  hold(): void {
    // A connection handed over by Node's HTTP server is not read until a listener asks.
    if (this.listened) this.socket.pause();
  }

  get remoteAddress(): string {
    return (this.peer ??= peerOf(this.socket)).address;
  }
  get remotePort(): number {
    return (this.peer ??= peerOf(this.socket)).port;
  }
  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  refuse(error: HandshakeError, body: string): void {
    const socket = this.socket;
    if (socket.destroyed) return;
    socket.end(buildRejectResponse(error.status, `${body}\n`, error.headers));
    socket.setTimeout(2_000, () => socket.destroy());
    // Held for a hook, it reads on (the bytes are dropped) to see the peer's close: a socket
    // read through the scratch stops reading the moment it is paused.
    if (this.listened) socket.resume();
  }

  accept(acceptance: ExtendedConnectAcceptance): Transport {
    this.socket.write(buildAcceptResponse(acceptance), 'latin1');
    if (!this.listened) this.socket.off('error', ignoreError);
    return this.socket;
  }
}

/** An extended CONNECT on one stream of an HTTP/2 session (RFC 8441). */
export class Http2Peer implements UpgradePeer {
  readonly httpVersion = '2';
  readonly socket: NetSocket;

  constructor(readonly stream: ServerHttp2Stream) {
    this.socket = stream.session!.socket as NetSocket;
    stream.on('error', ignoreError);
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? '';
  }
  get remotePort(): number {
    return this.socket.remotePort ?? 0;
  }
  get destroyed(): boolean {
    return this.stream.destroyed;
  }

  refuse(error: HandshakeError, body: string): void {
    refuseStream(this.stream, error.status, body, error.headers);
  }

  hold(): void {}

  accept(acceptance: ExtendedConnectAcceptance): Transport {
    this.stream.respond(buildExtendedConnectResponse(acceptance), { endStream: false });
    this.stream.off('error', ignoreError);
    return this.stream;
  }
}

/** Answers a stream with an error status and a short text body, ending it. */
export function refuseStream(
  stream: ServerHttp2Stream,
  status: number,
  body: string,
  headers?: Readonly<Record<string, string | readonly string[]>>,
): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.on('error', ignoreError);
  stream.respond(buildExtendedConnectRefusal(status, headers));
  stream.end(`${body}\n`);
}

function ignoreError(): void {}
