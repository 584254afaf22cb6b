// Header-parsing advisory classes, as regression tests:
// - ws CVE-2021-32640 (ReDoS on Sec-WebSocket-Protocol full of spaces) and websocket-extensions
//   CVE-2020-7662 / CVE-2020-7663 (ReDoS on Sec-WebSocket-Extensions with quoted strings and
//   backslashes): adversarial values parse with work linear in their size, counted as the
//   parsers' loop iterations (`parserSteps`), not timed, through the parser functions and
//   through a real server socket;
// - ws CVE-2024-37890 (a request with more headers than the HTTP parser keeps crashed the server)
//   and the 2017 prototype-pollution DoS (header and extension names such as `__proto__`,
//   `constructor`, `hasOwnProperty`): a clear 4xx or a normal 101, never a crash, and the
//   server keeps serving.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer, type UpgradeContext } from '../../src/index.js';
import { HandshakeError } from '../../src/protocol/errors.js';
import {
  HeaderMap,
  HeaderSyntaxError,
  listHasToken,
  parseExtensions,
  parserSteps,
  parseTokenList,
} from '../../src/protocol/handshake/headers.js';
import { validateUpgradeRequest } from '../../src/protocol/handshake/server.js';
import {
  type EchoMonitor,
  growth,
  KiB,
  recordFigures,
  requestHead,
  round,
  SAMPLE_KEY,
  type ServerHandle,
  type ServerStats,
  startEchoMonitor,
  startServer,
  upgradeRequest,
} from './helpers.js';

/** Repeats `unit` to exactly `size` characters (none for a size below 1). */
function fill(unit: string, size: number): string {
  if (size < 1) return '';
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
}

/** `prefix`, then `unit` repeated, then `suffix`: `size` characters in all. */
function pad(prefix: string, unit: string, size: number, suffix = ''): string {
  return prefix + fill(unit, size - prefix.length - suffix.length) + suffix;
}

type Shape = readonly [name: string, make: (size: number) => string];

/** Values that have hurt regex-based parsers, plus the shapes a linear scanner could still trip on. */
const PROTOCOL_SHAPES: readonly Shape[] = [
  ['spaces', (n) => fill(' ', n)],
  ['commas', (n) => fill(',', n)],
  ['comma-space', (n) => fill(', ', n)],
  ['space-comma-tab', (n) => fill(' ,\t', n)],
  ['token, spaces, token (CVE-2021-32640)', (n) => pad('b', ' ', n, 'x')],
  ['token then spaces then comma', (n) => pad('chat', ' ', n, ',')],
  ['one long token', (n) => fill('a', n)],
  ['many one-letter tokens', (n) => fill('a,', n)],
  ['quotes', (n) => fill('"', n)],
  ['latin1 bytes', (n) => fill('\u00ff', n)],
  ['tabs and a token at the end', (n) => pad('', '\t', n, 'z')],
];

const EXTENSION_SHAPES: readonly Shape[] = [
  ['spaces', (n) => fill(' ', n)],
  ['commas', (n) => fill(',', n)],
  ['comma-space', (n) => fill(', ', n)],
  ['semicolons', (n) => fill(';', n)],
  ['name;name;...', (n) => fill('a;', n)],
  ['name; param; param...', (n) => pad('x', '; b', n)],
  ['param=spaces', (n) => pad('a;b=', ' ', n)],
  ['unterminated quoted string', (n) => pad('a;b="', 'x', n)],
  ['quoted pairs (CVE-2020-7662)', (n) => pad('a;b="', '\\c', n, '"')],
  ['unterminated quoted pairs (CVE-2020-7663)', (n) => pad('a;b="', '\\c', n)],
  ['backslashes', (n) => pad('a;b="', '\\', n)],
  ['quoted empty values', (n) => pad('a', ';b=""', n)],
  ['name, spaces, semicolon', (n) => pad('a', ' ', n, ';')],
  ['many params with values', (n) => pad('x', ';b=c', n)],
  ['many extensions', (n) => fill('permessage-deflate, ', n)],
  ['many deflate params', (n) => pad('permessage-deflate', '; client_max_window_bits', n)],
  ['huge window bits value', (n) => pad('permessage-deflate; client_max_window_bits=', '1', n)],
  ['equals signs', (n) => pad('a;b', '=', n)],
];

const NORMAL_PROTOCOLS = (n: number) => fill('chat.v1, graphql-ws, mqtt, ', n).replace(/[ ,]+$/, '');
const NORMAL_EXTENSIONS = (n: number) =>
  fill('permessage-deflate; client_max_window_bits; server_max_window_bits=10, ', n).replace(/[ ,=;]+$/, '');

