// wsx as the client, compression on, against `ws` servers configured case by case: the library
// (`connect(url, { perMessageDeflate, handlers })`) sends compressed messages of many sizes that a
// ws server echoes back compressed (whole or fragmented), and the CLI (`wsx connect URL --echo`)
// echoes what a ws server sends it. Each case checks every byte, the agreed parameters (the 101
// response ws sent, and the wsx socket's `extensions`), and that the wire carried compressed data.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo, Socket as NetSocket } from 'node:net';
import { describe, it } from 'node:test';
import {
  WebSocketServer,
  type PerMessageDeflateOptions as WsDeflateOptions,
  type WebSocket as WsSocket,
} from 'ws';
import { connect, type Socket, WebSocket as WhatwgWebSocket } from '../../src/index.js';
import type { PerMessageDeflateOptions } from '../../src/protocol/extensions/negotiation.js';
import {
  Inbox,
  jsonText,
  KiB,
  type Message,
  MiB,
  noise,
  paramList,
  rawToBuffer,
  split,
  utf8Text,
  withTimeout,
  wsx,
} from './helpers.js';

interface ServerCase {
  /** ws server settings (`threshold: 0` is added). */
  ws: WsDeflateOptions;
  /** wsx client settings (`threshold: 0` is added for the library client). */
  wsx?: PerMessageDeflateOptions;
  /** The parameters the 101 response should carry, sorted. */
  expect: string[];
  /** ws echoes in fragments of this size (compressed, RSV1 on the first). */
  fragment?: number;
}

interface EchoServer {
  url: string;
  /** Sec-WebSocket-Extensions of the 101 response, per connection. */
  responses: string[];
  /** The TCP sockets of the connections, for byte counts. */
  sockets: NetSocket[];
  close(): Promise<void>;
}

