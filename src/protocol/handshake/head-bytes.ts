/**
 * The bytes of an HTTP head gathered from however many reads, in one buffer that doubles as
 * needed, so the cost stays linear however the head is split. A first read is used as it is;
 * `keep()` copies it when the head is still incomplete, since a transport's chunk is not ours
 * to hold or write into.
 */
export class HeadBytes {
  private buffer: Buffer | null = null;
  private owned = false;
  private length = 0;
  /** @internal For tests: bytes copied so far, which the doubling keeps within twice the head's size plus each chunk. */
  copied = 0;

  /** Bytes gathered so far. */
  get size(): number {
    return this.length;
  }

  /** Everything gathered so far (a view, valid until the next `append`). */
  get bytes(): Buffer {
    const buffer = this.buffer;
    if (buffer === null) return EMPTY;
    // A head that came in one read is that chunk itself: no view of it is made.
    return buffer.length === this.length ? buffer : buffer.subarray(0, this.length);
  }

  append(chunk: Buffer): void {
    const buffer = this.buffer;
    if (buffer === null) {
      this.buffer = chunk;
      this.length = chunk.length;
      return;
    }
    if (!this.owned || buffer.length < this.length + chunk.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.length + chunk.length, buffer.length * 2));
      buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
      this.owned = true;
      this.copied += this.length;
    }
    chunk.copy(this.buffer!, this.length);
    this.length += chunk.length;
    this.copied += chunk.length;
  }

  /** Makes sure the bytes are in a buffer of our own (before waiting for the next read). */
  keep(): void {
    if (this.owned || this.buffer === null) return;
    this.buffer = Buffer.from(this.bytes);
    this.owned = true;
    this.copied += this.length;
  }
}

const EMPTY = Buffer.alloc(0);
