// Fuzz targets: the frame parser and connection in both roles (with and without
// permessage-deflate), the server's handshake validation (and the round trip through the
// client's response check), the client's response-head reader, and the extension header parser.
// Each returns the problems its oracles found; see oracles.ts for what a connection must do.
import { constants, deflateRawSync } from 'node:zlib';
import type { Connection } from '../../src/protocol/connection.js';
import { HandshakeError } from '../../src/protocol/errors.js';
import * as negotiation from '../../src/protocol/extensions/negotiation.js';
import * as permessageDeflate from '../../src/protocol/extensions/permessage-deflate.js';
import { acceptKey, isValidKey } from '../../src/protocol/handshake/accept.js';
import { validateUpgradeResponse } from '../../src/protocol/handshake/client.js';
import {
  type ExtensionOffer,
  formatExtensions,
  HeaderMap,
  HeaderSyntaxError,
  isToken,
  parseExtensions,
  parseTokenList,
} from '../../src/protocol/handshake/headers.js';
import { ResponseHeadReader } from '../../src/protocol/handshake/http-head.js';
import { buildAcceptResponse, validateUpgradeRequest } from '../../src/protocol/handshake/server.js';
import type { Target } from './fuzzer.js';
import { Random, seedOf } from './fuzzer.js';
import { checkStream, encodeSpec, type FrameSpec, type Setup } from './oracles.js';

const MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

// ---- the permessage-deflate modules the negotiation and deflate targets take ----

type Negotiation = typeof negotiation;
type DeflateModule = typeof permessageDeflate;

export interface Optional {
  negotiation: Negotiation | null;
  deflate: DeflateModule | null;
}

export async function loadOptional(): Promise<Optional> {
  return { negotiation, deflate: permessageDeflate };
}

// ---- frames ----

function frame(opcode: number, payload: string | Buffer, options: Partial<FrameSpec> = {}): Buffer {
  return encodeSpec({
    opcode,
    fin: true,
    rsv: 0,
    payload: typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload,
    mask: MASK,
    ...options,
  });
}

function close(code: number, reason = ''): Buffer {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
  payload.writeUInt16BE(code);
  payload.write(reason, 2);
  return payload;
}

function frameSeeds(mask: Buffer | null): Buffer[] {
  const m = { mask };
  const euro = Buffer.from('€uro', 'utf8');
  return [
    frame(1, 'hello', m),
    frame(2, Buffer.from([0, 1, 2, 255]), m),
    frame(1, '', m),
    frame(9, 'ping', m),
    frame(10, 'pong', m),
    frame(8, close(1000, 'bye'), m),
    frame(8, Buffer.alloc(0), m),
    Buffer.concat([frame(1, 'hel', { ...m, fin: false }), frame(9, 'p', m), frame(0, 'lo', m)]),
    Buffer.concat([frame(1, euro.subarray(0, 2), { ...m, fin: false }), frame(0, euro.subarray(2), m)]),
    frame(2, Buffer.alloc(200, 0x61), m),
    frame(2, Buffer.alloc(10, 0x62), { ...m, lengthForm: 16 }),
    frame(2, Buffer.alloc(10, 0x63), { ...m, lengthForm: 64 }),
    Buffer.concat([frame(1, 'a', m), frame(1, 'b', m), frame(8, close(1001), m), frame(1, 'after', m)]),
    frame(1, Buffer.from([0xc3, 0x28]), m),
    frame(8, close(1005), m),
    frame(8, Buffer.concat([close(1000), Buffer.from([0xff])]), m),
    frame(3, 'reserved', m),
    frame(1, 'rsv', { ...m, rsv: 4 }),
    frame(9, Buffer.alloc(126), m),
    frame(9, 'frag', { ...m, fin: false }),
    frame(0, 'orphan', m),
    frame(1, 'x', { mask: mask === null ? MASK : null }),
    Buffer.concat(Array.from({ length: 10 }, (_, i) => frame(i === 0 ? 2 : 0, 'f', { ...m, fin: i === 9 }))),
  ];
}

