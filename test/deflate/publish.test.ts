// A topic publish with permessage-deflate: sockets that agreed to no context takeover on the
// server's side (the server's default) get one compressed (or, under the threshold, stored)
// frame, made once and shared; sockets
// without the extension get the plain frame; a real peer (ws) decodes what it gets.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { constants, inflateRawSync } from 'node:zlib';
import WebSocket from 'ws';
import { createServer, type WebSocketServer } from '../../src/index.js';
import {
  jsonText,
  Op,
  type RawReader,
  rawToBuffer,
  rawUpgrade,
  sleep,
  TAIL,
  withTimeout,
} from './helpers.js';

const BROWSER_OFFER = 'permessage-deflate; client_max_window_bits';

describe('publish compresses once for every socket with the same parameters', () => {
  let server: WebSocketServer;
  let url = '';

  before(async () => {
    server = createServer();
    server.route('/news', { open: (socket) => socket.subscribe('news') });
    const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
    url = `ws://127.0.0.1:${port}/news`;
  });

  after(async () => {
    await server.close({ timeout: 500 });
  });

  it('sends the same compressed bytes to each deflate socket, plain frames to the others, and ws decodes them', async () => {
    const readers: RawReader[] = [];
    readers.push(await rawUpgrade(url, BROWSER_OFFER));
    readers.push(await rawUpgrade(url, BROWSER_OFFER));
    readers.push(await rawUpgrade(url, null));
    const peer = new WebSocket(url);
    const received: string[] = [];
    peer.on('message', (data) => received.push(rawToBuffer(data).toString()));
    await withTimeout(new Promise((resolve) => peer.on('open', resolve)), 'ws open');
    assert.equal(
      readers[0].header('sec-websocket-extensions'),
      'permessage-deflate; server_no_context_takeover',
    );
    await withTimeout(
      (async () => {
        while (server.subscribers('news') < 4) await sleep(5);
      })(),
      'four subscribers',
    );

    const big = jsonText(8000, 1);
    const small = jsonText(200, 2);
    assert.equal(server.publish('news', big), 4);
    assert.equal(server.publish('news', small), 4);

    const [a, b, plain] = await Promise.all(readers.map((reader) => reader.frames(2)));
    assert.equal(a[0].opcode, Op.Text);
    assert.equal(a[0].rsv1, true, 'compressed (RSV1 set)');
    assert.deepEqual(a[0].payload, b[0].payload, 'one compressed frame for both');
    // Without context takeover each message inflates on its own.
    const inflated = inflateRawSync(Buffer.concat([a[0].payload, TAIL]), {
      finishFlush: constants.Z_SYNC_FLUSH,
    });
    assert.equal(inflated.toString(), big);
    assert.ok(a[0].payload.length < big.length / 2);
    assert.equal(a[1].rsv1, true, 'under the threshold: stored blocks, RSV1 still set');
    assert.deepEqual(a[1].payload, b[1].payload, 'one stored frame for both');
    const stored = inflateRawSync(Buffer.concat([a[1].payload, TAIL]), {
      finishFlush: constants.Z_SYNC_FLUSH,
    });
    assert.equal(stored.toString(), small);
    assert.equal(
      a[1].payload.length,
      small.length + 6,
      'one 5-byte block header and the end byte: not compressed',
    );
    assert.equal(plain[0].rsv1, false);
    assert.equal(plain[0].payload.toString(), big);
    assert.equal(plain[1].payload.toString(), small);

    await withTimeout(
      (async () => {
        while (received.length < 2) await sleep(5);
      })(),
      'ws gets both',
    );
    assert.deepEqual(received, [big, small]);
    for (const reader of readers) reader.socket.destroy();
    peer.terminate();
  });
});
