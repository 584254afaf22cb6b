// Interop: the libwebsockets test server (C, lws 4.1) against the wsx library client, offering
// permessage-deflate and not. dumb-increment-protocol sends a count; lws-mirror-protocol repeats
// each message to every mirror client, its sender included. (Debian's build of this server
// answers every permessage-deflate offer without the extension, its own client's included, so
// the offer is declined and the connection goes on uncompressed.)
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { assertPeerCloseEcho, killAll, UTF8_SAMPLE } from './helpers.js';
import { type LwsServer, libwebsockets, startLwsServer } from './lws.js';
import { WsxClient } from './wsx-peer.js';

describe('libwebsockets test server ↔ wsx client', () => {
  let server: LwsServer;
  const clients: WsxClient[] = [];

  before(async () => {
    if (!libwebsockets.available) return;
    server = await startLwsServer();
  });

  after(async () => {
    for (const client of clients) client.socket.terminate();
    await killAll();
  });

  async function open(protocol: string, perMessageDeflate: boolean): Promise<WsxClient> {
    const client = await WsxClient.connect(server.url, { protocols: [protocol], perMessageDeflate });
    clients.push(client);
    assert.equal(client.socket.protocol, protocol);
    const { extensions } = client.socket;
    assert.ok(
      extensions === '' || (perMessageDeflate && extensions.startsWith('permessage-deflate')),
      `extensions: ${extensions}`,
    );
    return client;
  }

  for (const deflate of [false, true]) {
    const offer = deflate ? 'offering permessage-deflate' : 'without permessage-deflate';

    libwebsockets.it(`dumb-increment-protocol counts up, and a close is answered (${offer})`, async () => {
      const client = await open('dumb-increment-protocol', deflate);
      const numbers: number[] = [];
      for (let i = 0; i < 5; i++) {
        const message = await client.messages.next(`number ${i + 1}`);
        assert.equal(message.isBinary, false);
        numbers.push(Number(message.data.toString()));
      }
      assert.ok(Number.isInteger(numbers[0]) && numbers[0] >= 0, `first: ${numbers[0]}`);
      assert.deepEqual(
        numbers,
        numbers.map((_, i) => numbers[0] + i),
      );
      client.socket.close(4000, 'bye-é');
      assertPeerCloseEcho(await client.waitClosed(), { code: 4000, reason: 'bye-é' });
      assert.equal(client.socket.wasClean, true);
    });

    libwebsockets.it(
      `lws-mirror-protocol repeats each message to every mirror client (${offer})`,
      async () => {
        const [a, b] = [
          await open('lws-mirror-protocol', deflate),
          await open('lws-mirror-protocol', !deflate),
        ];
        const sent = [`c #00ff00 1 2 3; ${offer}`, UTF8_SAMPLE, 'x'.repeat(3000), ''];
        // One at a time: the server takes the two connections' messages in whatever order they come.
        for (const [i, text] of sent.entries()) {
          (i % 2 === 0 ? a : b).socket.sendText(text);
          for (const client of [a, b]) {
            const message = await client.messages.next(`message ${i + 1} mirrored`);
            assert.deepEqual(message, { data: Buffer.from(text), isBinary: false });
          }
        }
        for (const client of [a, b]) {
          client.socket.close(1000);
          assert.equal((await client.waitClosed()).code, 1000);
        }
      },
    );
  }
});
