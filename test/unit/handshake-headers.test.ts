// RFC 6455 §4 and §9.1 header grammars (with RFC 7230 §3.2.6 tokens and §7 lists): HeaderMap,
// token lists, Sec-WebSocket-Extensions with quoted strings, errors, and linear-time parsing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatExtensions,
  HeaderMap,
  HeaderSyntaxError,
  isToken,
  listHasToken,
  parseExtensions,
  parserSteps,
  parseTokenList,
  splitList,
} from '../../src/protocol/handshake/headers.js';

describe('HeaderMap', () => {
  it('looks names up case-insensitively and keeps every value in order', () => {
    const map = HeaderMap.fromRaw(['Host', 'a', 'X-Thing', '1', 'x-thing', '2', 'X-THING', '3']);
    assert.equal(map.size, 2);
    assert.deepEqual(map.all('x-Thing'), ['1', '2', '3']);
    assert.equal(map.list('X-THING'), '1, 2, 3');
    assert.equal(map.single('HOST'), 'a');
    assert.deepEqual(map.all('missing'), []);
    assert.equal(map.list('missing'), undefined);
    assert.equal(map.single('missing'), undefined);
  });

  it('single() refuses a field that appears twice', () => {
    const map = new HeaderMap();
    map.add('Sec-WebSocket-Key', 'a');
    map.add('sec-websocket-key', 'b');
    assert.throws(() => map.single('sec-websocket-key'), HeaderSyntaxError);
  });

  it('keeps order, values and lookups the same past the names a small map searches in order', () => {
    const map = new HeaderMap();
    for (let i = 0; i < 40; i++) map.add(`X-Name-${i}`, `v${i}`);
    map.add('x-name-3', 'again');
    map.add('Content-Type', 'text/plain');
    assert.equal(map.size, 41);
    assert.deepEqual(map.all('X-NAME-3'), ['v3', 'again']);
    assert.equal(map.single('x-name-39'), 'v39');
    assert.equal(map.single('content-type'), 'text/plain');
    assert.equal(map.single('x-name-40'), undefined);
    const record = map.toRecord();
    assert.deepEqual(Object.keys(record).slice(0, 2), ['x-name-0', 'x-name-1']);
    assert.equal(record['x-name-3'], 'v3, again');
    assert.equal(Object.keys(record).at(-1), 'content-type');
  });

  it('finds a name given in any case, including beyond ASCII', () => {
    const map = new HeaderMap();
    map.add('\u00c9t\u00e9', '1');
    assert.equal(map.single('\u00c9T\u00c9'), '1');
    assert.equal(map.single('\u00e9t\u00e9'), '1');
  });

  it('fromRaw ignores a dangling name without a value', () => {
    const map = HeaderMap.fromRaw(['A', '1', 'B']);
    assert.equal(map.size, 1);
  });
});

describe('RFC 7230 tokens and lists', () => {
  it('isToken accepts tchar and nothing else', () => {
    const tchar = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    assert.equal(isToken(tchar), true);
    for (let c = 0; c < 0x180; c++) {
      const ch = String.fromCharCode(c);
      assert.equal(isToken(ch), tchar.includes(ch), `char 0x${c.toString(16)}`);
      assert.equal(isToken(`a${ch}b`), tchar.includes(ch));
    }
    assert.equal(isToken(''), false);
  });

  it('splitList trims optional white space and skips empty elements', () => {
    assert.deepEqual(splitList('a, b,,c ,\t d\t'), ['a', 'b', 'c', 'd']);
    assert.deepEqual(splitList(''), []);
    assert.deepEqual(splitList(' , ,\t,'), []);
    assert.deepEqual(splitList('a b , c'), ['a b', 'c']);
  });

  it('parseTokenList returns tokens and refuses anything else', () => {
    assert.deepEqual(parseTokenList('chat, superchat'), ['chat', 'superchat']);
    assert.deepEqual(parseTokenList(' v1.chat.example ,, mqtt '), ['v1.chat.example', 'mqtt']);
    assert.deepEqual(parseTokenList(''), []);
    for (const bad of ['a b', 'chat/1', '"chat"', 'chat;q=1', 'é', 'a,b c', 'a=b', '(x)', '{x}', 'a\u0000']) {
      assert.throws(() => parseTokenList(bad), HeaderSyntaxError, bad);
    }
  });

  it('listHasToken compares whole elements case-insensitively', () => {
    assert.equal(listHasToken('Upgrade', 'upgrade'), true);
    assert.equal(listHasToken('keep-alive, Upgrade', 'upgrade'), true);
    assert.equal(listHasToken('keep-alive,UPGRADE', 'upgrade'), true);
    assert.equal(listHasToken('  websocket  ', 'WebSocket'), true);
    assert.equal(listHasToken('h2c, WebSocket', 'websocket'), true);
    assert.equal(listHasToken('Upgraded', 'upgrade'), false);
    assert.equal(listHasToken('xupgrade', 'upgrade'), false);
    assert.equal(listHasToken('keep-alive upgrade', 'upgrade'), false);
    assert.equal(listHasToken('', 'upgrade'), false);
    assert.equal(listHasToken(undefined, 'upgrade'), false);
  });
});

