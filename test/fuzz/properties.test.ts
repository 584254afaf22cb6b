// Property-based tests (fast-check) of the protocol core:
// - frame codec round trip: what the serializer writes, the parser reads back as the same frame,
//   masked or not, in any split;
// - any split of any byte stream (valid frames, broken frames, random bytes) gives a Connection
//   the same events and the same output bytes as the stream in one read, and never breaks the
//   oracles of oracles.ts;
// - handshake request validation never throws anything but HandshakeError;
// - the extension header parser never throws anything but its syntax error, round-trips through
//   formatExtensions, and runs in linear time on any repeated pattern;
// - the response head reader and the UTF-8 validator do not depend on the split.
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Connection } from '../../src/protocol/connection.js';
import { HandshakeError } from '../../src/protocol/errors.js';
import { isValidKey } from '../../src/protocol/handshake/accept.js';
import {
  formatExtensions,
  HeaderMap,
  HeaderSyntaxError,
  isToken,
  parseExtensions,
  parserSteps,
  parseTokenList,
} from '../../src/protocol/handshake/headers.js';
import { ResponseHeadReader } from '../../src/protocol/handshake/http-head.js';
import { validateUpgradeRequest } from '../../src/protocol/handshake/server.js';
import { xorInPlace } from '../../src/protocol/mask.js';
import { FrameParser, type FrameSink } from '../../src/protocol/parser.js';
import { encodeFrame, encodeHeader, encodeTextFrame } from '../../src/protocol/serializer.js';
import { Utf8Validator } from '../../src/protocol/utf8.js';
import { checkStream, encodeSpec, runConnection, splitAt } from './oracles.js';

const RUNS = Number(process.env.WSX_PROPERTY_RUNS ?? 300);
const params = { numRuns: RUNS };

// ---- arbitraries ----

const maskArb = fc.option(fc.uint8Array({ minLength: 4, maxLength: 4 }), { nil: null, freq: 3 });

/** Payload lengths around every encoding boundary, plus small ones. */
const payloadArb = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(125, 126, 127, 65535, 65536, 70000)
      .chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
  },
);

const cutsArb = fc.array(fc.nat({ max: 100_000 }), { maxLength: 12 });

interface Recorded {
  starts: Array<[number, boolean, boolean, number]>;
  data: Buffer[];
  controls: Array<[number, Buffer]>;
}

function recordingSink(): { sink: FrameSink; seen: Recorded } {
  const seen: Recorded = { starts: [], data: [], controls: [] };
  const sink: FrameSink = {
    dataFrameStart(opcode, fin, rsv1, length) {
      seen.starts.push([opcode, fin, rsv1, length]);
    },
    dataFramePayload(piece, mask) {
      const bytes = Buffer.from(piece);
      xorInPlace(bytes, 0, bytes.length, mask);
      seen.data.push(bytes);
    },
    controlFrame(opcode, payload) {
      seen.controls.push([opcode, Buffer.from(payload)]);
    },
  };
  return { sink, seen };
}

