import { isUtf8 } from 'node:buffer';

/**
 * Incremental UTF-8 validation for text that arrives in pieces (fragments, or one frame
 * split across TCP reads), so that an invalid sequence fails the connection as soon as
 * it arrives (RFC 6455 §8.1) rather than when the message ends.
 *
 * The complete part of each piece is checked by the native `isUtf8`; only the bytes of a
 * sequence cut by a piece boundary (at most 3) are tracked here, and even those are
 * checked byte by byte, so a prefix that can never become valid fails immediately.
 */
export class Utf8Validator {
  /** Continuation bytes still expected by the sequence cut at the end of the last piece. */
  private pending = 0;
  /** Bounds for the next continuation byte (narrower than 0x80-0xBF after E0, ED, F0, F4). */
  private lower = 0x80;
  private upper = 0xbf;

  /** True when no sequence is left open, i.e. the text so far can end here. */
  get complete(): boolean {
    return this.pending === 0;
  }

  /** Forgets any open sequence, ready for the next message. */
  reset(): void {
    this.pending = 0;
    this.lower = 0x80;
    this.upper = 0xbf;
  }

  /** Validates the next piece; returns false as soon as the text cannot be valid UTF-8. */
  write(bytes: Uint8Array): boolean {
    let start = 0;
    const end = bytes.length;
    // Finish the sequence left open by the previous piece.
    while (this.pending > 0 && start < end) {
      const byte = bytes[start++];
      if (byte < this.lower || byte > this.upper) return false;
      this.pending--;
      this.lower = 0x80;
      this.upper = 0xbf;
    }
    if (start === end) return true;
    // Find where a sequence cut by the end of this piece begins (at most 3 bytes back).
    let cut = end;
    for (let i = end - 1; i >= start && i >= end - 3; i--) {
      const byte = bytes[i];
      if (byte < 0x80) break;
      if (byte >= 0xc0) {
        const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
        if (end - i < length) cut = i;
        break;
      }
    }
    if (!isUtf8(start === 0 && cut === end ? bytes : bytes.subarray(start, cut))) return false;
    return this.openSequence(bytes, cut, end);
  }

  /** Checks the incomplete sequence bytes[from, to) and remembers what it still needs. */
  private openSequence(bytes: Uint8Array, from: number, to: number): boolean {
    if (from === to) return true;
    const lead = bytes[from];
    let needed: number;
    if (lead >= 0xc2 && lead <= 0xdf) needed = 1;
    else if (lead >= 0xe0 && lead <= 0xef) needed = 2;
    else if (lead >= 0xf0 && lead <= 0xf4) needed = 3;
    else return false; // C0, C1 (overlong) and F5-FF never start a valid sequence
    // The second byte's range depends on the lead byte (Unicode 15, table 3-7).
    this.lower = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80;
    this.upper = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf;
    this.pending = needed;
    for (let i = from + 1; i < to; i++) {
      const byte = bytes[i];
      if (byte < this.lower || byte > this.upper) return false;
      this.pending--;
      this.lower = 0x80;
      this.upper = 0xbf;
    }
    return true;
  }
}
