// RFC 6455 §4.2 (server-side opening handshake): request validation (§4.2.1), the
// Sec-WebSocket-Accept value (§4.2.2 and the example of §1.3), and the response bytes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HandshakeError } from '../../src/protocol/errors.js';
import { acceptKey, generateKey, isValidKey } from '../../src/protocol/handshake/accept.js';
import { HeaderMap } from '../../src/protocol/handshake/headers.js';
import {
  buildAcceptResponse,
  buildRejectResponse,
  type RequestHead,
  validateUpgradeRequest,
} from '../../src/protocol/handshake/server.js';

const RFC_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const RFC_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

const BASE: Array<[string, string]> = [
  ['Host', 'server.example.com'],
  ['Upgrade', 'websocket'],
  ['Connection', 'Upgrade'],
  ['Sec-WebSocket-Key', RFC_KEY],
  ['Sec-WebSocket-Version', '13'],
];

/** A request head from header pairs; `replace` swaps (or with undefined, drops) fields of BASE. */
function request(
  replace: Record<string, string | string[] | undefined> = {},
  extra: Array<[string, string]> = [],
  method = 'GET',
  httpVersion = '1.1',
): RequestHead {
  const raw: string[] = [];
  const replaced = new Set(Object.keys(replace).map((k) => k.toLowerCase()));
  for (const [name, value] of BASE) if (!replaced.has(name.toLowerCase())) raw.push(name, value);
  for (const [name, value] of Object.entries(replace)) {
    if (value === undefined) continue;
    for (const v of typeof value === 'string' ? [value] : value) raw.push(name, v);
  }
  for (const [name, value] of extra) raw.push(name, value);
  return { method, httpVersion, headers: HeaderMap.fromRaw(raw) };
}

function refusal(head: RequestHead): HandshakeError {
  try {
    validateUpgradeRequest(head);
  } catch (error) {
    assert.ok(error instanceof HandshakeError, `not a HandshakeError: ${String(error)}`);
    return error;
  }
  assert.fail('the request was accepted');
}

/** The head as the server puts it on the wire (src/server writes it as latin1) split into lines. */
function wireLines(head: string): string[] {
  return Buffer.from(head, 'latin1').toString('latin1').split('\r\n');
}

describe('RFC 6455 §1.3/§4.2.2 Sec-WebSocket-Accept', () => {
  it("the RFC's example key gives the RFC's accept value", () => {
    assert.equal(acceptKey(RFC_KEY), RFC_ACCEPT);
  });

  it('generateKey gives valid, different keys', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const key = generateKey();
      assert.equal(isValidKey(key), true, key);
      assert.equal(Buffer.from(key, 'base64').length, 16);
      keys.add(key);
    }
    assert.equal(keys.size, 200);
  });
});