describe('frame codec round trip', () => {
  it('serializer then parser gives the same data frame, any mask, any split', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 2),
        fc.boolean(),
        fc.boolean(),
        payloadArb,
        maskArb,
        cutsArb,
        (opcode, fin, rsv1, payload, mask, cuts) => {
          const bytes = encodeFrame(opcode, fin, rsv1, payload, mask);
          const { sink, seen } = recordingSink();
          const parser = new FrameParser(sink, {
            expectMasked: mask !== null,
            maxFrameSize: 1 << 24,
            maxFragments: 10,
          });
          parser.allowRsv1 = true;
          for (const chunk of splitAt(bytes, cuts)) parser.receive(Buffer.from(chunk));
          assert.deepEqual(seen.starts, [[opcode, fin, rsv1, payload.length]]);
          assert.ok(Buffer.concat(seen.data).equals(Buffer.from(payload)));
          assert.deepEqual(seen.controls, []);
        },
      ),
      params,
    );
  });

  it('serializer then parser gives the same control frame, any mask, any split', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(8, 9, 10),
        fc.uint8Array({ maxLength: 125 }),
        maskArb,
        cutsArb,
        (opcode, payload, mask, cuts) => {
          const bytes = encodeFrame(opcode, true, false, payload, mask);
          const { sink, seen } = recordingSink();
          const parser = new FrameParser(sink, {
            expectMasked: mask !== null,
            maxFrameSize: 100,
            maxFragments: 1,
          });
          for (const chunk of splitAt(bytes, cuts)) parser.receive(Buffer.from(chunk));
          assert.equal(seen.controls.length, 1);
          assert.equal(seen.controls[0][0], opcode);
          assert.ok(seen.controls[0][1].equals(Buffer.from(payload)));
        },
      ),
      params,
    );
  });

  it('text frames and header-only frames round-trip too (lone surrogates become U+FFFD)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), maskArb, (text, mask) => {
        const bytes = encodeTextFrame(1, true, false, text, mask);
        const { sink, seen } = recordingSink();
        new FrameParser(sink, {
          expectMasked: mask !== null,
          maxFrameSize: 1 << 20,
          maxFragments: 1,
        }).receive(bytes);
        assert.ok(Buffer.concat(seen.data).equals(Buffer.from(text, 'utf8')));
        const payload = Buffer.from(text, 'utf8');
        const split = Buffer.concat([encodeHeader(2, true, false, payload.length), payload]);
        const second = recordingSink();
        new FrameParser(second.sink, { expectMasked: false, maxFrameSize: 1 << 20, maxFragments: 1 }).receive(
          split,
        );
        assert.ok(Buffer.concat(second.seen.data).equals(payload));
      }),
      params,
    );
  });

  it('any sequence of messages, fragmented anyhow with pings in between, arrives whole', () => {
    const messageArb = fc.record({
      binary: fc.boolean(),
      parts: fc.array(fc.string({ unit: 'binary', maxLength: 40 }), { minLength: 1, maxLength: 5 }),
      pingBetween: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(messageArb, { maxLength: 6 }), cutsArb, (messages, cuts) => {
        const key = Buffer.from([1, 2, 3, 4]);
        const frames: Buffer[] = [];
        for (const message of messages) {
          message.parts.forEach((part, i) => {
            const last = i === message.parts.length - 1;
            const opcode = i === 0 ? (message.binary ? 2 : 1) : 0;
            frames.push(encodeFrame(opcode, last, false, Buffer.from(part, 'utf8'), key));
            if (message.pingBetween && !last) frames.push(encodeFrame(9, true, false, Buffer.from('p'), key));
          });
        }
        const run = runConnection('server', splitAt(Buffer.concat(frames), cuts));
        assert.deepEqual(run.problems, []);
        const received = run.summary.filter((entry) => entry.startsWith('message '));
        assert.deepEqual(
          received,
          messages.map(
            (m) =>
              `message ${m.binary ? 'binary' : 'text'} ${Buffer.from(m.parts.join(''), 'utf8').toString('hex')}`,
          ),
        );
      }),
      params,
    );
  });
});

// ---- any byte stream ----

/** Pieces of a stream: well-formed frames, frames with any header bits, and raw bytes. */
const pieceArb = (role: 'server' | 'client') =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .record({
          opcode: fc.constantFrom(0, 1, 2, 8, 9, 10),
          fin: fc.boolean(),
          payload: fc.oneof(
            fc.uint8Array({ maxLength: 64 }),
            fc.string({ maxLength: 20 }).map((s) => Buffer.from(s)),
          ),
        })
        .map(({ opcode, fin, payload }) =>
          encodeSpec({
            opcode,
            fin: opcode >= 8 ? true : fin,
            rsv: 0,
            payload,
            mask: role === 'server' ? Buffer.from([9, 8, 7, 6]) : null,
          }),
        ),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({
          opcode: fc.integer({ min: 0, max: 15 }),
          fin: fc.boolean(),
          rsv: fc.integer({ min: 0, max: 7 }),
          payload: fc.uint8Array({ maxLength: 200 }),
          mask: maskArb,
          lengthForm: fc.constantFrom<7 | 16 | 64 | undefined>(7, 16, 64, undefined),
        })
        .map((spec) => encodeSpec(spec)),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 0x0100, max: 0x13ff }).map((code) =>
        encodeSpec({
          opcode: 8,
          fin: true,
          rsv: 0,
          payload: Buffer.from([code >> 8, code & 0xff]),
          mask: Buffer.from([0, 0, 0, 0]),
        }),
      ),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 32 }) },
  );

