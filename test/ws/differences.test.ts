// Where wsx/ws keeps wsx's behaviour rather than ws's (docs/migrating-from-ws.md), checked on
// real sockets with ws's own client as the peer.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocket as WsClient } from 'ws';
import { type WebSocket as FacadeSocket, WebSocketServer } from '../../src/ws/index.js';
import { within } from '../shared/wait.js';

let wss: WebSocketServer;
let url: string;
before(async () => {
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1', autoPong: false, skipUTF8Validation: true });
  await new Promise((resolve) => wss.once('listening', resolve));
  // As with ws, an 'error' nobody listens for is thrown: the tests that expect one listen too.
  wss.on('connection', (ws) => ws.on('error', () => {}));
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
});
after(async () => {
  for (const client of wss.clients) client.terminate();
  await new Promise((resolve) => wss.close(resolve));
});

/** A ws client connected to the facade, and the facade's socket for it. */
async function connect(): Promise<{ client: WsClient; server: FacadeSocket }> {
  const server = new Promise<FacadeSocket>((resolve) => wss.once('connection', resolve));
  const client = new WsClient(url);
  await within(
    5_000,
    'the connection',
    new Promise((resolve, reject) => client.once('open', resolve).once('error', reject)),
  );
  return { client, server: await within(5_000, 'the server socket', server) };
}

function closed(client: WsClient): Promise<[number, string]> {
  return new Promise((resolve) => client.once('close', (code, reason) => resolve([code, String(reason)])));
}

describe('wsx/ws differences from ws', () => {
  it('sends an empty string as an empty text message', async () => {
    const { client, server } = await connect();
    const message = new Promise<[string, boolean]>((resolve) =>
      client.once('message', (data, isBinary) => resolve([String(data), isBinary])),
    );
    server.send('');
    assert.deepEqual(await within(5_000, 'the message', message), ['', false]);
    client.close();
  });

  it('answers pings even with autoPong: false (RFC 6455 §5.5.2)', async () => {
    const { client } = await connect();
    const pong = new Promise<string>((resolve) => client.once('pong', (data) => resolve(String(data))));
    client.ping('are you there');
    assert.equal(await within(5_000, 'the pong', pong), 'are you there');
    client.close();
  });

  it('checks UTF-8 even with skipUTF8Validation: true, and names the violation in the close reason', async () => {
    const { client, server } = await connect();
    const error = new Promise<Error & { code?: string }>((resolve) => server.once('error', resolve));
    const serverClosed = new Promise<number>((resolve) => server.once('close', (code) => resolve(code)));
    const clientClosed = closed(client);
    client.send(Buffer.from([0x68, 0xc3, 0x28]), { binary: false });
    assert.equal((await within(5_000, 'the error', error)).code, 'WS_ERR_INVALID_UTF8');
    const [code, reason] = await within(5_000, 'the close', clientClosed);
    assert.equal(code, 1007);
    assert.match(reason, /UTF-8/);
    // As with ws, the side that failed the connection reports 1006 (no close frame came back first).
    assert.equal(await within(5_000, 'the server close', serverClosed), 1006);
  });

  it('limits a message to 16 MiB unless maxPayload says otherwise (1009)', async () => {
    const { client } = await connect();
    const clientClosed = closed(client);
    client.send(Buffer.alloc(16 * 1024 * 1024 + 1));
    assert.equal((await within(10_000, 'the close', clientClosed))[0], 1009);
  });
});
