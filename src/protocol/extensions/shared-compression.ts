/**
 * How a group of connections compresses a message identically: connections whose
 * permessage-deflate parameters have no context takeover on the server's side and the same
 * window, memLevel, level and threshold produce the same bytes for the same payload, so one
 * compressed frame serves all of them (a topic publish compresses once per parameter set,
 * not once per socket). `key` names the parameter set; `compress` returns the payload to send
 * with RSV1 set: compressed (RFC 7692 §7.2.1, without the 0x00 0x00 0xff 0xff tail) or, under
 * the threshold, stored blocks; or null to send this message plain.
 */
export interface SharedCompression {
  /** Names the parameter set: connections with the same key get the same compressed bytes. */
  readonly key: string;
  /** The payload to send with RSV1 set (compressed or stored blocks), or null to send it plain. */
  compress(payload: Uint8Array): Uint8Array | null;
}
