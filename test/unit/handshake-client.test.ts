// RFC 6455 §4.1 (client-side opening handshake): the request bytes, the checks on the
// server's response, and ResponseHeadReader on every split and at its limits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HandshakeError, UsageError } from '../../src/protocol/errors.js';
import { acceptKey } from '../../src/protocol/handshake/accept.js';
import {
  buildUpgradeRequest,
  validateProtocols,
  validateUpgradeResponse,
} from '../../src/protocol/handshake/client.js';
import { HeaderMap } from '../../src/protocol/handshake/headers.js';
import { type ResponseHead, ResponseHeadReader } from '../../src/protocol/handshake/http-head.js';
import { buildAcceptResponse, validateUpgradeRequest } from '../../src/protocol/handshake/server.js';

const RFC_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const RFC_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

const RFC_RESPONSE =
  'HTTP/1.1 101 Switching Protocols\r\n' +
  'Upgrade: websocket\r\n' +
  'Connection: Upgrade\r\n' +
  `Sec-WebSocket-Accept: ${RFC_ACCEPT}\r\n` +
  '\r\n';

/** Reads a whole response head in one push. */
function readHead(text: string | Buffer): ResponseHead {
  const head = new ResponseHeadReader().push(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
  assert.ok(head !== null, 'head not complete');
  return head;
}

/** A 101 response with these header lines (name, value) after the status line. */
function response(lines: Array<[string, string]>, status = '101 Switching Protocols'): ResponseHead {
  return readHead(`HTTP/1.1 ${status}\r\n${lines.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`);
}

const GOOD: Array<[string, string]> = [
  ['Upgrade', 'websocket'],
  ['Connection', 'Upgrade'],
  ['Sec-WebSocket-Accept', RFC_ACCEPT],
];

function without(name: string, lines = GOOD): Array<[string, string]> {
  return lines.filter(([n]) => n !== name);
}

function responseError(
  head: ResponseHead,
  protocols: string[] = [],
  extensions: string[] = [],
): HandshakeError {
  try {
    validateUpgradeResponse(head, RFC_KEY, protocols, extensions);
  } catch (error) {
    assert.ok(error instanceof HandshakeError, `not a HandshakeError: ${String(error)}`);
    return error;
  }
  assert.fail('the response was accepted');
}

function wireLines(head: string): string[] {
  return Buffer.from(head, 'latin1').toString('latin1').split('\r\n');
}

describe('RFC 6455 §4.1 the upgrade request', () => {
  it('is byte for byte the RFC example request (without optional fields)', () => {
    assert.equal(
      buildUpgradeRequest({ host: 'server.example.com', path: '/chat', key: RFC_KEY }),
      'GET /chat HTTP/1.1\r\n' +
        'Host: server.example.com\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${RFC_KEY}\r\n` +
        'Sec-WebSocket-Version: 13\r\n' +
        '\r\n',
    );
  });

  it('adds subprotocols, extensions, origin and custom headers', () => {
    assert.equal(
      buildUpgradeRequest({
        host: 'h:8080',
        path: '/a?b=c',
        key: RFC_KEY,
        protocols: ['chat', 'superchat'],
        extensions: [{ name: 'permessage-deflate', params: [['client_max_window_bits', true]] }],
        origin: 'http://example.com',
        headers: { Authorization: 'Bearer x', 'X-Multi': ['1', '2'] },
      }),
      'GET /a?b=c HTTP/1.1\r\n' +
        'Host: h:8080\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${RFC_KEY}\r\n` +
        'Sec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Protocol: chat, superchat\r\n' +
        'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n' +
        'Origin: http://example.com\r\n' +
        'Authorization: Bearer x\r\n' +
        'X-Multi: 1\r\n' +
        'X-Multi: 2\r\n' +
        '\r\n',
    );
  });

  it('a custom Host header replaces the default one', () => {
    const text = buildUpgradeRequest({ host: 'h', path: '/', key: RFC_KEY, headers: { HOST: 'other' } });
    assert.equal(text.match(/^host:/gim)?.length, 1);
    assert.match(text, /\r\nHOST: other\r\n/);
  });

  it('refuses custom headers the handshake sets itself, in any case', () => {
    for (const name of [
      'Upgrade',
      'connection',
      'Sec-WebSocket-Key',
      'SEC-WEBSOCKET-VERSION',
      'Sec-WebSocket-Protocol',
      'sec-websocket-extensions',
    ]) {
      assert.throws(
        () => buildUpgradeRequest({ host: 'h', path: '/', key: RFC_KEY, headers: { [name]: 'x' } }),
        UsageError,
        name,
      );
    }
  });

  it('refuses subprotocols that are not tokens or are offered twice', () => {
    for (const protocols of [['a b'], [''], ['chat', 'chat'], ['x,y'], ['"q"']]) {
      assert.throws(() => buildUpgradeRequest({ host: 'h', path: '/', key: RFC_KEY, protocols }), UsageError);
      assert.throws(() => validateProtocols(protocols), UsageError);
    }
    validateProtocols(['chat', 'Chat', 'v1.chat']);
  });

  it('refuses header injection through custom header names and values', () => {
    const cases: Array<Record<string, string | string[]>> = [
      { 'X-A': 'a\r\nX-Injected: 1' },
      { 'X-A': 'a\nb' },
      { 'X-A': 'a\u0000' },
      { 'X-A': ['ok', 'a\rb'] },
      { 'X A': 'a' },
      { 'X-A\r\nX-Injected': 'a' },
    ];
    for (const headers of cases) {
      assert.throws(() => buildUpgradeRequest({ host: 'h', path: '/', key: RFC_KEY, headers }), TypeError);
    }
  });

  it('no custom header value can add a line to the request as written on the wire (latin1)', () => {
    let text: string | undefined;
    try {
      text = buildUpgradeRequest({
        host: 'h',
        path: '/',
        key: RFC_KEY,
        headers: { 'X-A': 'a\u010d\u010aX-Injected: 1' },
      });
    } catch (error) {
      assert.ok(error instanceof TypeError || error instanceof UsageError);
    }
    if (text !== undefined) {
      assert.ok(
        !wireLines(text).some((line) => line.startsWith('X-Injected')),
        'a header line was injected through a non-latin1 character',
      );
    }
  });

  it('refuses an Origin that would inject a header line', () => {
    assert.throws(() =>
      buildUpgradeRequest({ host: 'h', path: '/', key: RFC_KEY, origin: 'http://a\r\nX-Injected: 1' }),
    );
  });

  it('what it builds, the server side accepts', () => {
    const text = buildUpgradeRequest({
      host: 'h',
      path: '/',
      key: RFC_KEY,
      protocols: ['chat'],
      origin: 'http://o',
    });
    const lines = text.split('\r\n');
    assert.equal(lines[0], 'GET / HTTP/1.1');
    const raw = lines.slice(1, lines.indexOf('')).flatMap((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon), line.slice(colon + 1).trim()];
    });
    const request = validateUpgradeRequest({
      method: 'GET',
      httpVersion: '1.1',
      headers: HeaderMap.fromRaw(raw),
    });
    assert.deepEqual(request.protocols, ['chat']);
    assert.equal(request.origin, 'http://o');
    const accepted = buildAcceptResponse({ key: request.key, protocol: 'chat' });
    const result = validateUpgradeResponse(readHead(accepted), RFC_KEY, ['chat'], []);
    assert.deepEqual(result, { protocol: 'chat', extensions: [] });
  });
});

