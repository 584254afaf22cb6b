// Reading the client's address from X-Forwarded-For and Forwarded (RFC 7239), and believing it
// only from trusted proxies. The same rules behind real nginx and HAProxy: test/interop/forwarded-for.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeaderMap } from '../../src/protocol/handshake/headers.js';
import { clientAddressResolver, type ProxyHeader, type TrustProxy } from '../../src/server/client-address.js';
import { parseForwarded, parseXForwardedFor } from '../../src/server/forwarded.js';
import { createServer } from '../../src/server/server.js';

describe('X-Forwarded-For', () => {
  it('lists the hops left to right, with ports where given and canonical addresses', () => {
    assert.deepEqual(
      parseXForwardedFor(['203.0.113.7, 2001:DB8:0:0::1,198.51.100.2:4711', '[2001:db8::2]:8080 , [::1]']),
      [
        { address: '203.0.113.7', port: 0 },
        { address: '2001:db8::1', port: 0 },
        { address: '198.51.100.2', port: 4711 },
        { address: '2001:db8::2', port: 8080 },
        { address: '::1', port: 0 },
      ],
    );
  });

  it('skips empty entries and marks what is not an address as unknown (null)', () => {
    assert.deepEqual(parseXForwardedFor([' , 10.0.0.1,,']), [{ address: '10.0.0.1', port: 0 }]);
    for (const bad of [
      'unknown',
      '_hidden',
      'example.com',
      '999.1.1.1',
      '10.0.0.1:0',
      '10.0.0.1:65536',
      '10.0.0.1:port',
      '[10.0.0.1]',
      '[::1',
      '[::1]x',
      '10.0.0.1 10.0.0.2',
      '"10.0.0.1"',
    ]) {
      assert.deepEqual(parseXForwardedFor([bad]), [null], bad);
    }
  });
});

describe('Forwarded (RFC 7239)', () => {
  it('takes the for= node of each element, quoted or not, in any case, beside other parameters', () => {
    assert.deepEqual(
      parseForwarded([
        'for=192.0.2.60;proto=http;by=203.0.113.43, For="[2001:db8:cafe::17]:4711"',
        'proto=https; FOR="198.51.100.17:8443" ;host=example.com',
      ]),
      [
        { address: '192.0.2.60', port: 0 },
        { address: '2001:db8:cafe::17', port: 4711 },
        { address: '198.51.100.17', port: 8443 },
      ],
    );
  });

  it('keeps an address whose port is obfuscated, and ignores quoted separators', () => {
    assert.deepEqual(parseForwarded(['for="[2001:db8::1]:_p1";host="a,b;c"']), [
      { address: '2001:db8::1', port: 0 },
    ]);
    assert.deepEqual(parseForwarded(['for="\\1\\0.0.0.1"']), [{ address: '10.0.0.1', port: 0 }]);
  });

  it('marks unknown, obfuscated, missing, repeated and malformed nodes as unknown (null)', () => {
    for (const bad of [
      'for=unknown',
      'for=_hidden',
      'for="_SEVKISEK"',
      'proto=http',
      'for=10.0.0.1;for=10.0.0.2',
      'for="::1"',
      'for="[::1]:99999"',
      'for="10.0.0.1',
      'for=10."0.0.1"',
      'for',
      '=10.0.0.1',
      'for=',
    ]) {
      assert.deepEqual(parseForwarded([bad]), [null], bad);
    }
  });
});

/** The address the server would see for a TCP peer and the given header values. */
function resolve(
  trustProxy: TrustProxy,
  peer: string,
  header: ProxyHeader,
  values: readonly string[],
): string {
  const resolver = clientAddressResolver(trustProxy, header);
  assert.ok(resolver !== null);
  const headers = new HeaderMap();
  for (const value of values) headers.add(header === 'forwarded' ? 'Forwarded' : 'X-Forwarded-For', value);
  return resolver({ address: peer, port: 1234 }, headers).address;
}

