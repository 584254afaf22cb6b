import { Socket as NetSocket } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * What a WebSocket is carried over: any Duplex (a TCP or TLS socket, an HTTP/2 stream for
 * RFC 8441). The socket-only calls are optional and used when present, so a transport without
 * them (an `Http2Stream` has no `setNoDelay` or peer address of its own) fits as it is.
 */
export interface Transport extends Duplex {
  /** Turns off Nagle's algorithm: frames are already gathered, one write per tick. */
  setNoDelay?(noDelay?: boolean): unknown;
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  /** Set on TLS sockets. */
  readonly encrypted?: boolean;
}

/** Sends small writes at once where the transport has a Nagle delay to turn off. */
export function disableNagle(transport: Transport): void {
  if (typeof transport.setNoDelay === 'function') transport.setNoDelay(true);
}

/**
 * Whether closing the descriptor is a clean end for this transport: plain TCP only. TLS needs
 * its close_notify (through `end`), and a stream inside another connection (HTTP/2) ends by
 * its own protocol.
 */
export function closesWithDescriptor(transport: Transport): boolean {
  return transport instanceof NetSocket && (transport as Transport).encrypted !== true;
}