describe('RFC 6455 §4.1 checks on the response', () => {
  it('accepts the RFC example response', () => {
    assert.deepEqual(validateUpgradeResponse(readHead(RFC_RESPONSE), RFC_KEY, [], []), {
      protocol: '',
      extensions: [],
    });
  });

  it('a status other than 101 fails with that status', () => {
    for (const [status, code] of [
      ['200 OK', 200],
      ['301 Moved Permanently', 301],
      ['401 Unauthorized', 401],
      ['426 Upgrade Required', 426],
      ['100 Continue', 100],
      ['503 Service Unavailable', 503],
    ] as const) {
      assert.equal(responseError(response(GOOD, status)).status, code);
    }
  });

  it('Upgrade must be websocket (case-insensitive)', () => {
    validateUpgradeResponse(response([...without('Upgrade'), ['Upgrade', 'WebSocket']]), RFC_KEY, [], []);
    assert.equal(responseError(response(without('Upgrade'))).status, 101);
    responseError(response([...without('Upgrade'), ['Upgrade', 'h2c']]));
    responseError(response([...without('Upgrade'), ['Upgrade', 'websockets']]));
  });

  it('Connection must include Upgrade (case-insensitive)', () => {
    validateUpgradeResponse(response([...without('Connection'), ['Connection', 'upgrade']]), RFC_KEY, [], []);
    validateUpgradeResponse(
      response([...without('Connection'), ['Connection', 'keep-alive, UPGRADE']]),
      RFC_KEY,
      [],
      [],
    );
    responseError(response(without('Connection')));
    responseError(response([...without('Connection'), ['Connection', 'keep-alive']]));
  });

  it('Sec-WebSocket-Accept must be present once and match the key exactly', () => {
    responseError(response(without('Sec-WebSocket-Accept')));
    responseError(
      response([...without('Sec-WebSocket-Accept'), ['Sec-WebSocket-Accept', acceptKey('other')]]),
    );
    responseError(
      response([...without('Sec-WebSocket-Accept'), ['Sec-WebSocket-Accept', RFC_ACCEPT.toLowerCase()]]),
    );
    responseError(
      response([...without('Sec-WebSocket-Accept'), ['Sec-WebSocket-Accept', RFC_ACCEPT.slice(0, -1)]]),
    );
    responseError(response([...GOOD, ['Sec-WebSocket-Accept', RFC_ACCEPT]]));
    // The value the RFC computes for its example key, but checked against another key.
    assert.throws(() => validateUpgradeResponse(readHead(RFC_RESPONSE), 'AAAAAAAAAAAAAAAAAAAAAA==', [], []));
  });

  it('a subprotocol must be one that was offered', () => {
    const chosen = response([...GOOD, ['Sec-WebSocket-Protocol', 'chat']]);
    assert.deepEqual(validateUpgradeResponse(chosen, RFC_KEY, ['superchat', 'chat'], []).protocol, 'chat');
    responseError(chosen, []);
    responseError(chosen, ['superchat']);
    responseError(chosen, ['Chat']);
    responseError(response([...GOOD, ['Sec-WebSocket-Protocol', '']]), ['chat']);
    responseError(
      response([...GOOD, ['Sec-WebSocket-Protocol', 'chat'], ['Sec-WebSocket-Protocol', 'chat']]),
      ['chat'],
    );
    responseError(response([...GOOD, ['Sec-WebSocket-Protocol', 'chat, superchat']]), ['chat', 'superchat']);
  });

  it('no subprotocol in the response is fine even if some were offered', () => {
    assert.equal(validateUpgradeResponse(readHead(RFC_RESPONSE), RFC_KEY, ['chat'], []).protocol, '');
  });

  it('with requireProtocol (the WHATWG rule), an offer needs a selection', () => {
    const strict = { requireProtocol: true };
    assert.throws(
      () => validateUpgradeResponse(readHead(RFC_RESPONSE), RFC_KEY, ['chat'], [], strict),
      (error: unknown) => error instanceof HandshakeError && error.status === 101,
    );
    assert.equal(validateUpgradeResponse(readHead(RFC_RESPONSE), RFC_KEY, [], [], strict).protocol, '');
    const chosen = response([...GOOD, ['Sec-WebSocket-Protocol', 'chat']]);
    assert.equal(validateUpgradeResponse(chosen, RFC_KEY, ['chat'], [], strict).protocol, 'chat');
  });

  it('an extension must be one that was offered', () => {
    const head = response([
      ...GOOD,
      ['Sec-WebSocket-Extensions', 'permessage-deflate; server_max_window_bits=10'],
    ]);
    assert.deepEqual(validateUpgradeResponse(head, RFC_KEY, [], ['permessage-deflate']).extensions, [
      { name: 'permessage-deflate', params: [['server_max_window_bits', '10']] },
    ]);
    responseError(head, [], []);
    responseError(head, [], ['x-webkit-deflate-frame']);
    responseError(
      response([...GOOD, ['Sec-WebSocket-Extensions', 'permessage-deflate, x-other']]),
      [],
      ['permessage-deflate'],
    );
  });

  it('a malformed extension header fails the handshake', () => {
    const error = responseError(
      response([...GOOD, ['Sec-WebSocket-Extensions', 'permessage-deflate;']]),
      [],
      ['permessage-deflate'],
    );
    assert.equal(error.status, 101);
  });
});

