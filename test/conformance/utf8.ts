// UTF-8 well-formedness per RFC 3629 section 4, evaluated incrementally so that the
// suite knows the exact byte at which a fail-fast decoder must give up.

export interface Utf8Verdict {
  /** True when the whole sequence is well-formed UTF-8. */
  valid: boolean;
  /**
   * Number of bytes after which the input can no longer be the prefix of valid UTF-8
   * (the offending byte is at index failAt - 1). Equals the length when the input is only
   * truncated at its end (detectable only once the message is complete). -1 when valid.
   */
  failAt: number;
  /** True when the only problem is a sequence cut off at the end (no definitely invalid byte). */
  truncated: boolean;
}

export function checkUtf8(bytes: Uint8Array): Utf8Verdict {
  let need = 0;
  let lo = 0x80;
  let hi = 0xbf;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (need === 0) {
      if (b <= 0x7f) continue;
      if (b >= 0xc2 && b <= 0xdf) need = 1;
      else if (b >= 0xe0 && b <= 0xef) {
        need = 2;
        if (b === 0xe0) lo = 0xa0;
        else if (b === 0xed) hi = 0x9f;
      } else if (b >= 0xf0 && b <= 0xf4) {
        need = 3;
        if (b === 0xf0) lo = 0x90;
        else if (b === 0xf4) hi = 0x8f;
      } else return { valid: false, failAt: i + 1, truncated: false };
      continue;
    }
    if (b < lo || b > hi) return { valid: false, failAt: i + 1, truncated: false };
    lo = 0x80;
    hi = 0xbf;
    need--;
  }
  if (need !== 0) return { valid: false, failAt: bytes.length, truncated: true };
  return { valid: true, failAt: -1, truncated: false };
}

/** Builds a buffer from hex text such as 'ce ba e1 bd b9' (spaces optional). */
export function hexBytes(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}
