// wsx as the server, compression on, against `ws` clients configured case by case: the CLI
// (`wsx serve --echo`) echoes compressed messages of many sizes, whole and fragmented, with and
// without context takeover each way, with every window size the client can ask for (8 included).
// Every echo is checked byte for byte, the agreed parameters are read from the 101 response, and
// the bytes on the wire show that each direction really was compressed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer, type WebSocketServer } from '../../src/index.js';
import type { PerMessageDeflateOptions } from '../../src/protocol/extensions/negotiation.js';
import {
  type Child,
  jsonText,
  KiB,
  MiB,
  noise,
  paramList,
  startWsxServe,
  utf8Text,
  WsClient,
} from './helpers.js';

interface Case {
  serverNoContextTakeover?: boolean;
  clientNoContextTakeover?: boolean;
  serverMaxWindowBits?: number;
  clientMaxWindowBits?: number;
}

const ALL_SIZES = [0, 1, 125, 126, 1000, 65535, 65536, MiB, 4 * MiB];
const WINDOW_SIZES = [0, 1, 126, 1000, 65536, 256 * KiB];

/**
 * What wsx answers to the offer ws makes for `c` (ws offers client_max_window_bits bare unless
 * set). The server always declares server_no_context_takeover: by default it compresses with one
 * shared compressor.
 */
function expectedParams(c: Case): string[] {
  const params: string[] = ['server_no_context_takeover'];
  if (c.clientNoContextTakeover) params.push('client_no_context_takeover');
  if (c.serverMaxWindowBits !== undefined) params.push(`server_max_window_bits=${c.serverMaxWindowBits}`);
  if (c.clientMaxWindowBits !== undefined) params.push(`client_max_window_bits=${c.clientMaxWindowBits}`);
  return params.sort();
}

function describeCase(c: Case): string {
  const parts = Object.entries(c).map(([k, v]) => (v === true ? k : `${k}=${v}`));
  return parts.length === 0 ? 'defaults' : parts.join(' ');
}

let server: { child: Child; url: string };

before(async () => {
  server = await startWsxServe(['--max-payload', String(64 * MiB)]);
});

after(async () => {
  await server?.child.stop();
});

async function open(c: Case): Promise<WsClient> {
  const client = await WsClient.open(server.url, {
    perMessageDeflate: { ...c, threshold: 0 },
    maxPayload: 64 * MiB,
  });
  assert.equal(client.ws.extensions, 'permessage-deflate', 'ws agreed to permessage-deflate');
  assert.deepEqual(paramList(client.extensionsHeader), expectedParams(c), client.extensionsHeader);
  return client;
}

/**
 * Sends one message and checks the echo byte for byte. For compressible messages, checks the
 * wire: what ws sent was compressed, and what wsx sent back was compressed when wsx compresses
 * it (≥ 1024 bytes, its default threshold, and not an 8-bit window).
 */
async function echo(
  client: WsClient,
  data: Buffer,
  binary: boolean,
  options: { fragments?: readonly number[] | null; compressible?: boolean; serverCompresses?: boolean } = {},
): Promise<void> {
  const socket = client.socket!;
  const written = socket.bytesWritten;
  const read = socket.bytesRead;
  await client.send(data, binary, options.fragments ?? null);
  const reply = await client.inbox.next(`the echo of ${data.length} bytes`);
  const label = `${binary ? 'binary' : 'text'} ${data.length} B${options.fragments ? ` in fragments of ${options.fragments.join(',')}` : ''}`;
  assert.equal(reply.isBinary, binary, label);
  assert.ok(reply.data.equals(data), `${label}: the echo differs`);
  if (options.compressible && data.length >= 4 * KiB) {
    const sent = socket.bytesWritten - written;
    const received = socket.bytesRead - read;
    if (options.fragments === undefined || options.fragments === null) {
      assert.ok(sent < data.length / 2, `${label}: ws sent ${sent} bytes, so it compressed`);
    }
    if (options.serverCompresses ?? true) {
      assert.ok(received < data.length / 2, `${label}: wsx sent back ${received} bytes, so it compressed`);
    } else {
      assert.ok(received >= data.length, `${label}: wsx sent back ${received} bytes, uncompressed`);
    }
  }
}

describe('wsx serve, all sizes, with and without context takeover', () => {
  for (const c of [{}, { serverNoContextTakeover: true, clientNoContextTakeover: true }] satisfies Case[]) {
    it(describeCase(c), async () => {
      const client = await open(c);
      for (const size of ALL_SIZES) {
        await echo(client, Buffer.from(jsonText(size, size)), false, { compressible: true });
        await echo(client, noise(size), true);
      }
      // the same message twice: with takeover the second refers to the first
      const text = Buffer.from(jsonText(100 * KiB, 3));
      await echo(client, text, false, { compressible: true });
      await echo(client, text, false, { compressible: true });
      await echo(client, Buffer.from(utf8Text(70 * KiB)), false, { compressible: true });
      await client.close();
    });
  }
});

describe('wsx serve, context takeover one way only', () => {
  for (const c of [{ serverNoContextTakeover: true }, { clientNoContextTakeover: true }] satisfies Case[]) {
    it(describeCase(c), async () => {
      const client = await open(c);
      for (const size of [0, 1, 126, 1000, 65536, MiB]) {
        const text = Buffer.from(jsonText(size, 1));
        await echo(client, text, false, { compressible: true });
        await echo(client, text, true, { compressible: true });
      }
      await client.close();
    });
  }
});

