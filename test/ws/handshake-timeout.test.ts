// wsx/ws's client gives up an opening handshake by default (ws waits forever without
// `handshakeTimeout`): checked against a TCP server that accepts and never answers.
import assert from 'node:assert/strict';
import type { ClientRequest } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket, { type ClientOptions } from '../../src/ws/index.js';
import { within } from '../shared/wait.js';

let silent: Server;
let url: string;
const accepted: Socket[] = [];
before(async () => {
  // Reads the upgrade request and never answers it.
  silent = createServer((socket) => {
    accepted.push(socket);
    socket.resume();
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  url = `ws://127.0.0.1:${(silent.address() as { port: number }).port}/`;
});
after(async () => {
  for (const socket of accepted) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

/**
 * The idle limit the handshake's connection was given (what `handshakeTimeout` becomes): read on
 * the real socket (`socket.timeout`) of the request ws's `finishRequest` hands over.
 */
async function effectiveTimeout(options: ClientOptions): Promise<number | undefined> {
  let socket: Promise<Socket> | undefined;
  const ws = new WebSocket(url, {
    ...options,
    finishRequest(request: ClientRequest) {
      socket = new Promise((resolve) => request.once('socket', resolve));
      request.end();
    },
  });
  ws.on('error', () => {}); // terminate() while connecting reports the aborted handshake
  try {
    assert.ok(socket !== undefined, 'finishRequest was called');
    return (await within(5_000, 'the request socket', socket)).timeout;
  } finally {
    ws.terminate();
  }
}

describe('wsx/ws client handshake timeout', () => {
  it("fails a handshake the server never answers with ws's error, then closes with 1006", async () => {
    const ws = new WebSocket(url, { handshakeTimeout: 200 });
    const error = new Promise<Error>((resolve) => ws.once('error', resolve));
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    ws.on('open', () => assert.fail('the silent server opened a connection'));
    const failure = await within(5_000, 'the handshake error', error);
    assert.ok(failure instanceof Error);
    assert.equal(failure.message, 'Opening handshake has timed out');
    assert.equal(await within(5_000, 'the close', closed), 1006);
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });

  it('applies 30 s when handshakeTimeout is not given; the option overrides it, and 0 means none as in ws', async () => {
    assert.equal(await effectiveTimeout({}), 30_000);
    assert.equal(await effectiveTimeout({ handshakeTimeout: undefined }), 30_000);
    assert.equal(await effectiveTimeout({ handshakeTimeout: 1_500 }), 1_500);
    // Node leaves `socket.timeout` undefined when no limit was set.
    assert.equal(await effectiveTimeout({ handshakeTimeout: 0 }), undefined);
  });
});
