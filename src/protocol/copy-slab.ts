/**
 * Where whole messages read from a lent chunk (`Connection.receiveLent`) are copied to: one
 * slab per read at most, sized by the read, cut in the order the messages arrive. A message
 * then keeps alive what Node's own read buffer would have kept (the bytes of its read), and a
 * read of many messages costs one allocation, not one per message (a 4 KiB buffer each, from
 * malloc, made 4 KiB echoes about a fifth slower). Reads under 4 KiB take their slab from
 * Node's shared pool, as `Buffer.allocUnsafe` does.
 */

/**
 * Fewer bytes than this left in a read after a message are at most its frame's header: then the
 * message is the read's only copy, and gets a buffer of its own size (the slab is the message).
 */
const HEADER_ROOM = 16;

let slab: Buffer | null = null;
let used = 0;
/** Bytes the current read may still copy out: a new slab, when one is needed, gets this size. */
let wanted = 0;

/** A lent read of `length` bytes begins: the copies of its messages add up to fewer bytes. */
export function expectCopies(length: number): void {
  wanted = length;
}

/** `length` bytes of slab for one message's copy. */
export function copyTarget(length: number): Buffer {
  if (slab === null || slab.length - used < length) {
    // A handler may read another connection's held bytes in the middle of a read, so the
    // copies may outgrow what the read announced: then a slab of just the rest is made.
    slab = Buffer.allocUnsafe(wanted - length < HEADER_ROOM ? length : wanted);
    used = 0;
  }
  // A read of one message (the usual case when a client writes each frame with its own system
  // call) hands its slab over whole, with no view made of it (room for all of it means none is used).
  const target = length === slab.length ? slab : slab.subarray(used, used + length);
  used += length;
  wanted -= length;
  return target;
}