describe('RFC 6455 §4.2.1 request validation', () => {
  it('accepts the RFC example request and reports what it asks for', () => {
    const result = validateUpgradeRequest(
      request({}, [
        ['Origin', 'http://example.com'],
        ['Sec-WebSocket-Protocol', 'chat, superchat'],
        ['Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits'],
      ]),
    );
    assert.deepEqual(result, {
      key: RFC_KEY,
      protocols: ['chat', 'superchat'],
      extensions: [{ name: 'permessage-deflate', params: [['client_max_window_bits', true]] }],
      origin: 'http://example.com',
    });
  });

  it('without optional fields: no protocols, no extensions, no origin', () => {
    assert.deepEqual(validateUpgradeRequest(request()), {
      key: RFC_KEY,
      protocols: [],
      extensions: [],
      origin: undefined,
    });
  });

  it('requires GET: other methods get 405 with Allow: GET', () => {
    for (const method of ['POST', 'PUT', 'HEAD', 'CONNECT', 'get', 'Get']) {
      const error = refusal(request({}, [], method));
      assert.equal(error.status, 405, method);
      assert.equal(error.headers.Allow, 'GET');
    }
  });

  it('requires HTTP/1.1 or later', () => {
    for (const version of ['1.0', '0.9', '', 'x'])
      assert.equal(refusal(request({}, [], 'GET', version)).status, 400);
    validateUpgradeRequest(request({}, [], 'GET', '1.1'));
  });

  it('requires exactly one non-empty Host', () => {
    assert.equal(refusal(request({ Host: undefined })).status, 400);
    assert.equal(refusal(request({ Host: '' })).status, 400);
    assert.equal(refusal(request({ Host: ['a.example', 'b.example'] })).status, 400);
  });

  it('Upgrade must name websocket, case-insensitively, anywhere in the list', () => {
    for (const value of ['websocket', 'WebSocket', 'WEBSOCKET', 'h2c, websocket', 'websocket ,foo']) {
      validateUpgradeRequest(request({ Upgrade: value }));
    }
    validateUpgradeRequest(request({ Upgrade: ['foo', 'WebSocket'] }));
    for (const value of ['', 'websockets', 'web socket', 'h2c', 'websocket/13']) {
      assert.equal(refusal(request({ Upgrade: value })).status, 400, value);
    }
    assert.equal(refusal(request({ Upgrade: undefined })).status, 400);
  });

  it('Connection must include Upgrade, case-insensitively, anywhere in the list', () => {
    for (const value of [
      'Upgrade',
      'upgrade',
      'keep-alive, Upgrade',
      'keep-alive,upgrade',
      'UPGRADE , close',
    ]) {
      validateUpgradeRequest(request({ Connection: value }));
    }
    validateUpgradeRequest(request({ Connection: ['keep-alive', 'Upgrade'] }));
    for (const value of ['', 'keep-alive', 'Upgraded', 'upgrade-insecure', 'keep-alive upgrade']) {
      assert.equal(refusal(request({ Connection: value })).status, 400, value);
    }
    assert.equal(refusal(request({ Connection: undefined })).status, 400);
  });

  it('any version but 13 gets 426 with Sec-WebSocket-Version: 13', () => {
    for (const version of ['8', '12', '14', '0', '', 'thirteen', '13.0']) {
      const error = refusal(request({ 'Sec-WebSocket-Version': version }));
      assert.equal(error.status, 426, version);
      assert.deepEqual(error.headers, { 'Sec-WebSocket-Version': '13' });
    }
    const missing = refusal(request({ 'Sec-WebSocket-Version': undefined }));
    assert.equal(missing.status, 426);
    assert.deepEqual(missing.headers, { 'Sec-WebSocket-Version': '13' });
  });

  it('a repeated Sec-WebSocket-Version is refused', () => {
    const error = refusal(request({ 'Sec-WebSocket-Version': ['13', '13'] }));
    assert.ok(error.status === 400 || error.status === 426);
  });

  it('the key must be base64 of exactly 16 bytes', () => {
    for (const key of [
      '',
      'dGhlIHNhbXBsZSBub25jZQ=', // 23 characters
      'dGhlIHNhbXBsZSBub25jZQ===', // 25
      'dGhlIHNhbXBsZSBub25jZQ', // no padding
      'dGhlIHNhbXBsZSBub25jZSE=', // 17 bytes
      'dGhlIHNhbXBsZSBub25j', // 15 bytes
      'dGhlIHNhbXBsZSBub25jZ!==',
      'dGhlIHNhbXBsZSBub25jZ-==', // base64url is not base64
      'dGhlIHNhbXBsZSBub25jZ_==',
      'dGhlIHNhbXBsZSBub25j ZQ==',
      'dGhlIHNhbXBsZSBub25jZQ=A',
    ]) {
      assert.equal(refusal(request({ 'Sec-WebSocket-Key': key })).status, 400, key);
    }
    assert.equal(refusal(request({ 'Sec-WebSocket-Key': undefined })).status, 400);
    assert.equal(refusal(request({ 'Sec-WebSocket-Key': [RFC_KEY, RFC_KEY] })).status, 400);
  });

  it('the key’s last character must leave the padding bits zero', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    for (const c of alphabet) {
      const key = `dGhlIHNhbXBsZSBub25jZ${c}==`;
      // Canonical base64 of 16 bytes round-trips exactly.
      const canonical = Buffer.from(key, 'base64').toString('base64') === key;
      assert.equal(isValidKey(key), canonical, key);
      if (canonical) validateUpgradeRequest(request({ 'Sec-WebSocket-Key': key }));
      else assert.equal(refusal(request({ 'Sec-WebSocket-Key': key })).status, 400, key);
    }
  });

  it('refuses malformed subprotocol and extension lists with 400', () => {
    for (const value of ['chat/1', 'a b', '"chat"']) {
      assert.equal(refusal(request({}, [['Sec-WebSocket-Protocol', value]])).status, 400, value);
    }
    for (const value of ['foo;', 'foo; x="a b"', 'foo bar']) {
      assert.equal(refusal(request({}, [['Sec-WebSocket-Extensions', value]])).status, 400, value);
    }
  });

  it('joins repeated Sec-WebSocket-Protocol and Sec-WebSocket-Extensions fields into one list', () => {
    const result = validateUpgradeRequest(
      request({}, [
        ['Sec-WebSocket-Protocol', 'a'],
        ['sec-websocket-protocol', 'b, c'],
        ['Sec-WebSocket-Extensions', 'x'],
        ['Sec-WebSocket-Extensions', 'y; z=1'],
      ]),
    );
    assert.deepEqual(result.protocols, ['a', 'b', 'c']);
    assert.deepEqual(
      result.extensions.map((e) => e.name),
      ['x', 'y'],
    );
  });

  it('header names are case-insensitive', () => {
    const head: RequestHead = {
      method: 'GET',
      httpVersion: '1.1',
      headers: HeaderMap.fromRaw([
        'HOST',
        'h',
        'upgrade',
        'websocket',
        'CONNECTION',
        'upgrade',
        'sec-websocket-key',
        RFC_KEY,
        'SEC-WEBSOCKET-VERSION',
        '13',
      ]),
    };
    assert.equal(validateUpgradeRequest(head).key, RFC_KEY);
  });

  it('a repeated Origin is refused', () => {
    assert.equal(
      refusal(
        request({}, [
          ['Origin', 'http://a.example'],
          ['Origin', 'http://b.example'],
        ]),
      ).status,
      400,
    );
  });
});

