/** What a socket carries to be in a {@link SocketList}: its neighbours there. */
export interface ListedSocket<T> {
  /** @internal */
  listPrev: T | null;
  /** @internal */
  listNext: T | null;
}

/**
 * Connections in the order they came (a server's open sockets, the heads still arriving): a
 * list threaded through them (two fields on each, 16 bytes) rather than a Set, whose entry
 * costs 20 to 40 bytes with its share of the table and makes V8's scavenges promote more
 * (`subscribers.ts`). Adding and removing are O(1). A walk goes on past the
 * removal of the socket it is at or of any other one, though not of that socket and its
 * successor both in one step.
 */
export class SocketList<T extends ListedSocket<T>> implements Iterable<T> {
  private head: T | null = null;
  private tail: T | null = null;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds a socket that is in no list. */
  add(socket: T): void {
    socket.listPrev = this.tail;
    socket.listNext = null;
    if (this.tail === null) this.head = socket;
    else this.tail.listNext = socket;
    this.tail = socket;
    this.count++;
  }

  /** Removes `socket`; false if it was not in this list. */
  delete(socket: T): boolean {
    const prev = socket.listPrev;
    const next = socket.listNext;
    if (prev === null ? this.head !== socket : prev.listNext !== socket) return false;
    if (prev === null) this.head = next;
    else prev.listNext = next;
    if (next === null) this.tail = prev;
    else next.listPrev = prev;
    socket.listPrev = null;
    socket.listNext = null;
    this.count--;
    return true;
  }

  /** Whether `socket` is in this list. */
  has(socket: T): boolean {
    return socket.listPrev !== null ? socket.listPrev.listNext === socket : this.head === socket;
  }

  *[Symbol.iterator](): Iterator<T> {
    let socket = this.head;
    while (socket !== null) {
      // Read first: the caller may remove the socket it has. If it is still here, its
      // successor is read again, in case that one was removed meanwhile.
      const next = socket.listNext;
      yield socket;
      socket = this.has(socket) ? socket.listNext : next;
    }
  }
}