describe('wsx serve, every window size', () => {
  for (let bits = 8; bits <= 15; bits++) {
    for (const c of [
      { serverMaxWindowBits: bits, clientMaxWindowBits: bits },
      {
        serverMaxWindowBits: bits,
        clientMaxWindowBits: bits,
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
      },
    ] satisfies Case[]) {
      it(describeCase(c), async () => {
        const client = await open(c);
        // 8 bits: wsx cannot compress within a 256-byte window with zlib, so it sends uncompressed
        const serverCompresses = bits > 8;
        for (const size of WINDOW_SIZES) {
          const text = Buffer.from(jsonText(size, bits));
          await echo(client, text, false, { compressible: true, serverCompresses });
          await echo(client, text, false, { compressible: true, serverCompresses }); // again, against the window
        }
        await echo(client, noise(65536), true, { serverCompresses });
        await client.close();
      });
    }
  }

  it('client_max_window_bits offered without a value, server_max_window_bits only', async () => {
    const client = await open({ serverMaxWindowBits: 10 });
    await echo(client, Buffer.from(jsonText(200 * KiB)), false, { compressible: true });
    await client.close();
  });
});

/** Sends these pieces as the fragments of one compressed text message, empty ones included. */
async function sendRaw(client: WsClient, pieces: Buffer[]): Promise<void> {
  await Promise.all(
    pieces.map(
      (piece, i) =>
        new Promise<void>((resolve, reject) =>
          client.ws.send(piece, { binary: false, compress: true, fin: i === pieces.length - 1 }, (error) =>
            error ? reject(error) : resolve(),
          ),
        ),
    ),
  );
}

describe('wsx serve, fragmented compressed messages', () => {
  const plans: Array<[number, number[]]> = [
    [126, [1]],
    [1000, [7]],
    [1000, [3, 100, 1]],
    [65536, [1000]],
    [65536, [16 * KiB, 1, 5]],
    [300 * KiB, [64 * KiB]],
    [MiB, [65536]],
    [4 * MiB, [MiB]],
  ];
  for (const c of [
    {},
    { clientNoContextTakeover: true, serverNoContextTakeover: true },
    { clientMaxWindowBits: 9 },
  ] satisfies Case[]) {
    it(describeCase(c), async () => {
      const client = await open(c);
      for (const [size, fragments] of plans) {
        await echo(client, Buffer.from(jsonText(size, size)), false, { fragments, compressible: true });
        await echo(client, noise(size), true, { fragments });
      }
      // an empty last fragment, and an empty first one
      const tail = Buffer.from(jsonText(5000, 2));
      await sendRaw(client, [tail, Buffer.alloc(0)]);
      assert.ok((await client.inbox.next('the echo')).data.equals(tail));
      await sendRaw(client, [Buffer.alloc(0), tail, Buffer.alloc(0), tail]);
      assert.ok((await client.inbox.next('the echo')).data.equals(Buffer.concat([tail, tail])));
      // multi-byte characters cut between fragments
      await echo(client, Buffer.from(utf8Text(20 * KiB)), false, { fragments: [5, 1000, 333] });
      await client.close();
    });
  }
});

describe('a wsx server configured per route (library), against ws clients with default offers', () => {
  let wsxServer: WebSocketServer;
  let base = '';
  const routes: Array<[string, PerMessageDeflateOptions, string[], boolean]> = [
    [
      '/w9',
      { serverMaxWindowBits: 9, clientMaxWindowBits: 9, threshold: 0 },
      ['client_max_window_bits=9', 'server_max_window_bits=9', 'server_no_context_takeover'],
      true,
    ],
    [
      '/reset',
      { serverNoContextTakeover: true, clientNoContextTakeover: true, threshold: 0 },
      ['client_no_context_takeover', 'server_no_context_takeover'],
      true,
    ],
    ['/small-memory', { memLevel: 1, level: 1, threshold: 0 }, ['server_no_context_takeover'], true],
    ['/stored', { level: 0, threshold: 0 }, ['server_no_context_takeover'], false],
    [
      '/w8',
      { serverMaxWindowBits: 8, threshold: 0 },
      ['server_max_window_bits=8', 'server_no_context_takeover'],
      false,
    ],
    // A compressor per socket, kept between messages: what the server does when asked to.
    ['/takeover', { serverNoContextTakeover: false, threshold: 0 }, [], true],
  ];

  before(async () => {
    wsxServer = createServer({ maxMessageSize: 64 * MiB });
    for (const [path, perMessageDeflate] of routes) {
      wsxServer.route(path, {
        perMessageDeflate,
        message: (socket, data, isBinary) => socket.send(data, { binary: isBinary }),
      });
    }
    const { port } = await wsxServer.listen({ port: 0, host: '127.0.0.1' });
    base = `ws://127.0.0.1:${port}`;
  });

  after(async () => {
    await wsxServer?.close({ timeout: 500 });
  });

  for (const [path, options, expected, shrinks] of routes) {
    it(`${path}: ${JSON.stringify(options)}`, async () => {
      const client = await WsClient.open(`${base}${path}`, {
        perMessageDeflate: { threshold: 0 },
        maxPayload: 64 * MiB,
      });
      assert.equal(client.ws.extensions, 'permessage-deflate');
      assert.deepEqual(paramList(client.extensionsHeader), expected, client.extensionsHeader);
      for (const size of [0, 1, 126, 1000, 65536, MiB]) {
        const text = Buffer.from(jsonText(size, size));
        // threshold 0: even the smallest echoes come back compressed (or stored, or plain for 8 bits)
        await echo(client, text, false, { compressible: true, serverCompresses: shrinks });
        await echo(client, text, true, { compressible: true, serverCompresses: shrinks });
        await echo(client, noise(Math.min(size, 65536)), true);
      }
      await client.close();
    });
  }
});
