/** Why an upgrade is refused by a connection limit. */
export type ConnectionLimitReason = 'maxConnections' | 'maxConnectionsPerAddress';

/**
 * Counts open connections, in all and per remote address, against `maxConnections` and
 * `maxConnectionsPerAddress`. The server checks before running the upgrade hook (to spare
 * the work) and takes a slot as it answers 101 (exact, as that step is synchronous);
 * the slot is given back when the socket closes. Per-address counts exist only while an
 * address has connections, and only when that limit is set.
 */
export class ConnectionGate {
  private readonly maxConnections: number;
  private readonly maxPerAddress: number;
  private open = 0;
  private readonly byAddress = new Map<string, number>();

  constructor(maxConnections = Number.POSITIVE_INFINITY, maxPerAddress = Number.POSITIVE_INFINITY) {
    checkLimit('maxConnections', maxConnections);
    checkLimit('maxConnectionsPerAddress', maxPerAddress);
    this.maxConnections = maxConnections;
    this.maxPerAddress = maxPerAddress;
  }

  /** The limit a new connection from `address` would exceed, or null. */
  refusal(address: string): ConnectionLimitReason | null {
    if (this.open >= this.maxConnections) return 'maxConnections';
    if (
      this.maxPerAddress !== Number.POSITIVE_INFINITY &&
      (this.byAddress.get(address) ?? 0) >= this.maxPerAddress
    )
      return 'maxConnectionsPerAddress';
    return null;
  }

  /** `peer`'s address is read only under a per-address limit (a socket makes its text on first use). */
  acquire(peer: { readonly remoteAddress: string }): void {
    this.open++;
    if (this.maxPerAddress !== Number.POSITIVE_INFINITY) {
      const address = peer.remoteAddress;
      this.byAddress.set(address, (this.byAddress.get(address) ?? 0) + 1);
    }
  }

  release(peer: { readonly remoteAddress: string }): void {
    this.open--;
    if (this.maxPerAddress !== Number.POSITIVE_INFINITY) {
      const address = peer.remoteAddress;
      const count = (this.byAddress.get(address) ?? 1) - 1;
      if (count <= 0) this.byAddress.delete(address);
      else this.byAddress.set(address, count);
    }
  }
}

function checkLimit(name: string, value: number): void {
  if (value !== Number.POSITIVE_INFINITY && (!Number.isSafeInteger(value) || value < 1)) {
    throw new RangeError(`${name} must be a positive integer (or Infinity), got ${value}`);
  }
}
