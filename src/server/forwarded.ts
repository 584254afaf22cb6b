// The headers a reverse proxy adds to say whom it took a request from: X-Forwarded-For (a
// de facto standard: a comma-separated list of addresses) and Forwarded (RFC 7239). Parsing
// only; which hops to believe is decided in client-address.ts.
import { isIP, SocketAddress } from 'node:net';

/** One hop a proxy recorded: the address it took the request from, and the port (0 when not given). */
export interface ForwardedHop {
  readonly address: string;
  readonly port: number;
}

/**
 * The hops listed by X-Forwarded-For values (several fields are one list, in order),
 * leftmost (furthest from the server) first. An entry that is not an IP address, with an
 * optional port (`203.0.113.7`, `2001:db8::1`, `203.0.113.7:4711`, `[2001:db8::1]:4711`), is
 * `null`: that hop is unknown. Empty entries are skipped, as in any HTTP list.
 */
export function parseXForwardedFor(values: readonly string[]): (ForwardedHop | null)[] {
  const hops: (ForwardedHop | null)[] = [];
  for (const value of values) {
    for (const entry of value.split(',')) {
      const node = entry.trim();
      if (node !== '') hops.push(parseNode(node, true));
    }
  }
  return hops;
}

/**
 * The `for=` hops of Forwarded values (RFC 7239 §4), leftmost first. An element whose `for`
 * is missing, repeated, `unknown`, obfuscated (`_hidden`) or malformed is `null`, as is an
 * element that does not parse (an unclosed quote, a pair without `=`).
 */
export function parseForwarded(values: readonly string[]): (ForwardedHop | null)[] {
  const hops: (ForwardedHop | null)[] = [];
  for (const value of values) {
    for (const element of splitOutsideQuotes(value, ',')) {
      if (element.trim() !== '') hops.push(forOf(element));
    }
  }
  return hops;
}

/** The `for` node of one forwarded-element (`for=...;proto=...;by=...`). */
function forOf(element: string): ForwardedHop | null {
  let node: string | undefined;
  for (const pair of splitOutsideQuotes(element, ';')) {
    if (pair.trim() === '') continue;
    const equals = pair.indexOf('=');
    if (equals <= 0) return null;
    const name = pair.slice(0, equals).trim().toLowerCase();
    const value = unquote(pair.slice(equals + 1).trim());
    if (value === null) return null;
    if (name !== 'for') continue;
    // RFC 7239 §4: each parameter MUST NOT occur more than once per forwarded-element.
    if (node !== undefined) return null;
    node = value;
  }
  // RFC 7239 §6: IPv6 addresses are always bracketed there, so a bare one is malformed.
  return node === undefined ? null : parseNode(node, false);
}

/** The value of a token or a quoted-string (with its `\` escapes undone); null if malformed. */
function unquote(value: string): string | null {
  if (!value.startsWith('"')) return value.includes('"') ? null : value;
  if (value.length < 2 || !value.endsWith('"')) return null;
  let out = '';
  for (let i = 1; i < value.length - 1; i++) {
    let c = value[i];
    if (c === '"') return null;
    if (c === '\\') {
      i++;
      if (i >= value.length - 1) return null;
      c = value[i];
    }
    out += c;
  }
  return out;
}

/** Splits on `separator` where it is not inside a quoted-string; an unclosed quote runs to the end. */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === separator) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/**
 * An IP address with an optional port: `IPv4`, `IPv4:port`, `[IPv6]`, `[IPv6]:port`, and a
 * bare `IPv6` where `bareIpv6` allows it. RFC 7239 §6 lets a proxy hide the port
 * (`"[2001:db8::1]:_p1"`): the address still counts, the port is 0. `unknown` and obfuscated
 * names (`_hidden`) are not addresses.
 */
function parseNode(node: string, bareIpv6: boolean): ForwardedHop | null {
  let host: string;
  let portText: string | undefined;
  if (node.startsWith('[')) {
    const close = node.indexOf(']');
    if (close === -1) return null;
    host = node.slice(1, close);
    if (isIP(host) !== 6) return null;
    const rest = node.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return null;
      portText = rest.slice(1);
    }
  } else if (isIP(node) === 4 || (bareIpv6 && isIP(node) === 6)) {
    host = node;
  } else {
    const colon = node.indexOf(':');
    if (colon === -1 || isIP(node.slice(0, colon)) !== 4) return null;
    host = node.slice(0, colon);
    portText = node.slice(colon + 1);
  }
  const port = portText === undefined ? 0 : parsePort(portText, !bareIpv6);
  if (port === null) return null;
  return { address: canonical(host), port };
}

/** A port number 1-65535; an obfuscated port (RFC 7239 §6.3, `_` then name characters) is 0 where allowed. */
function parsePort(text: string, obfuscatedAllowed: boolean): number | null {
  if (/^\d{1,5}$/.test(text)) {
    const port = Number(text);
    return port >= 1 && port <= 65_535 ? port : null;
  }
  return obfuscatedAllowed && /^_[A-Za-z0-9._-]+$/.test(text) ? 0 : null;
}

/** The address as Node writes it (`2001:DB8:0::1` is `2001:db8::1`), so one client is one key. */
function canonical(address: string): string {
  try {
    return new SocketAddress({ address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' }).address;
  } catch {
    return address;
  }
}