const FRAME_DICTIONARY = [
  [0x81, 0x80],
  [0x82, 0xfe],
  [0x82, 0xff, 0, 0, 0, 0],
  [0x88, 0x82, 0x03, 0xe8],
  [0x89, 0x80],
  [0x8a, 0x00],
  [0x00, 0x80],
  [0x01, 0x80],
  [0xc1, 0x80],
  [0xc0, 0x80],
  [0x03, 0xe8],
  [0x03, 0xed],
  [0xc3, 0x28],
  [0xf0, 0x9f, 0x98, 0x80],
  [0xed, 0xa0, 0x80],
  [0x00, 0x00, 0xff, 0xff],
  [...MASK],
].map((bytes) => Buffer.from(bytes));

/** Read boundaries for an input, derived from its bytes (so a saved input repeats exactly). */
function cutsFor(input: Buffer): number[] {
  const random = new Random(seedOf(input));
  const count = 1 + random.below(8);
  return Array.from({ length: count }, () => random.below(input.length + 1));
}

const SMALL_LIMITS = { maxMessageSize: 1024, maxFrameSize: 512, maxFragments: 8 };

function framesTarget(role: 'server' | 'client'): Target {
  return {
    name: `frames-${role}`,
    maxLength: 16 * 1024,
    dictionary: FRAME_DICTIONARY,
    seeds: () => frameSeeds(role === 'server' ? MASK : null),
    run(input) {
      const options = seedOf(input) & 1 ? SMALL_LIMITS : {};
      return checkStream(role, input, cutsFor(input), options);
    },
  };
}

