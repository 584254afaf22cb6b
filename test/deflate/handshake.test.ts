// Negotiation over real sockets: what a wsx server answers to raw offers (several in one header,
// over several header lines, invalid ones first, per-route settings), and which 101 responses
// make the wsx client fail its handshake. Then the first compressed frames over the agreed
// parameters, and RSV1 refused with 1002 where nothing was agreed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { constants, inflateRawSync } from 'node:zlib';
import { connect, createServer, HandshakeError, type Socket, type WebSocketServer } from '../../src/index.js';
import type { PerMessageDeflateOptions } from '../../src/protocol/extensions/negotiation.js';
import {
  deflateMessage,
  frame,
  Inbox,
  jsonText,
  Op,
  type RawReader,
  rawServer,
  rawUpgrade,
  TAIL,
  withTimeout,
} from './helpers.js';

const PMD = 'permessage-deflate';
/** What a wsx server adds unasked by default: it compresses each message on its own (one shared compressor). */
const SERVER_DEFAULT = `${PMD}; server_no_context_takeover`;

describe('wsx server: answers to raw offers', () => {
  let server: WebSocketServer;
  let base: string;

  before(async () => {
    server = createServer();
    const echo = {
      message(socket: Socket, data: Buffer, isBinary: boolean) {
        socket.send(data, { binary: isBinary });
      },
    };
    server.route('/default', echo);
    server.route('/off', { ...echo, perMessageDeflate: false });
    server.route('/limit-client', { ...echo, perMessageDeflate: { clientMaxWindowBits: 10 } });
    server.route('/reset', { ...echo, perMessageDeflate: { serverNoContextTakeover: true, threshold: 0 } });
    const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
    base = `ws://127.0.0.1:${port}`;
  });

  after(async () => {
    await server.close({ timeout: 500 });
  });

  const cases: Array<[string, string, string | string[] | null, string]> = [
    ['the browser offer', '/default', `${PMD}; client_max_window_bits`, SERVER_DEFAULT],
    ['no offer', '/default', null, ''],
    [
      'an invalid offer, then a valid one, in one header',
      '/default',
      `${PMD}; server_max_window_bits=7, ${PMD}; client_max_window_bits=10`,
      `${SERVER_DEFAULT}; client_max_window_bits=10`,
    ],
    [
      'an invalid offer, then a valid one, on two header lines',
      '/default',
      [`${PMD}; foo`, `${PMD}; server_no_context_takeover`],
      `${PMD}; server_no_context_takeover`,
    ],
    [
      'only invalid offers',
      '/default',
      [`${PMD}; server_max_window_bits=16`, `${PMD}; client_max_window_bits=08`],
      '',
    ],
    ['an unknown extension before', '/default', `x-webkit-deflate-frame, ${PMD}`, SERVER_DEFAULT],
    ['a route with permessage-deflate off', '/off', `${PMD}; client_max_window_bits`, ''],
    [
      'a route that must limit the client skips the offer without client_max_window_bits',
      '/limit-client',
      `${PMD}, ${PMD}; client_max_window_bits`,
      `${SERVER_DEFAULT}; client_max_window_bits=10`,
    ],
    ['a route that must limit the client, and no offer it can honour', '/limit-client', PMD, ''],
    ['a route that resets its context', '/reset', PMD, `${PMD}; server_no_context_takeover`],
  ];
  for (const [what, path, offer, expected] of cases) {
    it(`${what}: ${JSON.stringify(offer)} → ${JSON.stringify(expected)}`, async () => {
      const reader = await rawUpgrade(`${base}${path}`, offer);
      try {
        assert.match(reader.head!, /^HTTP\/1\.1 101/);
        assert.equal(reader.header('sec-websocket-extensions'), expected);
      } finally {
        reader.socket.destroy();
      }
    });
  }

  it('a compressed message on the agreed parameters is inflated and echoed compressed', async () => {
    const reader = await rawUpgrade(`${base}/default`, `${PMD}; client_max_window_bits=10`);
    try {
      const text = jsonText(5000);
      reader.socket.write(
        frame({ opcode: Op.Text, rsv: 4, payload: deflateMessage(Buffer.from(text), 10), masked: true }),
      );
      const [reply] = (await reader.frames(1)).filter((f) => f.opcode === Op.Text);
      assert.ok(reply.rsv1, 'echoed compressed (5000 B is over the 1024 B threshold)');
      const inflated = inflateRawSync(Buffer.concat([reply.payload, TAIL]), {
        finishFlush: constants.Z_SYNC_FLUSH,
      });
      assert.equal(inflated.toString(), text);
    } finally {
      reader.socket.destroy();
    }
  });

  it('small messages go back as stored blocks by default (threshold 1024), compressed with threshold 0; RSV1 on all', async () => {
    // Stored: the header of one 5-byte block, the bytes, and the header byte of the empty block the tail completes.
    const stored = Buffer.from([0x00, 0x05, 0x00, 0xfa, 0xff, ...Buffer.from('small'), 0x00]);
    for (const [path, compressed] of [
      ['/default', false],
      ['/reset', true],
    ] as const) {
      const reader = await rawUpgrade(`${base}${path}`, PMD);
      try {
        reader.socket.write(
          frame({ opcode: Op.Text, rsv: 4, payload: deflateMessage(Buffer.from('small')), masked: true }),
        );
        const [reply] = (await reader.frames(1)).filter((f) => f.opcode === Op.Text);
        assert.equal(reply.rsv1, true, path);
        assert.equal(reply.payload.equals(stored), !compressed, path);
        const inflated = inflateRawSync(Buffer.concat([reply.payload, TAIL]), {
          finishFlush: constants.Z_SYNC_FLUSH,
        });
        assert.equal(inflated.toString(), 'small', path);
      } finally {
        reader.socket.destroy();
      }
    }
  });

  it('compressed frames sent in the same write as the upgrade request are inflated', async () => {
    const text = jsonText(4000);
    const frames = Buffer.concat([
      frame({ opcode: Op.Text, rsv: 4, payload: deflateMessage(Buffer.from(text)), masked: true }),
      frame({ opcode: Op.Binary, rsv: 4, payload: Buffer.from([0x00]), masked: true }),
    ]);
    const reader = await rawUpgrade(`${base}/default`, `${PMD}; client_max_window_bits`, frames);
    try {
      assert.equal(reader.header('sec-websocket-extensions'), SERVER_DEFAULT);
      const data = (await reader.frames(2)).filter((f) => f.opcode === Op.Text || f.opcode === Op.Binary);
      const inflated = inflateRawSync(Buffer.concat([data[0].payload, TAIL]), {
        finishFlush: constants.Z_SYNC_FLUSH,
      });
      assert.equal(inflated.toString(), text);
      assert.equal(data[1].opcode, Op.Binary);
      assert.equal(data[1].rsv1, true);
      assert.deepEqual(
        [...data[1].payload],
        [0x00],
        'the empty message echoed (stored, under the threshold)',
      );
    } finally {
      reader.socket.destroy();
    }
  });

  it('RSV1 on a connection that did not agree to permessage-deflate → 1002', async () => {
    for (const [path, offer] of [
      ['/default', null],
      ['/off', PMD],
    ] as const) {
      const reader = await rawUpgrade(`${base}${path}`, offer);
      reader.socket.write(
        frame({ opcode: Op.Text, rsv: 4, payload: deflateMessage(Buffer.from('hi')), masked: true }),
      );
      assert.equal(await withTimeout(reader.closeCode(), 'the close frame'), 1002, path);
      reader.socket.destroy();
    }
  });

  it('RSV1 on a ping on a deflate connection → 1002', async () => {
    const reader = await rawUpgrade(`${base}/default`, PMD);
    reader.socket.write(frame({ opcode: Op.Ping, rsv: 4, masked: true }));
    assert.equal(await withTimeout(reader.closeCode(), 'the close frame'), 1002);
    reader.socket.destroy();
  });
});