/** Calls a parser and swallows the one error type it may throw; anything else propagates. */
function quietly(parse: (value: string) => unknown, value: string): void {
  try {
    parse(value);
  } catch (error) {
    if (!(error instanceof HeaderSyntaxError) && !(error instanceof HandshakeError)) throw error;
  }
}

function validateWith(name: string, value: string): void {
  const headers = new HeaderMap();
  headers.add('Host', '127.0.0.1');
  headers.add('Upgrade', name === 'upgrade' ? value : 'websocket');
  headers.add('Connection', name === 'connection' ? value : 'Upgrade');
  headers.add('Sec-WebSocket-Key', SAMPLE_KEY);
  headers.add('Sec-WebSocket-Version', '13');
  if (name !== 'upgrade' && name !== 'connection') headers.add(name, value);
  validateUpgradeRequest({ method: 'GET', httpVersion: '1.1', headers });
}

const SIZE = 100 * KiB;
/**
 * Most loop iterations the parsers may run per character of a value. A linear parser runs a
 * few (the worst shapes here take about 3); one with a quadratic step runs thousands at 100 KiB.
 */
const MAX_STEPS_PER_CHAR = 8;
/** Iterations that do not depend on the value's size (the other fields of a request). */
const FIXED_STEPS = 200;

/** The loop iterations the header parsers run for `parse(value)`. */
function stepsFor(parse: (value: string) => void, value: string): number {
  const before = parserSteps();
  parse(value);
  return parserSteps() - before;
}

/**
 * Counts the parsers' work on an adversarial value, on the same value at a quarter of the
 * size, and on a normal value of the same size: the adversarial value may cost at most
 * MAX_STEPS_PER_CHAR per character, and four times the input at most four times the work.
 * Counts are exact, so the bounds hold on any machine however loaded.
 */
function assertLinear(
  what: string,
  parse: (value: string) => void,
  adversarial: (n: number) => string,
  normal: (n: number) => string,
): { steps: number; perChar: number; scaling: number } {
  const big = adversarial(SIZE);
  assert.equal(big.length, SIZE);
  const steps = stepsFor(parse, big);
  const small = stepsFor(parse, adversarial(SIZE / 4));
  // The counter sees this parser at all: a normal value is scanned to its end.
  assert.ok(stepsFor(parse, normal(SIZE)) >= SIZE, `${what}: a normal value is counted`);
  const figures = { steps, perChar: round(steps / SIZE), scaling: round(steps / Math.max(small, 1)) };
  assert.ok(
    steps <= MAX_STEPS_PER_CHAR * SIZE + FIXED_STEPS && steps <= 4 * small + FIXED_STEPS,
    `${what}: not linear (${SIZE} chars took ${steps} steps, ${figures.perChar} per char, ` +
      `${figures.scaling}x a value 4 times smaller)`,
  );
  return figures;
}

describe('header parsers run in linear time on adversarial values (CVE-2021-32640, CVE-2020-7662/7663)', () => {
  for (const [name, make] of PROTOCOL_SHAPES) {
    it(`Sec-WebSocket-Protocol: ${name}`, (t) => {
      const token = assertLinear(name, (v) => quietly(parseTokenList, v), make, NORMAL_PROTOCOLS);
      const full = assertLinear(
        name,
        (v) => quietly((x) => validateWith('sec-websocket-protocol', x), v),
        make,
        NORMAL_PROTOCOLS,
      );
      t.diagnostic(`parseTokenList ${JSON.stringify(token)}; validateUpgradeRequest ${JSON.stringify(full)}`);
    });
  }

  for (const [name, make] of EXTENSION_SHAPES) {
    it(`Sec-WebSocket-Extensions: ${name}`, (t) => {
      const direct = assertLinear(name, (v) => quietly(parseExtensions, v), make, NORMAL_EXTENSIONS);
      const full = assertLinear(
        name,
        (v) => quietly((x) => validateWith('sec-websocket-extensions', x), v),
        make,
        NORMAL_EXTENSIONS,
      );
      t.diagnostic(
        `parseExtensions ${JSON.stringify(direct)}; validateUpgradeRequest ${JSON.stringify(full)}`,
      );
    });
  }

  for (const header of ['connection', 'upgrade']) {
    it(`${header} lists (spaces, commas) are scanned in linear time`, () => {
      // The normal value has no element the check looks for, so it is scanned to its end (the
      // scan stops at the first match).
      for (const [name, make] of PROTOCOL_SHAPES.slice(0, 5)) {
        assertLinear(
          `${header}: ${name}`,
          (v) => quietly((x) => validateWith(header, x), v),
          make,
          (n) => fill('keep-alive, x-other, ', n),
        );
        assertLinear(
          `listHasToken ${name}`,
          (v) => {
            listHasToken(v, 'upgrade');
          },
          make,
          (n) => fill('keep-alive, x-other, ', n),
        );
      }
    });
  }

  it('the parsers throw nothing but their syntax error on any of these values', () => {
    for (const [, make] of [...PROTOCOL_SHAPES, ...EXTENSION_SHAPES]) {
      for (const size of [0, 1, 2, 3, 7, 64]) {
        const value = make(Math.max(size, 6)).slice(0, size);
        quietly(parseTokenList, value);
        quietly(parseExtensions, value);
        quietly((x) => validateWith('sec-websocket-extensions', x), value);
        quietly((x) => validateWith('sec-websocket-protocol', x), value);
      }
    }
  });
});