const limitsArb = fc.oneof(
  fc.constant({}),
  fc.record({
    maxMessageSize: fc.integer({ min: 1, max: 400 }),
    maxFragments: fc.integer({ min: 1, max: 6 }),
  }),
);

describe('any split of any byte stream', () => {
  for (const role of ['server', 'client'] as const) {
    it(`${role}: identical events and output bytes whole or split, and every oracle holds`, () => {
      fc.assert(
        fc.property(
          fc.array(pieceArb(role), { maxLength: 12 }),
          cutsArb,
          limitsArb,
          (pieces, cuts, limits) => {
            const stream = Buffer.concat(pieces);
            assert.deepEqual(checkStream(role, stream, cuts, limits), []);
          },
        ),
        { numRuns: RUNS * 3 },
      );
    });
  }

  it('server: the output bytes themselves are identical (no masks to hide differences)', () => {
    fc.assert(
      fc.property(fc.array(pieceArb('server'), { maxLength: 10 }), cutsArb, (pieces, cuts) => {
        const stream = Buffer.concat(pieces);
        const writes = (chunks: Uint8Array[]) => {
          const out: Buffer[] = [];
          const events = {
            write: (data: Uint8Array) => out.push(Buffer.from(data)),
            messageReceived() {},
            pingReceived() {},
            pongReceived() {},
            closeReceived() {},
            failed() {},
            endTransport() {},
          };
          return { out, events, chunks };
        };
        const whole = writes([stream]);
        const split = writes(splitAt(stream, cuts));
        for (const run of [whole, split]) {
          const connection = new Connection('server', run.events);
          for (const chunk of run.chunks) connection.receive(Buffer.from(chunk));
        }
        assert.ok(Buffer.concat(whole.out).equals(Buffer.concat(split.out)));
      }),
      params,
    );
  });
});

// ---- handshake ----

const headerNameArb = fc.oneof(
  fc.constantFrom(
    'Host',
    'Upgrade',
    'Connection',
    'Sec-WebSocket-Key',
    'Sec-WebSocket-Version',
    'Sec-WebSocket-Protocol',
    'Sec-WebSocket-Extensions',
    'Origin',
    '__proto__',
    'constructor',
    'hasOwnProperty',
  ),
  fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 12 }),
);
const headerValueArb = fc.oneof(
  fc.constantFrom(
    'websocket',
    'Upgrade',
    '13',
    'dGhlIHNhbXBsZSBub25jZQ==',
    'a, b',
    'permessage-deflate; x=1',
    '',
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom(' ', ',', ';', '=', '"', '\\', 'a', '\t', '\u00ff'), maxLength: 40 }),
);

describe('handshake request validation', () => {
  it('throws nothing but HandshakeError (400, 405 or 426), and what it accepts is valid', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('GET', 'POST', 'get', '', 'CONNECT'),
        fc.constantFrom('1.1', '1.0', '2.0', '0.9', '1', '', 'x.y', '1.1.1'),
        fc.array(fc.tuple(headerNameArb, headerValueArb), { maxLength: 10 }),
        fc.boolean(),
        (method, httpVersion, extra, base) => {
          const headers = new HeaderMap();
          if (base) {
            headers.add('Host', 'a');
            headers.add('Upgrade', 'websocket');
            headers.add('Connection', 'Upgrade');
            headers.add('Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ==');
            headers.add('Sec-WebSocket-Version', '13');
          }
          for (const [name, value] of extra) headers.add(name, value);
          try {
            const offer = validateUpgradeRequest({ method, httpVersion, headers });
            assert.ok(isValidKey(offer.key));
            for (const protocol of offer.protocols) assert.ok(isToken(protocol));
            for (const extension of offer.extensions) assert.ok(isToken(extension.name));
          } catch (error) {
            assert.ok(error instanceof HandshakeError, `threw ${String(error)}`);
            assert.ok([400, 405, 426].includes(error.status), `status ${error.status}`);
          }
        },
      ),
      { numRuns: RUNS * 3 },
    );
  });
});

// ---- extension header ----

const extensionTextArb = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({
    unit: fc.constantFrom(' ', ',', ';', '=', '"', '\\', 'a', 'b', '\t', 'permessage-deflate', 'x=1', '"q"'),
    maxLength: 30,
  }),
);

