// Behind a reverse proxy every connection comes from the proxy: the client's own address is
// only in the header the proxy adds. That header is believed only when the TCP peer is a proxy
// the server was told to trust, since anyone else can write any header they like.
import { BlockList, isIP } from 'node:net';
import type { HeaderMap } from '../protocol/handshake/headers.js';
import { type ForwardedHop, parseForwarded, parseXForwardedFor } from './forwarded.js';

/**
 * Proxies whose forwarding header is believed: IP addresses (`10.0.0.7`, `::1`), CIDR ranges
 * (`10.0.0.0/8`, `fd00::/8`), `'loopback'` (127.0.0.0/8 and ::1) and `'private'` (10.0.0.0/8,
 * 172.16.0.0/12, 192.168.0.0/16, fc00::/7); or a function deciding for one address.
 */
export type TrustProxy = readonly string[] | ((address: string) => boolean);

/** The header trusted proxies write the client's address in. */
export type ProxyHeader = 'x-forwarded-for' | 'forwarded';

/** An address and port a connection comes from (port 0 when not known). */
export type RemoteEndpoint = ForwardedHop;

/** Finds a request's client from its TCP peer and its headers. */
export type ClientAddressResolver = (peer: RemoteEndpoint, headers: HeaderMap) => RemoteEndpoint;

const NAMED_RANGES: ReadonlyMap<string, readonly string[]> = new Map([
  ['loopback', ['127.0.0.0/8', '::1/128']],
  ['private', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']],
]);

/**
 * The resolver for the `trustProxy` and `proxyHeader` options, or null when no proxy is
 * trusted (the default), and the TCP peer is the client. Throws on a malformed entry, so a
 * typo fails at start-up rather than trusting nothing (or everything) in production.
 */
export function clientAddressResolver(
  trustProxy: TrustProxy | undefined,
  proxyHeader: ProxyHeader = 'x-forwarded-for',
): ClientAddressResolver | null {
  if (proxyHeader !== 'x-forwarded-for' && proxyHeader !== 'forwarded') {
    throw new RangeError(`proxyHeader must be 'x-forwarded-for' or 'forwarded', got ${String(proxyHeader)}`);
  }
  if (trustProxy === undefined) return null;
  const trusted = typeof trustProxy === 'function' ? trustProxy : trustList(trustProxy);
  if (trusted === null) return null;
  const parse = proxyHeader === 'forwarded' ? parseForwarded : parseXForwardedFor;
  return (peer, headers) => {
    if (!trusted(peer.address)) return peer;
    const values = headers.all(proxyHeader);
    return values.length === 0 ? peer : clientOf(parse(values), peer, trusted);
  };
}

/**
 * The client among the hops: walking from the right (the hop nearest the server), the first
 * one that is not a trusted proxy. Hops left of it were written by that client, so they are
 * never read. A hop that is not an address (unknown, obfuscated, malformed) hides who sent
 * the request: then the TCP peer is used, as without a header. When every hop is trusted,
 * the leftmost is the furthest known.
 */
export function clientOf(
  hops: readonly (ForwardedHop | null)[],
  peer: RemoteEndpoint,
  trusted: (address: string) => boolean,
): RemoteEndpoint {
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i];
    if (hop === null) return peer;
    if (!trusted(hop.address)) return hop;
  }
  return hops[0] ?? peer;
}

/** The trust test of a list of addresses and ranges; null for an empty list (trust none). */
function trustList(entries: readonly string[]): ((address: string) => boolean) | null {
  if (!Array.isArray(entries)) {
    throw new TypeError('trustProxy must be a list of addresses and CIDR ranges, or a function');
  }
  if (entries.length === 0) return null;
  const list = new BlockList();
  for (const entry of entries) {
    if (typeof entry !== 'string') throw new TypeError(`trustProxy: ${String(entry)} is not a string`);
    for (const range of NAMED_RANGES.get(entry) ?? [entry]) addRange(list, range, entry);
  }
  return (address) => {
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  };
}

function addRange(list: BlockList, range: string, entry: string): void {
  const slash = range.indexOf('/');
  const address = slash === -1 ? range : range.slice(0, slash);
  const family = isIP(address);
  const maxPrefix = family === 6 ? 128 : 32;
  const prefixText = slash === -1 ? String(maxPrefix) : range.slice(slash + 1);
  const prefix = Number(prefixText);
  if (family === 0 || !/^\d{1,3}$/.test(prefixText) || prefix > maxPrefix) {
    throw new RangeError(
      `trustProxy: ${JSON.stringify(entry)} is not an IP address, a CIDR range, 'loopback' or 'private'`,
    );
  }
  list.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
}