/** A ws server that echoes every message compressed, in fragments when `fragment` is set. */
async function wsEchoServer(c: ServerCase): Promise<EchoServer> {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    maxPayload: 64 * MiB,
    perMessageDeflate: { ...c.ws, threshold: 0 },
  });
  const responses: string[] = [];
  const sockets: NetSocket[] = [];
  wss.on('headers', (headers: string[]) => {
    const line = headers.find((h) => /^sec-websocket-extensions:/i.test(h));
    responses.push(line === undefined ? '' : line.slice(line.indexOf(':') + 1).trim());
  });
  wss.on('connection', (ws, request: IncomingMessage) => {
    sockets.push(request.socket as NetSocket);
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      const bytes = rawToBuffer(data);
      const pieces = c.fragment === undefined ? [bytes] : split(bytes, [c.fragment]);
      pieces.forEach((piece, i) => {
        ws.send(piece, { binary: isBinary, compress: true, fin: i === pieces.length - 1 });
      });
    });
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/`,
    responses,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}

function describeCase(c: ServerCase): string {
  const show = (o: object) =>
    Object.entries(o)
      .map(([k, v]) => (v === true ? k : `${k}=${v}`))
      .join(' ') || 'defaults';
  return `ws server: ${show(c.ws)}; wsx client: ${show(c.wsx ?? {})}${c.fragment ? `; echo in ${c.fragment}-byte fragments` : ''}`;
}

const ALL_SIZES = [0, 1, 125, 126, 1000, 65535, 65536, MiB, 4 * MiB];
const SOME_SIZES = [0, 1, 126, 1000, 65536, 256 * KiB];

const CASES: ServerCase[] = [
  { ws: {}, expect: [] },
  {
    ws: { serverNoContextTakeover: true, clientNoContextTakeover: true },
    expect: ['client_no_context_takeover', 'server_no_context_takeover'],
  },
  { ws: { serverNoContextTakeover: true }, expect: ['server_no_context_takeover'] },
  { ws: { clientNoContextTakeover: true }, expect: ['client_no_context_takeover'] },
  // the wsx client asks, ws agrees
  {
    ws: {},
    wsx: { serverNoContextTakeover: true, clientNoContextTakeover: true },
    expect: ['client_no_context_takeover', 'server_no_context_takeover'],
  },
];
for (let bits = 8; bits <= 15; bits++) {
  CASES.push({
    ws: { serverMaxWindowBits: bits, clientMaxWindowBits: bits },
    expect: [`client_max_window_bits=${bits}`, `server_max_window_bits=${bits}`],
  });
}
for (const bits of [8, 9, 12]) {
  CASES.push({
    ws: {},
    wsx: { serverMaxWindowBits: bits, clientMaxWindowBits: bits },
    expect: [`client_max_window_bits=${bits}`, `server_max_window_bits=${bits}`],
  });
}
CASES.push({
  ws: {
    serverMaxWindowBits: 10,
    clientMaxWindowBits: 11,
    serverNoContextTakeover: true,
    clientNoContextTakeover: true,
  },
  expect: [
    'client_max_window_bits=11',
    'client_no_context_takeover',
    'server_max_window_bits=10',
    'server_no_context_takeover',
  ],
});
const FRAGMENTED: ServerCase[] = [
  { ws: {}, expect: [], fragment: 1 },
  { ws: {}, expect: [], fragment: 1000 },
  { ws: { serverNoContextTakeover: true }, expect: ['server_no_context_takeover'], fragment: 7 },
  { ws: { serverMaxWindowBits: 9 }, expect: ['server_max_window_bits=9'], fragment: 64 * KiB },
];

interface WsxClient {
  socket: Socket;
  inbox: Inbox<Message>;
}

async function openWsx(url: string, options: PerMessageDeflateOptions): Promise<WsxClient> {
  const inbox = new Inbox<Message>();
  const socket = await withTimeout(
    connect(url, {
      perMessageDeflate: { ...options, threshold: 0 },
      maxMessageSize: 64 * MiB,
      handlers: {
        message: (_socket, data, isBinary) => inbox.push({ data: Buffer.from(data), isBinary }),
        close: (_socket, code) => inbox.end(`closed with ${code}`),
      },
    }),
    'the wsx client handshake',
  );
  return { socket, inbox };
}

async function roundTrip(
  client: WsxClient,
  server: EchoServer,
  data: Buffer,
  binary: boolean,
  compressible: boolean,
): Promise<void> {
  const tcp = server.sockets[server.sockets.length - 1];
  const read = tcp.bytesRead;
  const written = tcp.bytesWritten;
  client.socket.send(data, { binary, compress: true });
  const reply = await client.inbox.next(`the echo of ${data.length} bytes`);
  const label = `${binary ? 'binary' : 'text'} ${data.length} B`;
  assert.equal(reply.isBinary, binary, label);
  assert.ok(reply.data.equals(data), `${label}: the echo differs`);
  if (compressible && data.length >= 4 * KiB) {
    const fromWsx = tcp.bytesRead - read;
    const fromWs = tcp.bytesWritten - written;
    const wsxBits = client.socket.extensions.match(/client_max_window_bits=(\d+)/)?.[1];
    if (wsxBits === '8')
      assert.ok(fromWsx >= data.length, `${label}: wsx sent ${fromWsx} bytes, uncompressed (8-bit window)`);
    else assert.ok(fromWsx < data.length / 2, `${label}: wsx sent ${fromWsx} bytes, so it compressed`);
    assert.ok(fromWs < data.length / 2, `${label}: ws sent back ${fromWs} bytes, so it compressed`);
  }
}

describe('the wsx library client against ws servers', () => {
  for (const c of [...CASES, ...FRAGMENTED]) {
    it(describeCase(c), async () => {
      const server = await wsEchoServer(c);
      try {
        const client = await openWsx(server.url, c.wsx ?? {});
        assert.deepEqual(paramList(server.responses[0]), c.expect, `ws answered ${server.responses[0]}`);
        assert.deepEqual(
          paramList(client.socket.extensions),
          c.expect,
          `wsx extensions: ${client.socket.extensions}`,
        );
        const base = c === CASES[0] || c === CASES[1];
        // ws compresses each fragment with its own flush: keep fragmented echoes to ~1,500 frames
        const sizes = (base ? ALL_SIZES : SOME_SIZES).filter(
          (size) => size / (c.fragment ?? size + 1) <= 1500,
        );
        for (const size of sizes) {
          const text = Buffer.from(jsonText(size, size));
          // with small fragments the compressed echo is not smaller than the message: no wire check
          const wireCheck = c.fragment === undefined || c.fragment >= 1000;
          await roundTrip(client, server, text, false, wireCheck);
          await roundTrip(client, server, text, true, wireCheck); // the same bytes again, against the window
          if (base || size <= 65536) await roundTrip(client, server, noise(size), true, false);
        }
        await roundTrip(
          client,
          server,
          Buffer.from(utf8Text(c.fragment === 1 ? 1000 : 50 * KiB)),
          false,
          false,
        );
        client.socket.close(1000);
      } finally {
        await server.close();
      }
    });
  }
});

describe('wsx connect --echo against ws servers', () => {
  const cliCases: ServerCase[] = [
    { ws: {}, expect: [] },
    {
      ws: { serverNoContextTakeover: true, clientNoContextTakeover: true },
      expect: ['client_no_context_takeover', 'server_no_context_takeover'],
    },
    {
      ws: { serverMaxWindowBits: 8, clientMaxWindowBits: 8 },
      expect: ['client_max_window_bits=8', 'server_max_window_bits=8'],
    },
    {
      ws: { serverMaxWindowBits: 9, clientMaxWindowBits: 9 },
      expect: ['client_max_window_bits=9', 'server_max_window_bits=9'],
    },
    {
      ws: { serverMaxWindowBits: 12, clientMaxWindowBits: 11 },
      expect: ['client_max_window_bits=11', 'server_max_window_bits=12'],
    },
    {
      ws: { serverMaxWindowBits: 15, clientMaxWindowBits: 15 },
      expect: ['client_max_window_bits=15', 'server_max_window_bits=15'],
    },
    { ws: {}, expect: [], fragment: 1000 },
    { ws: { serverNoContextTakeover: true }, expect: ['server_no_context_takeover'], fragment: 3 },
  ];
  for (const c of cliCases) {
    it(describeCase(c), async () => {
      // A ws server that, once wsx connects, sends messages and checks the echoes.
      const wss = new WebSocketServer({
        host: '127.0.0.1',
        port: 0,
        maxPayload: 64 * MiB,
        perMessageDeflate: { ...c.ws, threshold: 0 },
      });
      const responses: string[] = [];
      wss.on('headers', (headers: string[]) => {
        const line = headers.find((h) => /^sec-websocket-extensions:/i.test(h));
        responses.push(line === undefined ? '' : line.slice(line.indexOf(':') + 1).trim());
      });
      const connected = new Promise<{ ws: WsSocket; socket: NetSocket }>((resolve) =>
        wss.on('connection', (ws, request) => resolve({ ws, socket: request.socket as NetSocket })),
      );
      await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
      const { port } = wss.address() as AddressInfo;
      const cli = wsx('wsx connect', [
        'connect',
        `ws://127.0.0.1:${port}/`,
        '--echo',
        '--max-payload',
        String(64 * MiB),
      ]);
      try {
        const { ws, socket } = await withTimeout(connected, 'wsx connect to connect');
        ws.on('error', () => {});
        assert.deepEqual(paramList(responses[0]), c.expect, `ws answered ${responses[0]}`);
        const inbox = new Inbox<Message>();
        ws.on('message', (data, isBinary) => inbox.push({ data: rawToBuffer(data), isBinary }));
        ws.on('close', (code) => inbox.end(`closed with ${code}`));
        const sizes = (
          c.fragment === undefined ? [0, 1, 125, 126, 1000, 65535, 65536, MiB] : [0, 126, 1000, 65536]
        ).filter((size) => size / (c.fragment ?? size + 1) <= 1500);
        for (const size of sizes) {
          for (const [data, binary] of [
            [Buffer.from(jsonText(size, size)), false],
            [noise(size), true],
          ] as const) {
            const read = socket.bytesRead;
            const pieces = c.fragment === undefined ? [data] : split(data, [c.fragment]);
            pieces.forEach((piece, i) => {
              ws.send(piece, { binary, compress: true, fin: i === pieces.length - 1 });
            });
            const reply = await inbox.next(`the echo of ${size} bytes ${cli.describe()}`);
            assert.equal(reply.isBinary, binary);
            assert.ok(reply.data.equals(data), `${binary ? 'binary' : 'text'} ${size} B: the echo differs`);
            if (!binary && size >= 4 * KiB) {
              const fromWsx = socket.bytesRead - read;
              if (c.ws.clientMaxWindowBits === 8)
                assert.ok(fromWsx >= size, `8-bit window: wsx sent ${fromWsx} B, uncompressed`);
              else
                assert.ok(
                  fromWsx < size / 2,
                  `wsx connect sent ${fromWsx} bytes for ${size}, so it compressed`,
                );
            }
          }
        }
        ws.close(1000);
        assert.equal(await withTimeout(cli.exited, `wsx connect to exit ${cli.describe()}`), 0);
      } finally {
        cli.kill();
        for (const client of wss.clients) client.terminate();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
      }
    });
  }
});

describe('the WHATWG WebSocket client negotiates and uses compression by default', () => {
  it('new WebSocket(url) against a ws server with compression on', async () => {
    const server = await wsEchoServer({ ws: {}, expect: [] });
    try {
      const ws = new WhatwgWebSocket(server.url);
      const inbox = new Inbox<string>();
      ws.onmessage = (event) => inbox.push(String((event as MessageEvent).data));
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          ws.onopen = () => resolve();
          ws.onerror = () => reject(new Error('error event'));
        }),
        'the open event',
      );
      assert.equal(ws.extensions, 'permessage-deflate');
      const text = jsonText(100 * KiB);
      const read = server.sockets[0].bytesRead;
      ws.send(text);
      assert.equal(await inbox.next('the echo'), text);
      assert.ok(server.sockets[0].bytesRead - read < text.length / 2, 'sent compressed');
      ws.close(1000);
    } finally {
      await server.close();
    }
  });
});