describe('wsx client: the offer and the responses it fails on', () => {
  async function tryResponse(response: string | null, options?: boolean | PerMessageDeflateOptions) {
    const server = await rawServer(response);
    try {
      const socket = await withTimeout(connect(server.url, { perMessageDeflate: options }), 'connect');
      const extensions = socket.extensions;
      socket.close(1000);
      return { extensions, request: server.requests[0] };
    } finally {
      await server.close();
    }
  }

  function header(request: string): string {
    const match = /^sec-websocket-extensions:[ \t]*(.*)$/im.exec(request);
    return match === null ? '' : match[1].trim();
  }

  it('offers "permessage-deflate; client_max_window_bits" by default, nothing when off', async () => {
    assert.equal(header((await tryResponse(null)).request), `${PMD}; client_max_window_bits`);
    assert.equal(header((await tryResponse(null, false)).request), '');
    assert.equal(
      header(
        (
          await tryResponse(null, {
            serverNoContextTakeover: true,
            serverMaxWindowBits: 9,
            clientMaxWindowBits: 11,
          })
        ).request,
      ),
      `${PMD}; server_no_context_takeover; server_max_window_bits=9; client_max_window_bits=11`,
    );
  });

  for (const response of [
    PMD,
    `${PMD}; server_no_context_takeover; client_no_context_takeover`,
    `${PMD}; server_max_window_bits=8; client_max_window_bits=8`,
    `${PMD}; client_max_window_bits=15`,
  ]) {
    it(`accepts ${response}`, async () => {
      assert.equal((await tryResponse(response)).extensions, response);
    });
  }

  it('with no extension in the response, the socket has none', async () => {
    assert.equal((await tryResponse(null)).extensions, '');
  });

  const failing: Array<[string, string, (boolean | PerMessageDeflateOptions)?]> = [
    ['permessage-deflate it did not offer (perMessageDeflate: false)', PMD, false],
    ['an extension it did not offer', 'x-foo'],
    ['two permessage-deflate responses', `${PMD}, ${PMD}`],
    ['client_max_window_bits without a value', `${PMD}; client_max_window_bits`],
    [
      'client_max_window_bits above its offer',
      `${PMD}; client_max_window_bits=12`,
      { clientMaxWindowBits: 11 },
    ],
    [
      'server_max_window_bits above its offer',
      `${PMD}; server_max_window_bits=12`,
      { serverMaxWindowBits: 11 },
    ],
    ['no server_max_window_bits after asking for one', PMD, { serverMaxWindowBits: 11 }],
    ['server_max_window_bits=16', `${PMD}; server_max_window_bits=16`],
    ['server_max_window_bits=7', `${PMD}; server_max_window_bits=7`],
    ['client_max_window_bits=08', `${PMD}; client_max_window_bits=08`],
    ['an unknown parameter', `${PMD}; foo=1`],
    ['a duplicate parameter', `${PMD}; client_no_context_takeover; client_no_context_takeover`],
    ['a value on a parameter that takes none', `${PMD}; server_no_context_takeover=1`],
  ];
  for (const [what, response, options] of failing) {
    it(`fails the handshake on ${what}: ${response}`, async () => {
      await assert.rejects(tryResponse(response, options), HandshakeError);
    });
  }

  it('inflates compressed frames from the server on the agreed parameters', async () => {
    const text = jsonText(3000);
    const server = await rawServer(`${PMD}; server_max_window_bits=9`, (reader) => {
      reader.socket.write(frame({ opcode: Op.Text, rsv: 4, payload: deflateMessage(Buffer.from(text), 9) }));
    });
    try {
      const inbox = new Inbox<string>();
      await connect(server.url, { handlers: { message: (_socket, data) => inbox.push(data.toString()) } });
      assert.equal(await inbox.next('the message'), text);
    } finally {
      await server.close();
    }
  });

  it('inflates a compressed frame that arrives in the same TCP write as the 101', async () => {
    const text = jsonText(3000, 4);
    const server = await rawServer(
      `${PMD}; client_max_window_bits=12`,
      () => {},
      frame({ opcode: Op.Text, rsv: 4, payload: deflateMessage(Buffer.from(text)) }),
    );
    try {
      const inbox = new Inbox<string>();
      const socket = await connect(server.url, {
        handlers: { message: (_socket, data) => inbox.push(data.toString()) },
      });
      assert.equal(socket.extensions, `${PMD}; client_max_window_bits=12`);
      assert.equal(await inbox.next('the message'), text);
    } finally {
      await server.close();
    }
  });

  it('fails with 1002 on RSV1 when the server did not agree to permessage-deflate', async () => {
    let opened: (reader: RawReader) => void = () => {};
    const open = new Promise<RawReader>((resolve) => (opened = resolve));
    const server = await rawServer(null, (reader) => {
      reader.socket.write(frame({ opcode: Op.Text, rsv: 4, payload: deflateMessage(Buffer.from('hi')) }));
      opened(reader);
    });
    try {
      const errors: number[] = [];
      await connect(server.url, {
        handlers: {
          error: (_socket, error) => errors.push((error as { closeCode?: number }).closeCode ?? 0),
        },
      });
      const reader = await withTimeout(open, 'the connection');
      assert.equal(await withTimeout(reader.closeCode(), 'the close frame'), 1002);
      assert.deepEqual(errors, [1002]);
    } finally {
      await server.close();
    }
  });
});
