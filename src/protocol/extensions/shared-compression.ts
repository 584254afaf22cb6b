/**
 * How a group of connections compresses a message identically: connections whose
 * permessage-deflate parameters have no context takeover on the server's side and the same
 * window, memLevel, level and threshold produce the same bytes for the same payload, so one
 * compressed frame serves all of them (a topic publish compresses once per parameter set,
 * not once per socket). `key` names the parameter set; `compress` returns the compressed
 * payload (RFC 7692 §7.2.1, without the 0x00 0x00 0xff 0xff tail), or null to send this
 * message uncompressed.
 */
export interface SharedCompression {
  readonly key: string;
  compress(payload: Uint8Array): Uint8Array | null;
}
