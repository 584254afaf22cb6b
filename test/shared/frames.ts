// Reading frames off the wire in tests, written from RFC 6455 §5.2 (independent of src/).

export interface WireFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

/** Decodes frames from the front of `data`; `rest` holds the bytes of an incomplete frame. */
export function readFrames(data: Buffer): { frames: WireFrame[]; rest: Buffer } {
  const frames: WireFrame[] = [];
  let pos = 0;
  for (;;) {
    if (data.length - pos < 2) break;
    const first = data[pos];
    const second = data[pos + 1];
    let length = second & 0x7f;
    let at = pos + 2;
    if (length === 126) {
      if (data.length - at < 2) break;
      length = data.readUInt16BE(at);
      at += 2;
    } else if (length === 127) {
      if (data.length - at < 8) break;
      const big = data.readBigUInt64BE(at);
      if (big > BigInt(data.length)) break;
      length = Number(big);
      at += 8;
    }
    const masked = (second & 0x80) !== 0;
    let key: Buffer | null = null;
    if (masked) {
      if (data.length - at < 4) break;
      key = data.subarray(at, at + 4);
      at += 4;
    }
    if (data.length - at < length) break;
    const payload = Buffer.from(data.subarray(at, at + length));
    if (key !== null) for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
    frames.push({ fin: (first & 0x80) !== 0, rsv: (first >> 4) & 7, opcode: first & 0x0f, masked, payload });
    pos = at + length;
  }
  return { frames, rest: data.subarray(pos) };
}
