// wsx's own request-head reader (the lean path of listen()): the RFC 9112 request-line and
// field grammar, every malformed shape it refuses (400) and the size limit (431), heads split
// at every byte, the upgrade test Node's parser applies, and bodies on upgrade requests.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HandshakeError } from '../../src/protocol/errors.js';
import {
  asksForUpgrade,
  type RequestHead,
  RequestHeadReader,
  upgradeBodyRefusal,
} from '../../src/protocol/handshake/request-head.js';

const UPGRADE =
  'GET /chat?room=1 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

function read(text: string | Buffer, maxHeaderBytes = 16 * 1024): RequestHead | null {
  return new RequestHeadReader({ maxHeaderBytes }).push(Buffer.from(text as string, 'latin1'));
}

/** The status the reader refuses `text` with, or 0 when it does not (complete or not). */
function refusal(text: string, maxHeaderBytes?: number): number {
  try {
    read(text, maxHeaderBytes);
    return 0;
  } catch (error) {
    assert.ok(error instanceof HandshakeError, String(error));
    return error.status;
  }
}

describe('RequestHeadReader: well-formed heads', () => {
  it('reads the request line and the fields, as written, without surrounding white space', () => {
    const head = read(`${UPGRADE}FRAME`)!;
    assert.equal(head.method, 'GET');
    assert.equal(head.target, '/chat?room=1');
    assert.equal(head.httpVersion, '1.1');
    assert.deepEqual(head.rawHeaders, [
      'Host',
      'example.com',
      'Upgrade',
      'websocket',
      'Connection',
      'Upgrade',
      'Sec-WebSocket-Key',
      'dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version',
      '13',
    ]);
    assert.equal(head.headLength, UPGRADE.length);
    assert.equal(head.received.subarray(head.headLength).toString(), 'FRAME');
  });

  it('trims OWS around values, keeps inner white space, allows empty values and obs-text', () => {
    const head = read('GET / HTTP/1.0\r\nA:   x  y \t\r\nB:\r\nC: \t \r\nD: caf\xe9\r\n\r\n')!;
    assert.equal(head.httpVersion, '1.0');
    assert.deepEqual(head.rawHeaders, ['A', 'x  y', 'B', '', 'C', '', 'D', 'caf\xe9']);
  });

  it('trims trailing white space the same way when it arrives in another read than its value', () => {
    const text = 'GET / HTTP/1.1\r\nA: x \t y \t \r\nB:  \t\r\nC: z\r\n\r\n';
    for (let cut = 1; cut < text.length; cut++) {
      const reader = new RequestHeadReader();
      assert.equal(reader.push(Buffer.from(text.slice(0, cut), 'latin1')), null);
      const head = reader.push(Buffer.from(text.slice(cut), 'latin1'))!;
      assert.deepEqual(head.rawHeaders, ['A', 'x \t y', 'B', '', 'C', 'z'], `cut ${cut}`);
    }
  });

  it('reads methods and targets of every length as written, and the version as sent', () => {
    for (const method of ['GET', 'GE', 'GETS', 'get', 'PUT', 'POST']) {
      for (const target of ['/', '/abcdefghijk', '/abcdefghijkl', '/abcdefghijklm', `/${'t'.repeat(300)}`]) {
        for (const version of ['1.0', '1.1']) {
          const head = read(`${method} ${target} HTTP/${version}\r\nHost: a\r\n\r\n`)!;
          assert.deepEqual([head.method, head.target, head.httpVersion], [method, target, version]);
        }
      }
    }
  });

  it('skips empty lines before the request line (RFC 9112 §2.2)', () => {
    assert.equal(read(`\r\n\r\n${UPGRADE}`)?.method, 'GET');
  });

  it('gives the same head however the bytes are split, and null until the blank line', () => {
    const whole = read(`${UPGRADE}xy`)!;
    for (let cut = 1; cut < UPGRADE.length + 2; cut++) {
      for (const sizes of [[cut], [1, cut]]) {
        const reader = new RequestHeadReader();
        const bytes = Buffer.from(`${UPGRADE}xy`);
        let head: RequestHead | null = null;
        let at = 0;
        for (const size of [...sizes, bytes.length]) {
          const chunk = bytes.subarray(at, Math.min(bytes.length, at + size));
          at += chunk.length;
          if (chunk.length === 0) continue;
          head = reader.push(chunk);
          if (at < UPGRADE.length) assert.equal(head, null, `incomplete at ${at}`);
          if (head !== null) break;
        }
        assert.ok(head !== null);
        assert.deepEqual({ ...head, received: null }, { ...whole, received: null }, `cut ${cut}`);
        assert.equal(head.received.toString(), `${UPGRADE}xy`.slice(0, head.received.length));
      }
    }
  });

  it('does not keep or write into the caller’s chunk while the head is incomplete', () => {
    const reader = new RequestHeadReader();
    const first = Buffer.from(UPGRADE.slice(0, 20));
    assert.equal(reader.push(first), null);
    first.fill(0x41);
    const head = reader.push(Buffer.from(UPGRADE.slice(20)))!;
    assert.equal(head.received.toString(), UPGRADE);
  });

  it('reads a head one byte at a time with work linear in its size', () => {
    const big = `GET / HTTP/1.1\r\n${'X-Pad: aaaaaaaaaa\r\n'.repeat(800)}\r\n`;
    const whole = new RequestHeadReader();
    assert.equal(whole.push(Buffer.from(big))?.rawHeaders.length, 1600);
    assert.equal(whole.work, big.length, 'one read: each byte scanned once, nothing copied');
    const reader = new RequestHeadReader();
    let head: RequestHead | null = null;
    for (let i = 0; i < big.length; i++) head = reader.push(Buffer.from(big[i]));
    assert.equal(head?.rawHeaders.length, 1600);
    // Each byte scanned once and copied once, plus the copies of a buffer that doubles (under
    // twice the size in all): under 4 per byte. Rescanning or regrowing on every read would
    // cost about big.length / 2 per byte.
    assert.ok(reader.work < 4 * big.length, `${reader.work} steps for ${big.length} bytes`);
  });
});