describe('adversarial handshake headers through a real server socket', () => {
  let server: ServerHandle;
  let monitor: EchoMonitor;
  let before0: ServerStats;

  before(async () => {
    server = await startServer({ server: { protocols: ['chat.v1'] } });
    monitor = await startEchoMonitor(server.port);
    before0 = await server.settledStats();
    server.resetEventLoopDelay();
  });
  after(async (t) => {
    const figures = await monitor.stop();
    const stats = await server.settledStats();
    recordFigures(t, 'adversarial handshake headers', { ...growth(before0, stats), legit: figures });
    assert.ok(server.alive(), 'the server process survived');
    assert.ok(
      figures.received >= figures.sent - 1,
      `the legitimate client's echoes continued: ${JSON.stringify(figures)}`,
    );
    await server.stop();
  });

  /** One handshake carrying `header: value`: its status, and the parser steps the server ran for it. */
  async function counted(
    header: string,
    value: string,
  ): Promise<{ status: number; steps: number; ms: number }> {
    const before = (await server.stats()).parserSteps;
    const result = await requestHead(server.port, upgradeRequest('/echo', [[header, value]]));
    const steps = (await server.stats()).parserSteps - before;
    return { status: result.status, steps, ms: round(result.elapsed) };
  }

  /** The server's parsers did work linear in the value's size (the time is information only). */
  function assertLinearWork(name: string, value: string, result: { steps: number }): void {
    assert.ok(
      result.steps <= MAX_STEPS_PER_CHAR * value.length + FIXED_STEPS,
      `${name}: ${result.steps} parser steps for ${value.length} chars`,
    );
  }

  // Node's HTTP parser refuses heads over 16 KiB, so values that reach wsx's parser are at most
  // about 15 KiB; the 100 KiB values are refused before wsx sees them.
  const REACHABLE = 15 * KiB;

  for (const [header, shapes, normal] of [
    ['Sec-WebSocket-Protocol', PROTOCOL_SHAPES, NORMAL_PROTOCOLS],
    ['Sec-WebSocket-Extensions', EXTENSION_SHAPES, NORMAL_EXTENSIONS],
  ] as const) {
    it(`${header}: every adversarial shape of 15 KiB gets 101 or 400 after linear parsing work`, async (t) => {
      const reference = await counted(header, normal(REACHABLE));
      assert.equal(reference.status, 101, 'a normal value of the same size is accepted');
      // The count reaches the server's parsers: they scanned the normal value to its end.
      assert.ok(reference.steps >= REACHABLE, `a normal value took ${reference.steps} steps`);
      const rows: string[] = [];
      for (const [name, make] of shapes) {
        const value = make(REACHABLE);
        const result = await counted(header, value);
        assert.ok([101, 400].includes(result.status), `${name}: answered ${result.status}`);
        assertLinearWork(name, value, result);
        rows.push(`${name}=${result.status}/${result.steps} steps/${result.ms}ms`);
      }
      t.diagnostic(`normal ${reference.steps} steps/${reference.ms} ms; ${rows.join(', ')}`);
    });

    // Node's parser does not count leading white space of a field value against its 16 KiB
    // limit (it skips it without keeping it), so 100 KiB of spaces or tabs reaches wsx as an
    // empty value and gets 101; every other shape is refused with 431 before wsx sees it.
    it(`${header}: 100 KiB adversarial values get 431 (or 101 when all white space)`, async (t) => {
      const rows: string[] = [];
      for (const [name, make] of shapes) {
        const value = make(SIZE);
        const result = await counted(header, value);
        const expected = value.trim() === '' || /^[ \t]*[!-~]{0,40}$/.test(value) ? [101, 400, 431] : [431];
        assert.ok(expected.includes(result.status), `${name}: answered ${result.status}`);
        assertLinearWork(name, value, result);
        rows.push(`${name}=${result.status}/${result.steps} steps/${result.ms}ms`);
      }
      t.diagnostic(rows.join(', '));
    });
  }

  it('still answers a normal handshake with 101 afterwards', async () => {
    const result = await requestHead(server.port, upgradeRequest('/echo'));
    assert.equal(result.status, 101);
  });
});