describe('ResponseHeadReader', () => {
  const frameBytes = Buffer.from([0x81, 0x02, 0x68, 0x69, 0x88, 0x00]);
  const wire = Buffer.concat([Buffer.from(RFC_RESPONSE, 'latin1'), frameBytes]);

  function summary(head: ResponseHead): unknown {
    return {
      httpVersion: head.httpVersion,
      status: head.status,
      reason: head.reason,
      upgrade: head.headers.all('upgrade'),
      connection: head.headers.all('connection'),
      accept: head.headers.all('sec-websocket-accept'),
      size: head.headers.size,
    };
  }

  /** Pushes `pieces` in order; returns the head and the bytes after it (rest plus later pieces). */
  function readPieces(pieces: Buffer[]): { head: ResponseHead; after: Buffer } {
    const reader = new ResponseHeadReader();
    for (let i = 0; i < pieces.length; i++) {
      const head = reader.push(pieces[i]);
      if (head !== null) return { head, after: Buffer.concat([head.rest, ...pieces.slice(i + 1)]) };
    }
    assert.fail('the head never completed');
  }

  it('parses the status line and header fields; the bytes after the head are kept', () => {
    const { head, after } = readPieces([wire]);
    assert.deepEqual(summary(head), {
      httpVersion: '1.1',
      status: 101,
      reason: 'Switching Protocols',
      upgrade: ['websocket'],
      connection: ['Upgrade'],
      accept: [RFC_ACCEPT],
      size: 3,
    });
    assert.ok(after.equals(frameBytes));
  });

  it('gives the same head and the same following bytes for a split at every byte', () => {
    const expected = summary(readPieces([wire]).head);
    for (let cut = 1; cut < wire.length; cut++) {
      const { head, after } = readPieces([wire.subarray(0, cut), wire.subarray(cut)]);
      assert.deepEqual(summary(head), expected, `cut at ${cut}`);
      assert.ok(after.equals(frameBytes), `cut at ${cut}`);
    }
  });

  it('gives the same head one byte at a time, and returns null until the blank line', () => {
    const reader = new ResponseHeadReader();
    const headLength = RFC_RESPONSE.length;
    for (let i = 0; i < headLength - 1; i++)
      assert.equal(reader.push(wire.subarray(i, i + 1)), null, `byte ${i}`);
    const head = reader.push(wire.subarray(headLength - 1, headLength));
    assert.ok(head !== null);
    assert.deepEqual(summary(head), summary(readPieces([wire]).head));
    assert.equal(head.rest.length, 0);
  });

  it('trims optional white space around values; status without a reason phrase', () => {
    const head = readHead('HTTP/1.1 101\r\nUpgrade:websocket \r\nX-Empty:\r\nX-Tab:\t v \t\r\n\r\n');
    assert.equal(head.status, 101);
    assert.equal(head.reason, '');
    assert.deepEqual(head.headers.all('upgrade'), ['websocket']);
    assert.deepEqual(head.headers.all('x-empty'), ['']);
    assert.deepEqual(head.headers.all('x-tab'), ['v']);
  });

  it('refuses malformed status lines', () => {
    for (const line of [
      'HTTP/1.1',
      'HTTP/1.1 ',
      'HTTP/1.1 abc Nope',
      'HTTP/1.1 99 Too Low',
      'HTTP/1.1 600 Too High',
      'HTTP/1.1 10 Two Digits',
      'HTTP/1.1 1a1 Hex',
      'FTP/1.1 101 Nope',
      'http/1.1 101 lower',
      ' HTTP/1.1 101 Leading',
      '',
    ]) {
      assert.throws(
        () => readHead(`${line}\r\nUpgrade: websocket\r\n\r\n`),
        HandshakeError,
        JSON.stringify(line),
      );
    }
  });

  it('refuses a status code of more than three digits (not read as its first three)', () => {
    for (const line of ['HTTP/1.1 1010 Four Digits', 'HTTP/1.1 1011']) {
      assert.throws(
        () => readHead(`${line}\r\nUpgrade: websocket\r\n\r\n`),
        HandshakeError,
        JSON.stringify(line),
      );
    }
  });

  it('refuses malformed header lines: no colon, empty name, space before colon, folding', () => {
    for (const line of [
      'NoColon',
      ': empty-name',
      'Upgrade : websocket',
      'Upgrade\t: websocket',
      ' folded: x',
      '\tfolded',
    ]) {
      assert.throws(
        () => readHead(`HTTP/1.1 101 Switching Protocols\r\n${line}\r\n\r\n`),
        HandshakeError,
        JSON.stringify(line),
      );
    }
  });

  it('refuses a head over maxHeaderBytes as soon as the limit is passed, with status 0', () => {
    const reader = new ResponseHeadReader({ maxHeaderBytes: 100, maxHeaders: 100 });
    assert.equal(reader.push(Buffer.from(`HTTP/1.1 101 OK\r\nX: ${'a'.repeat(60)}`)), null);
    try {
      reader.push(Buffer.from('b'.repeat(40)));
      assert.fail('no error');
    } catch (error) {
      assert.ok(error instanceof HandshakeError);
      assert.equal(error.status, 0);
    }
    const whole = new ResponseHeadReader({ maxHeaderBytes: 100, maxHeaders: 100 });
    assert.throws(
      () => whole.push(Buffer.from(`HTTP/1.1 101 OK\r\nX: ${'a'.repeat(200)}\r\n\r\n`)),
      HandshakeError,
    );
  });

  it('the limit decision does not depend on how the bytes are split', () => {
    const limit = 100;
    const status = 'HTTP/1.1 101 OK\r\nX: ';
    // Heads whose length (status line and fields, without the final blank line) is near the limit.
    for (let length = limit - 5; length <= limit + 5; length++) {
      const head = Buffer.from(`${status}${'a'.repeat(length - status.length)}\r\n\r\n`, 'latin1');
      const outcome = (pieces: Buffer[]) => {
        const reader = new ResponseHeadReader({ maxHeaderBytes: limit, maxHeaders: 100 });
        try {
          for (const piece of pieces) if (reader.push(piece) !== null) return 'accepted';
          return 'incomplete';
        } catch (error) {
          assert.ok(error instanceof HandshakeError);
          return 'refused';
        }
      };
      const expected = outcome([head]);
      for (let cut = 1; cut < head.length; cut++) {
        assert.equal(
          outcome([head.subarray(0, cut), head.subarray(cut)]),
          expected,
          `head of ${length} bytes split at ${cut}`,
        );
      }
      assert.equal(
        outcome([...head].map((b) => Buffer.from([b]))),
        expected,
        `head of ${length} bytes fed byte by byte`,
      );
    }
  });

  it('frame bytes following the head do not count toward maxHeaderBytes', () => {
    const reader = new ResponseHeadReader({ maxHeaderBytes: RFC_RESPONSE.length, maxHeaders: 10 });
    const head = reader.push(Buffer.concat([Buffer.from(RFC_RESPONSE), Buffer.alloc(10_000, 0x81)]));
    assert.ok(head !== null);
    assert.equal(head.rest.length, 10_000);
  });

  it('refuses more than maxHeaders header fields', () => {
    const fields = (n: number) =>
      `HTTP/1.1 101 Switching Protocols\r\n${Array.from({ length: n }, (_, i) => `X-${i}: v\r\n`).join('')}\r\n`;
    const read = (n: number) =>
      new ResponseHeadReader({ maxHeaderBytes: 16 * 1024, maxHeaders: 5 }).push(Buffer.from(fields(n)));
    assert.equal(read(5)?.headers.size, 5);
    assert.throws(() => read(6), HandshakeError);
  });

  it('defaults: 16 KiB and 100 fields', () => {
    const big = `HTTP/1.1 101 Switching Protocols\r\nX: ${'a'.repeat(16 * 1024)}\r\n\r\n`;
    assert.throws(() => new ResponseHeadReader().push(Buffer.from(big)), HandshakeError);
    const many = `HTTP/1.1 101 Switching Protocols\r\n${Array.from({ length: 101 }, (_, i) => `X-${i}: v\r\n`).join('')}\r\n`;
    assert.throws(() => new ResponseHeadReader().push(Buffer.from(many)), HandshakeError);
  });
});