describe('Sec-WebSocket-Extensions parser', () => {
  it('throws nothing but HeaderSyntaxError, and parse(format(x)) = x', () => {
    fc.assert(
      fc.property(extensionTextArb, (value) => {
        for (const parse of [parseTokenList, parseExtensions]) {
          try {
            parse(value);
          } catch (error) {
            assert.ok(error instanceof HeaderSyntaxError, `${parse.name} threw ${String(error)}`);
          }
        }
        let parsed: ReturnType<typeof parseExtensions>;
        try {
          parsed = parseExtensions(value);
        } catch {
          return;
        }
        assert.deepEqual(parseExtensions(formatExtensions(parsed)), parsed);
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('is linear: any pattern repeated 8x longer does at most 8x the work', () => {
    // Work is the parsers' loop iterations (`parserSteps`), counted rather than timed.
    const steps = (value: string) => {
      const before = parserSteps();
      try {
        parseExtensions(value);
      } catch {
        // only the work matters here
      }
      return parserSteps() - before;
    };
    // A unit that keeps the parser going (so the whole value is scanned), repeated, then any
    // ending: the worst case of a backtracking parser is a long valid prefix that fails late.
    const unitArb = fc
      .array(
        fc.constantFrom(
          'a',
          'permessage-deflate',
          ' ',
          '\t',
          ',',
          ', ',
          '; b',
          ';c=d',
          '; e="f"',
          '; g="\\h"',
        ),
        {
          minLength: 1,
          maxLength: 6,
        },
      )
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(unitArb, extensionTextArb, (unit, ending) => {
        const small = unit.repeat(Math.ceil(8192 / unit.length)) + ending;
        const big = unit.repeat(Math.ceil(65536 / unit.length)) + ending;
        // Linear: 8x the work, a few steps per character; quadratic: 64x.
        const [bigSteps, smallSteps] = [steps(big), steps(small)];
        assert.ok(
          bigSteps <= 8 * smallSteps + 100 && bigSteps <= 8 * big.length,
          `${JSON.stringify(unit)} repeated 8x longer took ${bigSteps} steps, ${smallSteps} before`,
        );
      }),
      { numRuns: 40 },
    );
  });
});

// ---- split independence of the other incremental readers ----

describe('incremental readers do not depend on the split', () => {
  it('ResponseHeadReader: same head (or same error) in any split', () => {
    const responseArb = fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      fc
        .array(fc.tuple(headerNameArb, headerValueArb), { maxLength: 6 })
        .map((fields) =>
          Buffer.from(
            `HTTP/1.1 101 Switching Protocols\r\n${fields.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\nrest`,
            'latin1',
          ),
        ),
    );
    const outcome = (chunks: Uint8Array[]) => {
      const reader = new ResponseHeadReader();
      try {
        for (let i = 0; i < chunks.length; i++) {
          const head = reader.push(Buffer.from(chunks[i]));
          if (head !== null) {
            const after = Buffer.concat([head.rest, ...chunks.slice(i + 1)]).toString('hex');
            return JSON.stringify([head.status, head.reason, head.headers.all('upgrade'), after]);
          }
        }
        return 'incomplete';
      } catch (error) {
        assert.ok(error instanceof HandshakeError, `threw ${String(error)}`);
        return `error ${error.message}`;
      }
    };
    fc.assert(
      fc.property(responseArb, cutsArb, (bytes, cuts) => {
        assert.equal(outcome(splitAt(bytes, cuts)), outcome([bytes]));
      }),
      params,
    );
  });

  it('Utf8Validator agrees with buffer.isUtf8 in any split', () => {
    const bytesArb = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.string({ unit: 'binary', maxLength: 32 }).map((s) => new Uint8Array(Buffer.from(s, 'utf8'))),
    );
    fc.assert(
      fc.property(bytesArb, cutsArb, (bytes, cuts) => {
        const validator = new Utf8Validator();
        let ok = true;
        for (const chunk of splitAt(bytes, cuts)) {
          ok = validator.write(Buffer.from(chunk));
          if (!ok) break;
        }
        assert.equal(ok && validator.complete, isUtf8(bytes));
      }),
      params,
    );
  });
});