describe('RFC 6455 §4.2.2 the 101 response', () => {
  it('is byte for byte the RFC example response', () => {
    assert.equal(
      buildAcceptResponse({ key: RFC_KEY }),
      'HTTP/1.1 101 Switching Protocols\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${RFC_ACCEPT}\r\n` +
        '\r\n',
    );
  });

  it('names the selected subprotocol and extensions, then extra headers', () => {
    const head = buildAcceptResponse({
      key: RFC_KEY,
      protocol: 'chat',
      extensions: [{ name: 'permessage-deflate', params: [['server_no_context_takeover', true]] }],
      headers: { 'Set-Cookie': ['a=1', 'b=2'], 'X-Server': 'wsx' },
    });
    assert.equal(
      head,
      'HTTP/1.1 101 Switching Protocols\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${RFC_ACCEPT}\r\n` +
        'Sec-WebSocket-Protocol: chat\r\n' +
        'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n' +
        'Set-Cookie: a=1\r\n' +
        'Set-Cookie: b=2\r\n' +
        'X-Server: wsx\r\n' +
        '\r\n',
    );
  });

  it('an empty extension list adds no header', () => {
    assert.equal(
      buildAcceptResponse({ key: RFC_KEY, extensions: [] }),
      buildAcceptResponse({ key: RFC_KEY }),
    );
  });

  it('refuses header names that are not tokens', () => {
    for (const name of ['Bad Name', 'X:Y', 'X\r\nY', '', 'Ü']) {
      assert.throws(() => buildAcceptResponse({ key: RFC_KEY, headers: { [name]: 'v' } }), TypeError, name);
    }
  });

  it('refuses header values with CR, LF or NUL', () => {
    for (const value of ['a\r\nX-Injected: 1', 'a\nX-Injected: 1', 'a\rb', 'a\u0000b']) {
      assert.throws(() => buildAcceptResponse({ key: RFC_KEY, headers: { 'X-A': value } }), TypeError);
      assert.throws(
        () => buildAcceptResponse({ key: RFC_KEY, headers: { 'X-A': ['ok', value] } }),
        TypeError,
      );
    }
  });

  it('no header value can add a line to the head as written on the wire (latin1)', () => {
    // U+010D U+010A become CR LF when the string is encoded as latin1, as src/server does.
    const value = 'a\u010d\u010aX-Injected: 1';
    let head: string | undefined;
    try {
      head = buildAcceptResponse({ key: RFC_KEY, headers: { 'X-A': value } });
    } catch (error) {
      assert.ok(error instanceof TypeError);
    }
    if (head !== undefined) {
      assert.ok(
        !wireLines(head).some((line) => line.startsWith('X-Injected')),
        'a header line was injected through a non-latin1 character',
      );
    }
  });

  it('refuses a subprotocol that would inject a header line', () => {
    assert.throws(() => buildAcceptResponse({ key: RFC_KEY, protocol: 'chat\r\nX-Injected: 1' }));
  });
});