describe('which hop is the client', () => {
  const xff = (trust: TrustProxy, peer: string, ...values: string[]) =>
    resolve(trust, peer, 'x-forwarded-for', values);

  it('trusts no proxy by default, and an empty list trusts none', () => {
    assert.equal(clientAddressResolver(undefined), null);
    assert.equal(clientAddressResolver([]), null);
  });

  it('takes the rightmost hop that is not a trusted proxy', () => {
    assert.equal(xff(['10.0.0.1'], '10.0.0.1', '203.0.113.7'), '203.0.113.7');
    // What the client wrote itself (left of its own address) is never read.
    assert.equal(xff(['10.0.0.1'], '10.0.0.1', '1.1.1.1, 203.0.113.7'), '203.0.113.7');
    // A chain of trusted proxies is walked through.
    assert.equal(xff(['10.0.0.0/8'], '10.0.0.1', '1.1.1.1, 203.0.113.7, 10.0.0.9'), '203.0.113.7');
    // Every hop trusted: the furthest one.
    assert.equal(xff(['10.0.0.0/8'], '10.0.0.1', '10.0.0.3, 10.0.0.2'), '10.0.0.3');
    // Several header fields are one list.
    assert.equal(xff(['10.0.0.0/8'], '10.0.0.1', '1.1.1.1', '203.0.113.7, 10.0.0.9'), '203.0.113.7');
  });

  it('ignores the header of a peer that is not trusted', () => {
    assert.equal(xff(['10.0.0.1'], '192.0.2.1', '203.0.113.7'), '192.0.2.1');
    assert.equal(xff(['10.0.0.0/8'], '11.0.0.1', '203.0.113.7'), '11.0.0.1');
  });

  it('falls back to the TCP peer when the header is missing or its nearest untrusted hop is not an address', () => {
    assert.equal(xff(['10.0.0.1'], '10.0.0.1'), '10.0.0.1');
    assert.equal(xff(['10.0.0.1'], '10.0.0.1', ''), '10.0.0.1');
    assert.equal(xff(['10.0.0.1'], '10.0.0.1', 'garbage'), '10.0.0.1');
    assert.equal(xff(['10.0.0.0/8'], '10.0.0.1', '203.0.113.7, unknown, 10.0.0.2'), '10.0.0.1');
    assert.equal(xff(['10.0.0.1'], '10.0.0.1', `${'9'.repeat(10_000)}`), '10.0.0.1');
  });

  it('matches IPv6, IPv4-mapped peers, CIDR ranges and the named ranges', () => {
    assert.equal(xff(['127.0.0.1'], '::ffff:127.0.0.1', '203.0.113.7'), '203.0.113.7');
    assert.equal(xff(['fd00::/8'], 'fd12::5', '2001:db8::7'), '2001:db8::7');
    assert.equal(xff(['loopback'], '::1', '203.0.113.7'), '203.0.113.7');
    assert.equal(xff(['loopback'], '127.8.9.10', '203.0.113.7'), '203.0.113.7');
    assert.equal(xff(['private'], '172.31.255.1', '203.0.113.7, 192.168.1.1'), '203.0.113.7');
    assert.equal(xff(['private'], '172.32.0.1', '203.0.113.7'), '172.32.0.1');
  });

  it('asks a trust function about each hop', () => {
    const asked: string[] = [];
    const trust = (address: string) => {
      asked.push(address);
      return address.startsWith('10.');
    };
    assert.equal(xff(trust, '10.0.0.1', '1.1.1.1, 203.0.113.7, 10.0.0.2'), '203.0.113.7');
    assert.deepEqual(asked, ['10.0.0.1', '10.0.0.2', '203.0.113.7']);
  });

  it('reads Forwarded, with the port of the client', () => {
    const resolver = clientAddressResolver(['10.0.0.1'], 'forwarded')!;
    const headers = new HeaderMap();
    headers.add('Forwarded', 'for=1.1.1.1, for="[2001:db8::7]:4711";proto=https');
    assert.deepEqual(resolver({ address: '10.0.0.1', port: 1234 }, headers), {
      address: '2001:db8::7',
      port: 4711,
    });
    // X-Forwarded-For is not read when the proxy is said to write Forwarded.
    headers.add('X-Forwarded-For', '203.0.113.7');
    assert.equal(resolver({ address: '10.0.0.1', port: 1234 }, headers).address, '2001:db8::7');
    assert.equal(resolve(['10.0.0.1'], '10.0.0.1', 'forwarded', ['for=_hidden']), '10.0.0.1');
  });

  it('refuses malformed options when the server is created', () => {
    for (const trustProxy of [
      ['10.0.0.0/33'],
      ['10.0.0.1/'],
      ['example.com'],
      ['::1/129'],
      [''],
      ['toString'],
    ]) {
      assert.throws(() => createServer({ trustProxy }), /trustProxy: .* is not an IP address/);
    }
    assert.throws(
      () => createServer({ trustProxy: [7 as unknown as string] }),
      /trustProxy: 7 is not a string/,
    );
    assert.throws(
      () => createServer({ trustProxy: '10.0.0.1' as unknown as string[] }),
      /trustProxy must be/,
    );
    assert.throws(
      () => createServer({ trustProxy: ['loopback'], proxyHeader: 'x-real-ip' as ProxyHeader }),
      /proxyHeader must be 'x-forwarded-for' or 'forwarded'/,
    );
  });
});
