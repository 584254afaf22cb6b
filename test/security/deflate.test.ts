// permessage-deflate (RFC 7692) under attack: decompression bombs (a small compressed message
// that inflates past maxMessageSize must fail with 1009 while inflating, in bounded memory, on
// the server and on the client), window-bits edge cases (8 bits, which zlib cannot compress
// with; out-of-range, malformed and duplicated parameters), and invalid compressed data.
//
// These run when src/protocol/extensions/permessage-deflate.ts exists (checked at load time);
// the module is loaded with a computed specifier so this file compiles without it. When the file
// exists they always run, under CI too.
import assert from 'node:assert/strict';
import { createServer as createNetServer, type Socket as NetSocket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { connect } from '../../src/index.js';
import { PerMessageDeflate } from '../../src/protocol/extensions/permessage-deflate.js';
import { memory } from './core.js';
import {
  acceptFor,
  clientFrame,
  type EchoMonitor,
  FrameCollector,
  growth,
  KiB,
  MiB,
  Op,
  rawUpgrade,
  recordFigures,
  requestHead,
  round,
  type ServerHandle,
  startEchoMonitor,
  startServer,
  toMiB,
  upgradeRequest,
  within,
} from './helpers.js';

/** Compresses with a sync flush and strips the 00 00 ff ff tail, as RFC 7692 §7.2.1 says. */
function compress(data: Buffer, windowBits = 15): Buffer {
  const out = deflateRawSync(data, { finishFlush: constants.Z_SYNC_FLUSH, windowBits });
  return out.subarray(0, out.length - 4);
}

const MAX_MESSAGE = 1 * MiB;
/** 64 MiB of zeros, compressed to about 64 KiB: a 1000:1 bomb. */
let bomb: Buffer;

const OFFER: readonly [string, string] = [
  'Sec-WebSocket-Extensions',
  'permessage-deflate; client_max_window_bits',
];

describe('decompression bombs against the server', () => {
  let server: ServerHandle;
  let monitor: EchoMonitor;

  before(async () => {
    bomb = compress(Buffer.alloc(64 * MiB));
    const options = { maxMessageSize: MAX_MESSAGE, perMessageDeflate: true };
    server = await startServer({ server: options });
    monitor = await startEchoMonitor(server.port);
  });
  after(async (t) => {
    const figures = await monitor.stop();
    recordFigures(t, 'deflate: legitimate client', { legit: figures });
    assert.ok(server.alive(), 'the server process survived');
    assert.ok(figures.received >= figures.sent - 1, `echoes continued: ${JSON.stringify(figures)}`);
    await server.stop();
  });

  async function deflateSocket(offer = OFFER[1]) {
    const upgraded = await rawUpgrade(server.port, '/echo', [['Sec-WebSocket-Extensions', offer]]);
    assert.match(
      upgraded.head,
      /\r\nSec-WebSocket-Extensions: permessage-deflate/i,
      'the server accepted the offer',
    );
    const collector = new FrameCollector(upgraded.socket, upgraded.rest);
    return { socket: upgraded.socket, collector };
  }

  it('accepts the offer and echoes a compressed message (the negotiation these tests rely on)', async () => {
    const { socket, collector } = await deflateSocket();
    socket.write(clientFrame(Op.Text, compress(Buffer.from('hello hello hello')), { rsv1: true }));
    await collector.until(() => collector.frames.length > 0, 3000, 'the echo');
    assert.equal(collector.frames[0].opcode, Op.Text);
    socket.destroy();
  });

  for (const [name, frames] of [
    ['one frame', () => [clientFrame(Op.Binary, bomb, { rsv1: true })]],
    [
      '64 KiB of 1 KiB fragments',
      () => {
        const parts: Buffer[] = [];
        for (let at = 0; at < bomb.length; at += KiB) {
          const end = Math.min(at + KiB, bomb.length);
          parts.push(
            clientFrame(at === 0 ? Op.Binary : Op.Continuation, bomb.subarray(at, end), {
              fin: end === bomb.length,
              rsv1: at === 0,
            }),
          );
        }
        return parts;
      },
    ],
  ] as const) {
    it(`a 64 MiB bomb in ${name} fails with 1009 while inflating, in bounded memory`, async (t) => {
      const before0 = await server.settledStats();
      server.resetEventLoopDelay();
      const { socket, collector } = await deflateSocket();
      const started = performance.now();
      socket.write(Buffer.concat(frames()));
      await collector.until(() => collector.closed, 5000, 'the server to close');
      const elapsed = performance.now() - started;
      const stats = await server.stats();
      recordFigures(t, `deflate bomb, ${name}`, {
        compressedKiB: round(bomb.length / KiB),
        ms: round(elapsed),
        serverCpuMs: round(stats.cpuMs - before0.cpuMs),
        ...growth(before0, stats),
      });
      assert.equal(collector.closeFrame()?.code, 1009);
      assert.ok(stats.rss - before0.rss < 64 * MiB, `RSS grew ${toMiB(stats.rss - before0.rss)} MiB`);
      assert.ok(stats.arrayBuffers - before0.arrayBuffers < 16 * MiB, 'no inflated data is kept');
      socket.destroy();
    });
  }

  it('a message that inflates to exactly maxMessageSize is accepted; one byte more is 1009', async () => {
    for (const [size, expected] of [
      [MAX_MESSAGE, 'message'],
      [MAX_MESSAGE + 1, 1009],
    ] as const) {
      const { socket, collector } = await deflateSocket();
      socket.write(clientFrame(Op.Binary, compress(Buffer.alloc(size, 0x61)), { rsv1: true }));
      await collector.until(() => collector.frames.length > 0 || collector.closed, 5000, 'an answer');
      if (expected === 'message') {
        assert.equal(collector.frames[0]?.opcode, Op.Binary, `${size} bytes echoed`);
      } else {
        await collector.until(() => collector.closed, 5000, 'the close');
        assert.equal(collector.closeFrame()?.code, 1009, `${size} bytes refused`);
      }
      socket.destroy();
    }
  });

  it('invalid compressed data fails with 1007, RSV1 on control and continuation frames with 1002', async () => {
    const cases: Array<[string, Buffer[], number]> = [
      [
        'garbage',
        [clientFrame(Op.Binary, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]), { rsv1: true })],
        1007,
      ],
      [
        'a reserved block type',
        [clientFrame(Op.Binary, Buffer.from([0x07, 0x00, 0x00]), { rsv1: true })],
        1007,
      ],
      // Compressed against a preset dictionary: refers to bytes before the stream's start.
      [
        'a distance too far back',
        [clientFrame(Op.Binary, Buffer.from('cac0210e00', 'hex'), { rsv1: true })],
        1007,
      ],
      ['RSV1 on a ping', [clientFrame(Op.Ping, 'x', { rsv1: true })], 1002],
      [
        'RSV1 on a continuation',
        [
          clientFrame(Op.Binary, compress(Buffer.from('ab')), { rsv1: true, fin: false }),
          clientFrame(Op.Continuation, 'x', { rsv1: true }),
        ],
        1002,
      ],
    ];
    for (const [name, frames, code] of cases) {
      const { socket, collector } = await deflateSocket();
      socket.write(Buffer.concat(frames));
      await collector.until(() => collector.closed, 5000, `the close for ${name}`);
      assert.equal(collector.closeFrame()?.code, code, name);
      socket.destroy();
    }
  });

  // RFC 7692 §7.2.3.4: a sender may end a message with a block whose BFINAL bit is set (what
  // zlib's Z_FINISH makes). The message after it starts a new DEFLATE stream and must decode.
  it('messages after one that ends with a BFINAL block still decode (none silently empty)', async () => {
    const { socket, collector } = await deflateSocket();
    const final = (text: string) => deflateRawSync(Buffer.from(text));
    socket.write(clientFrame(Op.Text, final('first'), { rsv1: true }));
    socket.write(clientFrame(Op.Text, compress(Buffer.from('second')), { rsv1: true }));
    socket.write(clientFrame(Op.Text, final('third'), { rsv1: true }));
    socket.write(clientFrame(Op.Text, 'fourth'));
    socket.write(clientFrame(Op.Text, final('fifth'), { rsv1: true }));
    await collector.until(() => collector.frames.length >= 5 || collector.closed, 3000, 'five echoes');
    // Echoes may come back compressed; compare what they decode to.
    const texts = collector.frames.map((f) =>
      f.rsv & 4
        ? inflateRawSync(Buffer.concat([f.payload, Buffer.from([0, 0, 0xff, 0xff])]), {
            finishFlush: constants.Z_SYNC_FLUSH,
          }).toString()
        : f.payload.toString(),
    );
    assert.deepEqual(texts, ['first', 'second', 'third', 'fourth', 'fifth']);
    socket.destroy();
  });

  it('window bits of 8 work both ways without crashing zlib', async () => {
    const { socket, collector } = await deflateSocket(
      'permessage-deflate; client_max_window_bits=8; server_max_window_bits=8',
    );
    // zlib cannot compress with an 8-bit window; a window of 9 is what a zlib client sends.
    const text = Buffer.from('abcdefgh'.repeat(512));
    socket.write(clientFrame(Op.Text, compress(text, 9), { rsv1: true }));
    socket.write(clientFrame(Op.Text, text));
    await collector.until(() => collector.frames.length >= 2, 3000, 'two echoes');
    for (const frame of collector.frames.slice(0, 2)) {
      assert.equal(frame.opcode, Op.Text);
      // The server may not compress with 8 bits, so its echoes go uncompressed.
      assert.ok(frame.rsv === 0 || frame.rsv === 4);
    }
    socket.destroy();
  });

  it('zlib contexts: what one compressed message each costs on 200 connections', async (t) => {
    const count = 200;
    const before0 = await server.settledStats();
    server.resetEventLoopDelay();
    const message = compress(Buffer.alloc(2 * KiB, 0x61));
    const sockets: NetSocket[] = [];
    const collectors: FrameCollector[] = [];
    for (let i = 0; i < count; i += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, () => deflateSocket()));
      for (const { socket, collector } of batch) {
        // 2 KiB in, compressed: the server inflates it and compresses its 2 KiB echo.
        socket.write(clientFrame(Op.Text, message, { rsv1: true }));
        sockets.push(socket);
        collectors.push(collector);
      }
    }
    for (const collector of collectors)
      await collector.until(() => collector.frames.length > 0, 5000, 'an echo');
    const stats = await server.settledStats();
    const perConnection = (stats.rss - before0.rss) / count;
    recordFigures(t, 'deflate: zlib contexts (200 connections, one 2 KiB message each way)', {
      rssPerConnectionKiB: round(perConnection / KiB),
      externalPerConnectionKiB: round((stats.external - before0.external) / count / KiB),
      ...growth(before0, stats),
    });
    // Each socket keeps an inflater (~2^15 + 7 KiB) and a compressor (~256 KiB at 15 bits and
    // memLevel 8) for context takeover, once it has used them.
    assert.ok(stats.rss - before0.rss < 200 * MiB, 'RSS growth is bounded');
    for (const socket of sockets) socket.destroy();
  });

  it('declines malformed offers (or refuses the request) instead of failing later', async () => {
    const offers = [
      'permessage-deflate; client_max_window_bits=7',
      'permessage-deflate; client_max_window_bits=16',
      'permessage-deflate; client_max_window_bits=08',
      'permessage-deflate; client_max_window_bits=abc',
      'permessage-deflate; client_max_window_bits="1"',
      'permessage-deflate; server_max_window_bits',
      'permessage-deflate; server_max_window_bits=7',
      'permessage-deflate; server_no_context_takeover=1',
      'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
      'permessage-deflate; client_max_window_bits; client_max_window_bits',
      'permessage-deflate; __proto__',
      'permessage-deflate; constructor=1; hasOwnProperty',
      `permessage-deflate; client_max_window_bits=${'9'.repeat(5000)}`,
    ];
    for (const offer of offers) {
      const result = await requestHead(
        server.port,
        upgradeRequest('/echo', [['Sec-WebSocket-Extensions', offer]]),
      );
      if (result.status === 101) {
        assert.doesNotMatch(result.head, /permessage-deflate/i, `${offer}: declined`);
      } else {
        assert.equal(result.status, 400, `${offer}: answered ${result.status}`);
      }
    }
    // A malformed offer followed by a valid one: the valid one is taken.
    const result = await requestHead(
      server.port,
      upgradeRequest('/echo', [['Sec-WebSocket-Extensions', 'permessage-deflate; x=1, permessage-deflate']]),
    );
    assert.equal(result.status, 101);
    assert.match(result.head, /permessage-deflate/i);
  });
});