describe('rejection responses', () => {
  it('426 names the supported version and closes the connection', () => {
    const out = buildRejectResponse(426, 'upgrade required', { 'Sec-WebSocket-Version': '13' });
    assert.equal(
      out.toString('latin1'),
      'HTTP/1.1 426 Upgrade Required\r\n' +
        'Connection: close\r\n' +
        'Content-Type: text/plain; charset=utf-8\r\n' +
        'Content-Length: 16\r\n' +
        'Sec-WebSocket-Version: 13\r\n' +
        '\r\n' +
        'upgrade required',
    );
  });

  it('counts the body in UTF-8 bytes and writes it as UTF-8', () => {
    const out = buildRejectResponse(400, 'non válido €');
    const text = out.toString('latin1');
    assert.ok(text.startsWith('HTTP/1.1 400 Bad Request\r\n'));
    assert.match(text, /\r\nContent-Length: 15\r\n/);
    assert.ok(out.subarray(out.length - 15).equals(Buffer.from('non válido €')));
  });

  it('a caller’s Content-Type replaces the default; Content-Length and Connection cannot be overridden', () => {
    const text = buildRejectResponse(403, '{}', {
      'content-type': 'application/json',
      'Content-Length': '999',
      Connection: 'keep-alive',
    }).toString('latin1');
    assert.ok(!text.includes('text/plain'));
    assert.match(text, /\r\ncontent-type: application\/json\r\n/);
    assert.ok(!text.includes('999'));
    assert.ok(!text.includes('keep-alive'));
    assert.match(text, /\r\nContent-Length: 2\r\n/);
  });

  it('unknown statuses get a generic reason; non-error statuses are refused', () => {
    assert.ok(buildRejectResponse(418).toString('latin1').startsWith('HTTP/1.1 418 Error\r\n'));
    for (const status of [101, 200, 302, 399, 600, 400.5])
      assert.throws(() => buildRejectResponse(status), RangeError);
  });

  it('refuses injection through header names and values', () => {
    assert.throws(() => buildRejectResponse(400, '', { 'X-A': 'a\r\nX-Injected: 1' }), TypeError);
    assert.throws(() => buildRejectResponse(400, '', { 'X A': 'a' }), TypeError);
    assert.throws(() => buildRejectResponse(400, '', { 'X-A': ['ok', 'a\u0000'] }), TypeError);
  });

  it('no header value can add a line to the rejection bytes (encoded as latin1)', () => {
    let out: Buffer | undefined;
    try {
      out = buildRejectResponse(400, '', { 'X-A': 'a\u010d\u010aX-Injected: 1' });
    } catch (error) {
      assert.ok(error instanceof TypeError);
    }
    if (out !== undefined) {
      assert.ok(
        !out
          .toString('latin1')
          .split('\r\n')
          .some((line) => line.startsWith('X-Injected')),
        'a header line was injected through a non-latin1 character',
      );
    }
  });
});