describe('too many and too large header fields (CVE-2024-37890)', () => {
  let server: ServerHandle;
  let permissive: ServerHandle;
  let monitor: EchoMonitor;

  before(async () => {
    server = await startServer();
    // A server that allows more fields than Node's HTTP parser keeps (2,000): the fields past
    // that are dropped by Node, which is what crashed ws.
    permissive = await startServer({ server: { maxHeaders: 100_000 } });
    monitor = await startEchoMonitor(server.port);
  });
  after(async (t) => {
    const figures = await monitor.stop();
    recordFigures(t, 'too many header fields', { legit: figures });
    assert.ok(server.alive() && permissive.alive(), 'the server processes survived');
    assert.ok(
      figures.received >= figures.sent - 1,
      `the legitimate client's echoes continued: ${JSON.stringify(figures)}`,
    );
    await server.stop();
    await permissive.stop();
  });

  const junk = (count: number, name = (i: number) => `x-${i}`) =>
    Array.from({ length: count }, (_, i) => [name(i), 'v'] as const);

  it('accepts a request with exactly maxHeaders (100) fields', async () => {
    // upgradeRequest writes 5 fields itself.
    const result = await requestHead(server.port, upgradeRequest('/echo', junk(95)));
    assert.equal(result.status, 101);
  });

  it('refuses one field more than maxHeaders with 431', async () => {
    const result = await requestHead(server.port, upgradeRequest('/echo', junk(96)));
    assert.equal(result.status, 431);
  });

  it('refuses 3,000 tiny fields (more than Node keeps) with 431', async () => {
    const result = await requestHead(
      server.port,
      upgradeRequest(
        '/echo',
        junk(3000, (i) => `${i}`),
      ),
    );
    assert.equal(result.status, 431);
  });

  // Node's parser drops the fields past 2,000 (so the upgrade is refused with 4xx); wsx's own
  // reader, which `listen()` uses, keeps every field of a head within 16 KiB, so with maxHeaders
  // at 100,000 the request is complete and valid (101). Either way: an answer, not a crash.
  it('answers, not a crash, when the WebSocket fields come after the 2,000 that Node keeps', async () => {
    let request = 'GET /echo HTTP/1.1\r\n';
    for (let i = 0; i < 2100; i++) request += `${i}:\r\n`;
    request += `Host: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${SAMPLE_KEY}\r\n`;
    request += 'Sec-WebSocket-Version: 13\r\n\r\n';
    const result = await requestHead(permissive.port, request);
    assert.ok(
      result.status === 101 || (result.status >= 400 && result.status < 500),
      `answered ${result.status}`,
    );
    assert.ok(permissive.alive());
    const next = await requestHead(permissive.port, upgradeRequest('/echo'));
    assert.equal(next.status, 101, 'the permissive server still serves');
  });

  it('refuses a head over 16 KiB with 431, and one of 1 MiB without reading all of it', async () => {
    const big = await requestHead(server.port, upgradeRequest('/echo', [['x-big', fill('a', 17 * KiB)]]));
    assert.equal(big.status, 431);
    const huge = await requestHead(server.port, upgradeRequest('/echo', [['x-huge', fill('a', 1024 * KiB)]]));
    assert.ok(huge.status === 431 || huge.status === 0, `answered ${huge.status}`);
    const fits = await requestHead(server.port, upgradeRequest('/echo', [['x-fits', fill('a', 15 * KiB)]]));
    assert.equal(fits.status, 101);
  });

  it('refuses duplicated single-valued WebSocket fields with 400', async () => {
    for (const name of ['Sec-WebSocket-Key', 'Sec-WebSocket-Version', 'Host']) {
      const value = name === 'Sec-WebSocket-Key' ? SAMPLE_KEY : name === 'Host' ? 'b' : '13';
      const result = await requestHead(server.port, upgradeRequest('/echo', [[name, value]]));
      assert.equal(result.status, 400, `duplicate ${name}: ${result.status}`);
    }
  });
});