describe('decompression bombs against the client', () => {
  let port = 0;
  const sockets = new Set<NetSocket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    let text = '';
    socket.on('data', function onData(chunk: Buffer) {
      text += chunk.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      const key = /sec-websocket-key: *([^\r]+)/i.exec(text)?.[1] ?? '';
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${acceptFor(key.trim())}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n`,
      );
      socket.write(clientFrame(Op.Binary, bomb, { rsv1: true, mask: null }));
    });
  });

  before(async () => {
    bomb ??= compress(Buffer.alloc(64 * MiB));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });

  it('a 64 MiB bomb from the server fails the client with 1009, in bounded memory', async (t) => {
    const before0 = memory();
    let messages = 0;
    const closed = new Promise<number>((resolve) => {
      connect(`ws://127.0.0.1:${port}/`, {
        maxMessageSize: MAX_MESSAGE,
        handlers: {
          message() {
            messages++;
          },
          close(_socket, code) {
            resolve(code);
          },
        },
      }).catch(() => resolve(-1));
    });
    const code = await within(5000, 'the client to close', closed);
    const after0 = memory();
    recordFigures(t, 'deflate bomb against the client', {
      heapGrowthMiB: toMiB(after0.heapUsed - before0.heapUsed),
      arrayBuffersGrowthMiB: toMiB(after0.arrayBuffers - before0.arrayBuffers),
    });
    assert.equal(code, 1009);
    assert.equal(messages, 0);
    assert.ok(after0.arrayBuffers - before0.arrayBuffers < 16 * MiB, 'no inflated data is kept');
  });
});

