/**
 * The latest bytes that went through one direction of a permessage-deflate stream with
 * context takeover, up to one LZ77 window: exactly what a new zlib context needs as its
 * preset dictionary to carry on where a freed one stopped (RFC 7692 §7.2.3.3: the
 * sliding window is all the context there is).
 *
 * zlib cannot hand its window back, so the bytes are copied here as they pass. While a
 * connection is busy they go into a ring that grows up to one window; `compact()` turns it
 * into an exact-size copy, which is what an idle connection keeps instead of its zlib
 * contexts.
 */
/** Where a ring starts: most connections send small messages, and many send few. */
const MIN_RING = 1024;

export class History {
  private readonly capacity: number;
  /** The ring, while bytes are being added; null once compacted. */
  private ring: Buffer | null = null;
  /** Next write position in the ring. */
  private end = 0;
  /** Bytes held, up to `capacity`. */
  private size = 0;
  /** The bytes in order, while compacted (or before anything was added). */
  private saved: Buffer | null = null;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** Bytes held, at most one window. */
  get length(): number {
    return this.size;
  }

  /** Appends bytes that went through the stream; only the last `capacity` are kept. */
  add(bytes: Uint8Array): void {
    let from = 0;
    let count = bytes.length;
    if (count === 0) return;
    if (count >= this.capacity) {
      from = count - this.capacity;
      count = this.capacity;
    }
    let ring = this.ring;
    if (ring === null || (ring.length < this.capacity && this.size + count > ring.length)) {
      ring = this.reopen(this.size + count);
    }
    const length = ring.length;
    const first = Math.min(count, length - this.end);
    // Most messages fit before the ring wraps: copied whole, without making a view.
    if (from === 0 && first === count) ring.set(bytes, this.end);
    else {
      ring.set(bytes.subarray(from, from + first), this.end);
      if (first < count) ring.set(bytes.subarray(from + first, from + count), 0);
    }
    this.end = (this.end + count) % length;
    this.size = Math.min(length, this.size + count);
  }

  /** The bytes held, oldest first, or undefined when there are none (a zlib dictionary). */
  dictionary(): Buffer | undefined {
    if (this.size === 0) return undefined;
    if (this.ring === null) return this.saved!;
    const ring = this.ring;
    const start = (this.end - this.size + ring.length) % ring.length;
    if (start < this.end) return Buffer.from(ring.subarray(start, this.end));
    return Buffer.concat([ring.subarray(start), ring.subarray(0, this.end)], this.size);
  }

  /** Trades the ring for an exact-size copy of what it holds (an idle connection's footprint). */
  compact(): void {
    if (this.ring === null) return;
    this.saved = this.dictionary() ?? null;
    this.ring = null;
    this.end = 0;
  }

  /** Forgets everything (the peer or this side reset its context). */
  clear(): void {
    this.ring = null;
    this.saved = null;
    this.end = 0;
    this.size = 0;
  }

  /** A ring big enough for `wanted` bytes (doubling, up to the window), holding what is kept so far. */
  private reopen(wanted: number): Buffer {
    let length = this.ring?.length ?? MIN_RING;
    while (length < wanted && length < this.capacity) length *= 2;
    const ring = Buffer.allocUnsafe(Math.min(length, this.capacity));
    const kept = this.dictionary();
    if (kept !== undefined) ring.set(kept, 0);
    this.end = this.size % ring.length;
    this.saved = null;
    this.ring = ring;
    return ring;
  }
}
