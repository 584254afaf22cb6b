// The CLI switches: `wsx serve` accepts permessage-deflate by default and `--no-deflate` declines
// it; `wsx connect` offers it by default and `--no-deflate` does not offer it (and then fails the
// handshake when a server accepts it anyway).
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { WebSocketServer } from 'ws';
import {
  deflateMessage,
  frame,
  jsonText,
  Op,
  rawServer,
  rawUpgrade,
  startWsxServe,
  WsClient,
  withTimeout,
  wsx,
} from './helpers.js';

describe('wsx serve', () => {
  it('accepts permessage-deflate by default', async () => {
    const server = await startWsxServe();
    try {
      const client = await WsClient.open(server.url, { perMessageDeflate: true });
      assert.equal(client.ws.extensions, 'permessage-deflate');
      assert.equal(client.extensionsHeader, 'permessage-deflate; server_no_context_takeover');
      await client.close();
    } finally {
      await server.child.stop();
    }
  });

  it('--no-deflate declines: a ws client sees no extension, and messages still echo', async () => {
    const server = await startWsxServe(['--no-deflate']);
    try {
      const client = await WsClient.open(server.url, { perMessageDeflate: { threshold: 0 } });
      assert.equal(client.ws.extensions, '');
      assert.equal(client.extensionsHeader, '');
      const text = Buffer.from(jsonText(10_000));
      await client.send(text, false);
      assert.ok((await client.inbox.next('the echo')).data.equals(text));
      await client.close();
      // and RSV1 from a raw client is a protocol error there
      const reader = await rawUpgrade(server.url, 'permessage-deflate; client_max_window_bits');
      assert.equal(reader.header('sec-websocket-extensions'), '');
      reader.socket.write(
        frame({ opcode: Op.Text, rsv: 4, payload: deflateMessage(Buffer.from('hi')), masked: true }),
      );
      assert.equal(await withTimeout(reader.closeCode(), 'the close frame'), 1002);
      reader.socket.destroy();
    } finally {
      await server.child.stop();
    }
  });
});

describe('wsx connect', () => {
  async function offerOf(args: string[]): Promise<string | undefined> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: true });
    const offered = new Promise<string | undefined>((resolve) =>
      wss.on('connection', (ws, request) => {
        resolve(request.headers['sec-websocket-extensions']);
        ws.close(1000);
      }),
    );
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    const { port } = wss.address() as AddressInfo;
    const client = wsx('wsx connect', ['connect', `ws://127.0.0.1:${port}/`, '--echo', ...args]);
    try {
      const offer = await withTimeout(offered, `the connection ${client.describe()}`);
      assert.equal(await withTimeout(client.exited, `wsx connect to exit ${client.describe()}`), 0);
      return offer;
    } finally {
      client.kill();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    }
  }

  it('offers permessage-deflate the way browsers do by default', async () => {
    assert.equal(await offerOf([]), 'permessage-deflate; client_max_window_bits');
  });

  it('--no-deflate does not offer it', async () => {
    assert.equal(await offerOf(['--no-deflate']), undefined);
  });

  it('--no-deflate fails the handshake when the server accepts permessage-deflate anyway', async () => {
    const server = await rawServer('permessage-deflate');
    const client = wsx('wsx connect', ['connect', server.url, '--echo', '--no-deflate']);
    try {
      assert.equal(await withTimeout(client.exited, 'wsx connect to exit'), 1);
      assert.match(client.stderr, /permessage-deflate|extension/i);
    } finally {
      client.kill();
      await server.close();
    }
  });
});
