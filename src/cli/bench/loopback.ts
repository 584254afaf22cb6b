import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/**
 * Whether a load test stays on this machine. A load generator pointed at someone else's server
 * by a typo is an attack, so `wsx bench` loads only loopback addresses unless told otherwise.
 * A host name counts as loopback when every address it resolves to is one (`localhost` does).
 */

/** 127.0.0.0/8, ::1, and 127.0.0.0/8 as IPv4-mapped IPv6 (::ffff:127.x.y.z), however written. */
export function isLoopbackAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return address.startsWith('127.');
  if (family !== 6) return false;
  const groups = ipv6Groups(address);
  const zeros = (count: number) => groups.slice(0, count).every((group) => group === 0);
  return (zeros(7) && groups[7] === 1) || (zeros(5) && groups[5] === 0xffff && groups[6] >> 8 === 127);
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, a dotted IPv4 tail split in two). */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase().replace(/%.*$/, '');
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted !== null) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, ''];
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const middle = Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...middle, ...right].map((group) => Number.parseInt(group, 16));
}

/**
 * The first address of `hostname` that is not loopback, or null when all are. Names are
 * resolved as the connection will resolve them; a name that does not resolve rejects.
 */
export async function firstRemoteAddress(hostname: string): Promise<string | null> {
  if (isIP(hostname) !== 0) return isLoopbackAddress(hostname) ? null : hostname;
  const addresses = await lookup(hostname, { all: true, verbatim: true });
  for (const { address } of addresses) if (!isLoopbackAddress(address)) return address;
  return null;
}