describe('the permessage-deflate codec directly', () => {
  it('stops inflating a bomb at maxMessageSize, however it is split', async () => {
    bomb ??= compress(Buffer.alloc(64 * MiB));
    const params = {
      localNoContextTakeover: false,
      remoteNoContextTakeover: false,
      localMaxWindowBits: 15,
      remoteMaxWindowBits: 15,
      memLevel: 8,
      level: 6,
      threshold: 1024,
    };
    for (const pieceSize of [bomb.length, 64 * KiB, 1000, 7]) {
      const codec = new PerMessageDeflate(params, MAX_MESSAGE);
      let produced = 0;
      let error: unknown = null;
      try {
        for (let at = 0; at < bomb.length; at += pieceSize) {
          const end = Math.min(at + pieceSize, bomb.length);
          codec.decode(bomb.subarray(at, end), end === bomb.length, {
            appendDecoded: (decoded) => {
              produced += decoded.length;
            },
          });
        }
      } catch (caught) {
        error = caught;
      } finally {
        codec.release();
      }
      assert.equal((error as { closeCode?: number } | null)?.closeCode, 1009, `pieces of ${pieceSize}`);
      assert.ok(produced <= MAX_MESSAGE + 64 * KiB, `pieces of ${pieceSize}: ${produced} bytes produced`);
    }
  });
});