describe('RFC 6455 §9.1 Sec-WebSocket-Extensions', () => {
  it('parses names and parameters, with and without values', () => {
    assert.deepEqual(parseExtensions('permessage-deflate'), [{ name: 'permessage-deflate', params: [] }]);
    assert.deepEqual(parseExtensions('permessage-deflate; client_max_window_bits'), [
      { name: 'permessage-deflate', params: [['client_max_window_bits', true]] },
    ]);
    assert.deepEqual(
      parseExtensions('permessage-deflate;server_max_window_bits=10;client_no_context_takeover'),
      [
        {
          name: 'permessage-deflate',
          params: [
            ['server_max_window_bits', '10'],
            ['client_no_context_takeover', true],
          ],
        },
      ],
    );
  });

  it('parses several extensions in order, with empty list elements and optional white space', () => {
    assert.deepEqual(parseExtensions(' , foo ;\tx = 1 , ,bar,baz; y'), [
      { name: 'foo', params: [['x', '1']] },
      { name: 'bar', params: [] },
      { name: 'baz', params: [['y', true]] },
    ]);
  });

  it('unquotes quoted-string values, including quoted pairs', () => {
    assert.deepEqual(parseExtensions('foo; x="10"'), [{ name: 'foo', params: [['x', '10']] }]);
    assert.deepEqual(parseExtensions('foo; x="a\\bc", bar; y="1"'), [
      { name: 'foo', params: [['x', 'abc']] },
      { name: 'bar', params: [['y', '1']] },
    ]);
  });

  it('a quoted value must be a token once unquoted (RFC 6455 §9.1)', () => {
    for (const bad of [
      'foo; x=""',
      'foo; x="a b"',
      'foo; x="a,b"',
      'foo; x="a;b"',
      'foo; x="\\""',
      'foo; x="é"',
    ]) {
      assert.throws(() => parseExtensions(bad), HeaderSyntaxError, bad);
    }
  });

  it('refuses malformed values', () => {
    const bad = [
      'foo;',
      'foo; ',
      'foo;;x',
      'foo; =1',
      'foo; x=',
      'foo; x= ',
      'foo; x="',
      'foo; x="abc',
      'foo; x="abc\\',
      'foo; x=a b',
      'foo; x=1=2',
      'foo bar',
      'foo, ;x',
      ';x',
      '"foo"',
      'foo/1',
      'foo; x/y=1',
      'foo; x=@',
      'fóo',
      'foo; x=1, bar; y="2" z',
    ];
    for (const value of bad) assert.throws(() => parseExtensions(value), HeaderSyntaxError, value);
  });

  it('an empty or all-empty list has no extensions', () => {
    assert.deepEqual(parseExtensions(''), []);
    assert.deepEqual(parseExtensions(' ,\t, '), []);
  });

  it('formatExtensions writes what parseExtensions reads back', () => {
    const offers = [
      { name: 'permessage-deflate', params: [['client_max_window_bits', true] as const] },
      {
        name: 'x-foo',
        params: [['a', '1'] as const, ['b', true] as const],
      },
    ];
    const text = formatExtensions(offers);
    assert.equal(text, 'permessage-deflate; client_max_window_bits, x-foo; a=1; b');
    assert.deepEqual(parseExtensions(text), offers);
  });
});

describe('linear-time parsing of hostile header values', () => {
  /**
   * Runs `parse` on 100 KiB of `unit` repeated, and on 1 KiB of it a hundred times (the same
   * number of bytes), counting the parsers' loop iterations (`parserSteps`) rather than timing
   * them. A linear parser does the same work on both, a few steps per character; a quadratic
   * one would do ~100 times more on the large input.
   */
  function assertLinear(
    label: string,
    build: (size: number) => string,
    parse: (value: string) => unknown,
  ): void {
    const steps = (value: string) => {
      const before = parserSteps();
      try {
        parse(value);
      } catch (error) {
        if (!(error instanceof HeaderSyntaxError)) throw error;
      }
      return parserSteps() - before;
    };
    const big = build(100 * 1024);
    const bigSteps = steps(big);
    const smallSteps = 100 * steps(build(1024));
    assert.ok(
      bigSteps <= 8 * big.length && bigSteps <= smallSteps + 100,
      `${label}: ${bigSteps} steps on 100 KiB vs ${smallSteps} on 100 x 1 KiB`,
    );
  }

  const repeat =
    (unit: string, prefix = '', suffix = '') =>
    (size: number) =>
      prefix + unit.repeat(Math.ceil(size / unit.length)) + suffix;

  const inputs: Array<[string, (size: number) => string]> = [
    ['spaces', repeat(' ')],
    ['commas', repeat(',')],
    ['comma-space', repeat(', ')],
    ['tabs and commas', repeat('\t,')],
    ['spaces then a token', repeat(' ', '', 'x')],
    ['a token then spaces then junk', repeat(' ', 'x', 'y')],
    ['one long token', repeat('a')],
    ['many tokens', repeat('ab, ')],
  ];

  for (const [label, build] of inputs) {
    it(`splitList, parseTokenList and listHasToken: ${label}`, () => {
      assertLinear(`splitList ${label}`, build, splitList);
      assertLinear(`parseTokenList ${label}`, build, parseTokenList);
      assertLinear(`listHasToken ${label}`, build, (v) => listHasToken(v, 'upgrade'));
    });
    it(`parseExtensions: ${label}`, () => {
      assertLinear(`parseExtensions ${label}`, build, parseExtensions);
    });
  }

  const extensionInputs: Array<[string, (size: number) => string]> = [
    ['parameters', repeat('; x=1', 'foo')],
    ['spaces around semicolons', repeat(' ; x ', 'foo')],
    ['a long quoted value', repeat('a', 'foo; x="', '"')],
    ['a long quoted value with escapes', repeat('\\a', 'foo; x="', '"')],
    ['an unterminated quoted value', repeat('a', 'foo; x="')],
    ['a quoted value full of spaces', repeat(' ', 'foo; x="', '"')],
    ['many extensions', repeat('e; a, ')],
  ];
  for (const [label, build] of extensionInputs) {
    it(`parseExtensions: ${label}`, () => {
      assertLinear(`parseExtensions ${label}`, build, parseExtensions);
    });
  }
});