describe('header and extension names that are Object.prototype properties (2017 ws DoS)', () => {
  const NAMES = [
    '__proto__',
    'constructor',
    'hasOwnProperty',
    'toString',
    'valueOf',
    '__defineGetter__',
    'prototype',
    'isPrototypeOf',
  ];
  let port: number;
  const seen: Array<{ name: string; all: readonly string[]; single: string | undefined }> = [];
  const server = createServer({ protocols: ['chat.v1'] });
  server.route('/echo', {
    upgrade(context: UpgradeContext) {
      for (const name of NAMES) {
        seen.push({ name, all: context.headers.all(name), single: context.headers.single(name) });
      }
      return undefined;
    },
    message(socket, data, isBinary) {
      if (isBinary) socket.sendBinary(data);
      else socket.sendText(data);
    },
  });
  server.route('/rooms/:room', {});
  // An application that copies request data into a response header: CR/LF (and characters
  // above U+00FF, which latin1 would turn into them) must never split the response.
  server.route('/inject', {
    upgrade(context: UpgradeContext) {
      return { headers: { 'X-Name': context.query.get('name') ?? '' } };
    },
  });

  before(async () => {
    ({ port } = await server.listen({ port: 0 }));
  });
  after(async () => {
    await server.close({ timeout: 500 });
  });

  it('treats them as ordinary header fields: 101, and the upgrade hook reads their values', async () => {
    const result = await requestHead(
      port,
      upgradeRequest(
        '/echo',
        NAMES.map((name) => [name, `value-of-${name}`] as const),
      ),
    );
    assert.equal(result.status, 101);
    assert.equal(seen.length, NAMES.length, 'the upgrade hook read every name');
    for (const { name, all, single } of seen) {
      assert.deepEqual(all, [`value-of-${name}`], name);
      assert.equal(single, `value-of-${name}`, name);
    }
    // A fresh map does not see inherited properties as fields.
    const empty = new HeaderMap();
    for (const name of NAMES) {
      assert.deepEqual(empty.all(name), [], name);
      assert.equal(empty.list(name), undefined, name);
      assert.equal(empty.single(name), undefined, name);
    }
  });

  it('answers 101 or 400 to such names as extensions, parameters and subprotocols', async () => {
    const offers = [
      ['Sec-WebSocket-Extensions', NAMES.join(', ')],
      ['Sec-WebSocket-Extensions', `x; ${NAMES.join('; ')}`],
      ['Sec-WebSocket-Extensions', `permessage-deflate; ${NAMES.map((n) => `${n}=1`).join('; ')}`],
      ['Sec-WebSocket-Extensions', 'permessage-deflate; __proto__="x"; constructor'],
      ['Sec-WebSocket-Protocol', NAMES.join(', ')],
    ] as const;
    for (const [header, value] of offers) {
      const result = await requestHead(port, upgradeRequest('/echo', [[header, value]]));
      assert.ok([101, 400].includes(result.status), `${header}: ${value} answered ${result.status}`);
    }
    for (const name of NAMES) {
      const parsed = parseExtensions(`${name}; ${name}=${name}`);
      assert.equal(parsed[0].name, name);
      assert.deepEqual(parsed[0].params, [[name, name]]);
    }
  });

  it('refuses to write response headers that would split the response (header injection)', async () => {
    for (const name of [
      'a%0d%0aSet-Cookie:%20evil=1',
      'a%0aSet-Cookie:%20evil=1',
      'a%0d',
      '%C4%8ASet-Cookie:%20evil=1',
      'a%00b',
    ]) {
      const result = await requestHead(port, upgradeRequest(`/inject?name=${name}`));
      assert.doesNotMatch(result.head, /set-cookie/i, `${name}: no injected field`);
      assert.equal(result.status, 500, `${name}: answered ${result.status}`);
    }
    const fine = await requestHead(port, upgradeRequest('/inject?name=plain'));
    assert.equal(fine.status, 101);
    assert.match(fine.head, /\r\nX-Name: plain/);
  });

  it('routes paths and queries named after them without crashing', async () => {
    for (const path of [
      '/rooms/__proto__',
      '/rooms/constructor?__proto__=1&constructor=2',
      '/__proto__',
      '/echo?toString=1',
    ]) {
      const result = await requestHead(port, upgradeRequest(path));
      assert.ok([101, 404].includes(result.status), `${path}: ${result.status}`);
    }
    const result = await requestHead(port, upgradeRequest('/echo'));
    assert.equal(result.status, 101);
  });
});
