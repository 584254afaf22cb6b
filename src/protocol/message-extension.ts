import type { SharedCompression } from './extensions/shared-compression.js';

/**
 * How a message goes out under a permessage extension: compressed, wrapped without
 * compression (RSV1 still set: some peers stall on a plain message), or plain (RSV1 clear).
 */
export type MessageEncoding = 'compressed' | 'stored' | 'plain';

/** Where an extension's decoded bytes go: an object, so that a connection needs no closure for it. */
export interface DecodedSink {
  /**
   * Decoded bytes, in order. `transient`: they are valid only during the call (an inflater's
   * output buffer), so they are copied rather than kept as a view.
   */
  appendDecoded(decoded: Buffer, transient?: boolean): void;
}

/** A permessage extension that claims RSV1 (permessage-deflate). */
export interface MessageExtension {
  /** Feeds compressed payload; decoded bytes go to `output`. `end` marks the message's last piece. */
  decode(piece: Buffer, end: boolean, output: DecodedSink): void;
  /**
   * How to send a whole message of `size` bytes; `force` is the caller's per-send choice
   * (false: no compression). A fragmented message is asked with `force` false.
   */
  encoding(size: number, force: boolean | undefined): MessageEncoding;
  /** Compresses a whole message. */
  encode(payload: Uint8Array): Buffer;
  /** Wraps a message, or one fragment of it (`end` on its last), without compressing it: the payload's pieces, in order. */
  store(payload: Uint8Array, end: boolean): Uint8Array[];
  /** How this connection compresses messages framed once for many (null: per connection, or never). */
  readonly sharedCompression: SharedCompression | null;
  /** Frees what the extension can rebuild later (a quiet connection's zlib contexts); true when something was freed. */
  hibernate(): boolean;
  /** Frees what the extension holds (zlib contexts). */
  release(): void;
}
