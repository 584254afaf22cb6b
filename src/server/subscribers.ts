import { moveSlot, slotOf, type TopicMember } from './own-topics.js';

/**
 * The sockets subscribed to one topic: an array in which each socket knows its slot (kept
 * with its own topics, `own-topics.ts`), so that adding and removing are O(1) and a publish
 * walks a plain array.
 *
 * Not a Set: with a Set of sockets per topic, V8's young-generation collections promoted
 * about twice the bytes per handshake and took about twice as long (`node --trace-gc-nvp`
 * under the handshake bench, where every socket subscribes). A Set of sockets did the same
 * to the `net-handshake` floor; a list threaded through the members, or an array, did not.
 *
 * A removal swaps the last socket into the freed slot, except during a walk (`beginWalk`), when
 * it leaves a hole that the walk's end fills: no socket is skipped or visited twice because
 * another left meanwhile. Sockets added during a walk are not visited by it.
 */
export class Subscribers<S extends TopicMember> {
  private readonly sockets: (S | null)[] = [];
  /** Walks under way: a `recovery` handler, run during a publish, may unsubscribe or publish. */
  private walks = 0;
  /** Slots emptied during the walks under way. */
  private holes = 0;

  constructor(readonly topic: string) {}

  get size(): number {
    return this.sockets.length - this.holes;
  }

  /** Adds a socket that has just taken `topic` into its own topics with the slot this returns. */
  add(socket: S): number {
    const slot = this.sockets.length;
    this.sockets.push(socket);
    return slot;
  }

  has(socket: S): boolean {
    const slot = slotOf(socket, this.topic);
    return slot >= 0 && this.sockets[slot] === socket;
  }

  /** Removes a socket; false if it was not here. Call it before the topic leaves the socket's own topics. */
  delete(socket: S): boolean {
    const sockets = this.sockets;
    const slot = slotOf(socket, this.topic);
    if (slot < 0 || sockets[slot] !== socket) return false;
    if (this.walks > 0) {
      sockets[slot] = null;
      this.holes++;
      return true;
    }
    const last = sockets.pop()!;
    if (last !== socket) {
      sockets[slot] = last;
      moveSlot(last, this.topic, slot);
    }
    return true;
  }

  /**
   * Starts a walk: the sockets, with null for those that leave during it, to be read up to the
   * length they have now. `endWalk` must follow (in a `finally`).
   */
  beginWalk(): readonly (S | null)[] {
    this.walks++;
    return this.sockets;
  }

  endWalk(): void {
    if (--this.walks === 0 && this.holes > 0) this.fillHoles();
  }

  /** The sockets here now, as a Set of their own. */
  snapshot(): Set<S> {
    const copy = new Set<S>();
    for (const socket of this.sockets) if (socket !== null) copy.add(socket);
    return copy;
  }

  /** Closes the holes a walk left, keeping the order of the others. */
  private fillHoles(): void {
    const sockets = this.sockets;
    let kept = 0;
    for (let i = 0; i < sockets.length; i++) {
      const socket = sockets[i];
      if (socket === null) continue;
      if (kept !== i) {
        sockets[kept] = socket;
        moveSlot(socket, this.topic, kept);
      }
      kept++;
    }
    while (sockets.length > kept) sockets.pop();
    this.holes = 0;
  }
}