function compress(data: Buffer, finish = false): Buffer {
  if (finish) return deflateRawSync(data);
  const out = deflateRawSync(data, { finishFlush: constants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}

function deflateTarget(module: DeflateModule): Target {
  const params = (noContext: boolean) => ({
    localNoContextTakeover: noContext,
    remoteNoContextTakeover: noContext,
    localMaxWindowBits: 15,
    remoteMaxWindowBits: 15,
    memLevel: 8,
    level: 6,
    threshold: 1024,
  });
  const rsv = { rsv: 4, mask: MASK };
  return {
    name: 'frames-deflate',
    maxLength: 16 * 1024,
    dictionary: FRAME_DICTIONARY,
    seeds: () => [
      frame(1, compress(Buffer.from('hello hello hello')), rsv),
      frame(2, compress(Buffer.alloc(64 * 1024)), rsv),
      frame(1, compress(Buffer.from('final block')), rsv),
      Buffer.concat([
        frame(1, compress(Buffer.from('one')), rsv),
        frame(1, compress(Buffer.from('two')), rsv),
      ]),
      Buffer.concat([
        frame(1, compress(Buffer.from('frag')).subarray(0, 3), { ...rsv, fin: false }),
        frame(0, compress(Buffer.from('frag')).subarray(3), { mask: MASK }),
      ]),
      Buffer.concat([
        frame(1, compress(Buffer.from('x'), true), rsv),
        frame(1, compress(Buffer.from('y')), rsv),
      ]),
      frame(1, 'plain', { mask: MASK }),
      frame(2, Buffer.from([0x00]), rsv),
    ],
    run(input) {
      const seed = seedOf(input);
      const options = seed & 1 ? SMALL_LIMITS : { maxMessageSize: 64 * 1024 };
      const setup: Setup = (connection: Connection) => {
        const codec = new module.PerMessageDeflate(params((seed & 2) !== 0), options.maxMessageSize);
        connection.useExtension(codec);
        return () => codec.release();
      };
      return checkStream('server', input, cutsFor(input), options, setup, sameInflateFailure);
    },
  };
}

const INFLATE_FAILURES = /^failed (WSX_INVALID_COMPRESSED_DATA|WSX_MESSAGE_TOO_BIG|WSX_INVALID_UTF8) /;

/**
 * zlib reports corrupt data for a whole read at once, without the output it produced before
 * the corruption; inflated in smaller reads, that output is checked first and may fail the
 * message as too big or as invalid UTF-8 instead. Known and accepted: which of these three
 * failures a message that has several of them gets depends on the reads. Everything else must
 * be the same.
 */
function sameInflateFailure(summary: readonly string[]): string[] {
  let last = -1;
  for (let i = summary.length - 1; i >= 0 && last === -1; i--) if (summary[i].startsWith('failed ')) last = i;
  if (last === -1 || !INFLATE_FAILURES.test(summary[last])) return [...summary];
  const out = [...summary];
  out[last] = 'failed (inflating)';
  if (last > 0 && out[last - 1].startsWith('frame 108 ')) out[last - 1] = 'frame 108 (close)';
  return out;
}

// ---- handshake: the server's validation of requests ----

const TEXT_DICTIONARY = [
  'GET ',
  ' HTTP/1.1',
  'HTTP/1.0',
  '\r\n',
  '\r\n\r\n',
  ': ',
  ':',
  ',',
  ', ',
  ';',
  '=',
  '"',
  '\\',
  ' ',
  '\t',
  'Upgrade',
  'websocket',
  'Connection',
  'keep-alive, Upgrade',
  'Sec-WebSocket-Key',
  KEY,
  'Sec-WebSocket-Version',
  '13',
  'Sec-WebSocket-Protocol',
  'Sec-WebSocket-Extensions',
  'Sec-WebSocket-Accept',
  'permessage-deflate',
  'client_max_window_bits',
  'server_max_window_bits',
  'server_no_context_takeover',
  'client_no_context_takeover',
  '=15',
  '=8',
  '=08',
  '="9"',
  'Host: a',
  'Origin: http://a',
  '__proto__',
  'constructor',
  '\u00ff',
  '\u0000',
  'HTTP/1.1 101 Switching Protocols',
  acceptKey(KEY),
].map((text) => Buffer.from(text, 'latin1'));

function request(lines: string[]): Buffer {
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

const VALID_REQUEST_LINES = [
  'GET /chat HTTP/1.1',
  'Host: example.com',
  'Upgrade: websocket',
  'Connection: Upgrade',
  `Sec-WebSocket-Key: ${KEY}`,
  'Sec-WebSocket-Version: 13',
];

/** Splits a head the way an HTTP parser would: request line, then `name: value` fields (OWS trimmed). */
function parseRequest(input: Buffer): { method: string; httpVersion: string; headers: HeaderMap } {
  const text = input.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const lines = (end === -1 ? text : text.slice(0, end)).split('\r\n');
  const [method = '', , version = ''] = lines[0].split(' ');
  const headers = new HeaderMap();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers.add(line.slice(0, colon), line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, ''));
  }
  return { method, httpVersion: version.startsWith('HTTP/') ? version.slice(5) : version, headers };
}

function describe(error: unknown): string {
  return error instanceof Error
    ? `${error.constructor.name}: ${error.stack ?? error.message}`
    : String(error);
}

function requestTarget(optional: Optional): Target {
  return {
    name: 'handshake-request',
    maxLength: 8 * 1024,
    dictionary: TEXT_DICTIONARY,
    seeds: () => [
      request(VALID_REQUEST_LINES),
      request([...VALID_REQUEST_LINES, 'Sec-WebSocket-Protocol: chat, superchat']),
      request([
        ...VALID_REQUEST_LINES,
        'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits',
      ]),
      request([
        ...VALID_REQUEST_LINES,
        'Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10; client_no_context_takeover, x-other; a="b"',
      ]),
      request([...VALID_REQUEST_LINES, 'Origin: https://example.com', 'Connection: keep-alive']),
      request(['POST /chat HTTP/1.1', ...VALID_REQUEST_LINES.slice(1)]),
      request(['GET /chat HTTP/1.0', ...VALID_REQUEST_LINES.slice(1)]),
      request([...VALID_REQUEST_LINES.slice(0, 5), 'Sec-WebSocket-Version: 8']),
    ],
    run(input) {
      const head = parseRequest(input);
      let offer: ReturnType<typeof validateUpgradeRequest>;
      try {
        offer = validateUpgradeRequest(head);
      } catch (error) {
        if (!(error instanceof HandshakeError)) return [`validateUpgradeRequest threw ${describe(error)}`];
        if (![400, 405, 426].includes(error.status))
          return [`validateUpgradeRequest answered status ${error.status}`];
        return [];
      }
      const problems: string[] = [];
      if (!isValidKey(offer.key)) problems.push('accepted an invalid key');
      for (const protocol of offer.protocols)
        if (!isToken(protocol)) problems.push(`accepted protocol ${protocol}`);
      let extensions: ExtensionOffer[] = [];
      if (optional.negotiation !== null) {
        try {
          const accepted = optional.negotiation.acceptOffer(offer.extensions, {});
          if (accepted !== null) extensions = [accepted.response];
        } catch (error) {
          problems.push(`acceptOffer threw ${describe(error)}`);
        }
      }
      // Whatever the server accepts, its answer must satisfy the client's checks.
      try {
        const response = buildAcceptResponse({ key: offer.key, protocol: offer.protocols[0], extensions });
        const parsed = new ResponseHeadReader().push(Buffer.from(response, 'latin1'));
        if (parsed === null) problems.push('the 101 response is incomplete');
        else {
          const result = validateUpgradeResponse(parsed, offer.key, offer.protocols, ['permessage-deflate']);
          if (optional.negotiation !== null && result.extensions.length > 0) {
            optional.negotiation.acceptResponse(result.extensions, {}, 101);
          }
        }
      } catch (error) {
        problems.push(`the server's own 101 fails the client's checks: ${describe(error)}`);
      }
      return problems;
    },
  };
}

// ---- handshake: the client's reading of responses ----

function response(lines: string[], rest = ''): Buffer {
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${rest}`, 'latin1');
}

const VALID_RESPONSE_LINES = [
  'HTTP/1.1 101 Switching Protocols',
  'Upgrade: websocket',
  'Connection: Upgrade',
  `Sec-WebSocket-Accept: ${acceptKey(KEY)}`,
];

/** A head, and the bytes after it: the rest of its read plus every later read. */
type ReadOutcome = { head: ReturnType<ResponseHeadReader['push']>; after: Buffer } | { error: string };

function readResponse(chunks: Buffer[]): ReadOutcome {
  const reader = new ResponseHeadReader();
  try {
    for (let i = 0; i < chunks.length; i++) {
      const head = reader.push(Buffer.from(chunks[i]));
      if (head !== null) return { head, after: Buffer.concat([head.rest, ...chunks.slice(i + 1)]) };
    }
    return { head: null, after: Buffer.alloc(0) };
  } catch (error) {
    if (error instanceof HandshakeError) return { error: `HandshakeError ${error.status} ${error.message}` };
    return { error: `unexpected ${describe(error)}` };
  }
}

function outcomeKey(outcome: ReadOutcome): string {
  if ('error' in outcome) return outcome.error;
  const head = outcome.head;
  if (head === null) return 'incomplete';
  const fields = [
    'upgrade',
    'connection',
    'sec-websocket-accept',
    'sec-websocket-protocol',
    'sec-websocket-extensions',
  ]
    .map((name) => `${name}=${JSON.stringify(head.headers.all(name))}`)
    .join(' ');
  return `${head.httpVersion} ${head.status} ${JSON.stringify(head.reason)} ${fields} after=${outcome.after.toString('hex')}`;
}

function responseTarget(optional: Optional): Target {
  return {
    name: 'handshake-response',
    maxLength: 8 * 1024,
    dictionary: TEXT_DICTIONARY,
    seeds: () => [
      response(VALID_RESPONSE_LINES),
      response([...VALID_RESPONSE_LINES, 'Sec-WebSocket-Protocol: chat'], '\x81\x02hi'),
      response([
        ...VALID_RESPONSE_LINES,
        'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10',
      ]),
      response([
        ...VALID_RESPONSE_LINES,
        'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover',
      ]),
      response(['HTTP/1.1 302 Found', 'Location: ws://elsewhere/']),
      response(['HTTP/1.1 401 Unauthorized', 'Content-Length: 5'], 'nope!'),
      response(['HTTP/1.0 101 OK', ...VALID_RESPONSE_LINES.slice(1)]),
    ],
    run(input) {
      const problems: string[] = [];
      const whole = readResponse([input]);
      const cuts = cutsFor(input).sort((a, b) => a - b);
      const chunks: Buffer[] = [];
      let from = 0;
      for (const cut of cuts) {
        chunks.push(input.subarray(from, cut));
        from = cut;
      }
      chunks.push(input.subarray(from));
      const split = readResponse(chunks);
      if (outcomeKey(whole) !== outcomeKey(split)) {
        problems.push(
          `the split changes the outcome: ${outcomeKey(whole).slice(0, 100)} vs ${outcomeKey(split).slice(0, 100)}`,
        );
      }
      if ('error' in whole) {
        if (whole.error.startsWith('unexpected')) problems.push(`ResponseHeadReader threw ${whole.error}`);
        return problems;
      }
      if (whole.head === null) return problems;
      try {
        const result = validateUpgradeResponse(
          whole.head,
          KEY,
          ['chat', 'superchat'],
          ['permessage-deflate'],
        );
        if (optional.negotiation !== null) {
          const params = optional.negotiation.acceptResponse(result.extensions, {}, whole.head.status);
          if (params !== null) {
            for (const name of ['localMaxWindowBits', 'remoteMaxWindowBits'] as const) {
              const bits = params[name];
              if (!(bits >= 8 && bits <= 15)) problems.push(`accepted ${name} ${bits}`);
            }
          }
        }
      } catch (error) {
        if (!(error instanceof HandshakeError)) problems.push(`response validation threw ${describe(error)}`);
      }
      return problems;
    },
  };
}

// ---- Sec-WebSocket-Extensions and token lists ----

function extensionsTarget(optional: Optional): Target {
  const offers = [
    'permessage-deflate',
    'permessage-deflate; client_max_window_bits',
    'permessage-deflate; client_max_window_bits=10; server_max_window_bits=12, permessage-deflate',
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
    'x-webkit-deflate-frame, foo; bar="baz"; qux',
    'a; b="c\\"d"',
    ', , a ,, b;c ; d = e',
  ];
  return {
    name: 'extensions-header',
    maxLength: 4 * 1024,
    dictionary: TEXT_DICTIONARY,
    seeds: () => offers.map((text) => Buffer.from(text, 'latin1')),
    run(input) {
      const value = input.toString('latin1');
      const problems: string[] = [];
      try {
        parseTokenList(value);
      } catch (error) {
        if (!(error instanceof HeaderSyntaxError)) problems.push(`parseTokenList threw ${describe(error)}`);
      }
      let parsed: ExtensionOffer[];
      try {
        parsed = parseExtensions(value);
      } catch (error) {
        if (!(error instanceof HeaderSyntaxError)) problems.push(`parseExtensions threw ${describe(error)}`);
        return problems;
      }
      const again = parseExtensions(formatExtensions(parsed));
      if (JSON.stringify(again) !== JSON.stringify(parsed))
        problems.push('format then parse changes the extensions');
      if (optional.negotiation !== null) {
        for (const options of [
          {},
          { serverMaxWindowBits: 10, clientMaxWindowBits: 9 },
          { serverNoContextTakeover: true },
        ]) {
          try {
            const accepted = optional.negotiation.acceptOffer(parsed, options);
            if (accepted !== null) parseExtensions(formatExtensions([accepted.response]));
          } catch (error) {
            problems.push(`acceptOffer threw ${describe(error)}`);
          }
        }
      }
      return problems;
    },
  };
}

export function allTargets(optional: Optional): Target[] {
  const targets = [
    framesTarget('server'),
    framesTarget('client'),
    requestTarget(optional),
    responseTarget(optional),
    extensionsTarget(optional),
  ];
  if (optional.deflate !== null) targets.splice(2, 0, deflateTarget(optional.deflate));
  return targets;
}