describe('RequestHeadReader: malformed heads get 400', () => {
  const line = 'GET / HTTP/1.1\r\n';
  const cases: Array<[string, string]> = [
    ['no method', ' / HTTP/1.1\r\n\r\n'],
    ['a method that is not a token', 'G(T / HTTP/1.1\r\n\r\n'],
    ['two spaces after the method', 'GET  / HTTP/1.1\r\n\r\n'],
    ['no request target', 'GET HTTP/1.1\r\n\r\n'],
    ['a control character in the target', 'GET /a\x01b HTTP/1.1\r\n\r\n'],
    ['DEL in the target', 'GET /a\x7f HTTP/1.1\r\n\r\n'],
    ['a tab in the target', 'GET /a\tb HTTP/1.1\r\n\r\n'],
    ['no version', 'GET /\r\n\r\n'],
    ['a lower-case version', 'GET / http/1.1\r\n\r\n'],
    ['HTTP/2.0 in a request line', 'GET / HTTP/2.0\r\n\r\n'],
    ['HTTP/1.2', 'GET / HTTP/1.2\r\n\r\n'],
    ['a version with a letter', 'GET / HTTP/1.x\r\n\r\n'],
    ['a version too long', 'GET / HTTP/1.11\r\n\r\n'],
    ['a space after the version', 'GET / HTTP/1.1 \r\n\r\n'],
    ['a bare LF after the request line', 'GET / HTTP/1.1\n\r\n'],
    ['a bare LF after a field', `${line}Host: a\n\r\n`],
    ['a bare LF ending the head', `${line}Host: a\r\n\n`],
    ['heads ended by LF only', 'GET / HTTP/1.1\nHost: a\n\n'],
    ['a bare CR in a value', `${line}Host: a\rb\r\n\r\n`],
    ['a bare CR in an empty line before the request', '\r GET / HTTP/1.1\r\n\r\n'],
    ['obsolete line folding', `${line}X-A: a\r\n  folded\r\n\r\n`],
    ['obsolete line folding with a tab', `${line}X-A: a\r\n\tfolded\r\n\r\n`],
    ['a field line starting with white space', `${line} Host: a\r\n\r\n`],
    ['white space before the colon', `${line}Host : a\r\n\r\n`],
    ['a tab before the colon', `${line}Host\t: a\r\n\r\n`],
    ['an empty field name', `${line}: a\r\n\r\n`],
    ['a field without a colon', `${line}Host\r\n\r\n`],
    ['a field name with a slash', `${line}Ho/st: a\r\n\r\n`],
    ['a field name with non-ASCII', `${line}H\xf6st: a\r\n\r\n`],
    ['NUL in a value', `${line}X-A: a\x00b\r\n\r\n`],
    ['a control character in a value', `${line}X-A: a\x1bb\r\n\r\n`],
    ['DEL in a value', `${line}X-A: a\x7f\r\n\r\n`],
    ['a vertical tab in leading OWS', `${line}X-A:\x0ba\r\n\r\n`],
    ['a TLS ClientHello', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'],
    ['binary garbage', '\x00\x01\x02'],
  ];
  for (const [name, text] of cases) {
    it(`refuses ${name}`, () => {
      assert.equal(refusal(text), 400);
    });
  }

  it('refuses at the first bad byte, before the head ends', () => {
    assert.equal(refusal('GET / HTTP/1.1\r\nBad Name: x'), 400);
    assert.equal(refusal('\x16\x03'), 400);
  });
});

describe('RequestHeadReader: size limit (431)', () => {
  it('accepts a head of exactly maxHeaderBytes before its blank line, refuses one byte more', () => {
    const make = (size: number) => {
      const start = 'GET / HTTP/1.1\r\nX: ';
      return `${start}${'a'.repeat(size - start.length - 2)}\r\n\r\n`;
    };
    assert.equal(read(make(1000), 1000)?.rawHeaders[1].length, 1000 - 21);
    assert.equal(refusal(make(1001), 1000), 431);
  });

  it('refuses an endless head at the limit, however it is split, and never holds more', () => {
    const reader = new RequestHeadReader({ maxHeaderBytes: 16 * 1024 });
    reader.push(Buffer.from('GET / HTTP/1.1\r\n'));
    let status = 0;
    let pushed = 0;
    try {
      for (;;) {
        reader.push(Buffer.from('X-Field: value\r\n'));
        pushed += 16;
      }
    } catch (error) {
      status = (error as HandshakeError).status;
    }
    assert.equal(status, 431);
    assert.ok(pushed < 16 * 1024 + 32);
  });

  it('counts empty lines before the request line', () => {
    assert.equal(refusal(`${'\r\n'.repeat(600)}GET / HTTP/1.1\r\n\r\n`, 1000), 431);
  });

  it('does not count the count of fields: that limit is the caller’s', () => {
    const head = read(`GET / HTTP/1.1\r\n${'a:\r\n'.repeat(3000)}\r\n`);
    assert.equal(head?.rawHeaders.length, 6000);
  });
});

describe('RequestHeadReader: fields by name', () => {
  it('indexes fields by lower-case name in any case, known names and others, and keeps rawHeaders as sent', () => {
    const head = read(
      'GET / HTTP/1.1\r\nhOsT: a\r\nSEC-WEBSOCKET-KEY: k\r\nX-Odd_Name: 1\r\nx-odd_name: 2\r\n' +
        'Sec-WebSocket-Keys: not the key\r\nUpgradf: no\r\n\r\n',
    )!;
    assert.equal(head.fieldCount, 6);
    assert.equal(head.headers.single('host'), 'a');
    assert.equal(head.headers.single('Sec-WebSocket-Key'), 'k');
    assert.deepEqual(head.headers.all('x-odd_name'), ['1', '2']);
    assert.equal(head.headers.single('sec-websocket-keys'), 'not the key');
    assert.equal(head.headers.single('upgradf'), 'no');
    assert.deepEqual(head.headers.all('upgrade'), []);
    assert.equal(head.headers.size, 5);
    assert.deepEqual(head.rawHeaders.slice(0, 4), ['hOsT', 'a', 'SEC-WEBSOCKET-KEY', 'k']);
    assert.equal(head.rawHeaders, head.rawHeaders, 'made once');
  });

  it('reads the same fields from a head split at every byte', () => {
    const reader = new RequestHeadReader();
    const bytes = Buffer.from(UPGRADE.replace('Sec-WebSocket-Key', 'sec-WEBSOCKET-key'), 'latin1');
    let head: RequestHead | null = null;
    for (let i = 0; i < bytes.length; i++) head = reader.push(bytes.subarray(i, i + 1));
    assert.equal(head?.headers.single('sec-websocket-key'), 'dGhlIHNhbXBsZSBub25jZQ==');
    assert.equal(head?.headers.single('connection'), 'Upgrade');
    assert.equal(head?.rawHeaders[6], 'sec-WEBSOCKET-key');
  });
});

describe('asksForUpgrade: the rule of Node’s HTTP parser', () => {
  const head = (fields: string, method = 'GET') => read(`${method} / HTTP/1.1\r\n${fields}\r\n`)!;
  it('needs both an Upgrade field and the upgrade token in Connection', () => {
    assert.equal(asksForUpgrade(head('Upgrade: websocket\r\nConnection: Upgrade\r\n')), true);
    assert.equal(asksForUpgrade(head('upgrade: h2c\r\nconnection: keep-alive, UPGRADE\r\n')), true);
    assert.equal(asksForUpgrade(head('Connection: a\r\nConnection: upgrade\r\nUpgrade: x\r\n')), true);
    assert.equal(asksForUpgrade(head('Upgrade: websocket\r\n')), false);
    assert.equal(asksForUpgrade(head('Connection: Upgrade\r\n')), false);
    assert.equal(asksForUpgrade(head('Upgrade: websocket\r\nConnection: upgraded\r\n')), false);
    assert.equal(asksForUpgrade(head('Host: a\r\n')), false);
  });

  it('leaves CONNECT to the HTTP server', () => {
    assert.equal(asksForUpgrade(head('Upgrade: websocket\r\nConnection: Upgrade\r\n', 'CONNECT')), false);
  });
});

describe('upgradeBodyRefusal', () => {
  it('refuses Transfer-Encoding and a Content-Length other than 0', () => {
    assert.equal(upgradeBodyRefusal(['Host', 'a']), null);
    assert.equal(upgradeBodyRefusal(['Content-Length', '0']), null);
    assert.equal(upgradeBodyRefusal(['content-length', '5'])?.status, 400);
    assert.equal(upgradeBodyRefusal(['Content-Length', '00'])?.status, 400);
    assert.equal(upgradeBodyRefusal(['Transfer-Encoding', 'chunked'])?.status, 400);
    assert.equal(upgradeBodyRefusal(['Content-Length', '0', 'Content-Length', '1'])?.status, 400);
    assert.equal(upgradeBodyRefusal(read('GET / HTTP/1.1\r\ncontent-LENGTH: 0\r\n\r\n')!.headers), null);
    assert.equal(
      upgradeBodyRefusal(read('GET / HTTP/1.1\r\nTransfer-encoding: x\r\n\r\n')!.headers)?.status,
      400,
    );
  });
});
