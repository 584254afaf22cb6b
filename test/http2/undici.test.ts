// Interop: undici's WebSocket (npm undici 8) over HTTP/2. It sends a Sec-WebSocket-Key on h2
// too and fails without the matching Accept (undici#5681); wsx answers one when a key came.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { within } from '../shared/wait.js';
import { echoServer } from './helpers.js';

const [major, minor] = process.versions.node.split('.').map(Number);
// undici 8 runs on Node >= 22.19 only; CI also runs the suite under Node 24, where this runs.
const skip = major > 22 || (major === 22 && minor >= 19) ? false : 'undici 8 needs Node >= 22.19';

describe('undici WebSocket over HTTP/2', () => {
  it('opens over h2, echoes with deflate, and closes cleanly', { skip }, async () => {
    const { Agent, WebSocket } = await import('undici');
    const { server, port, opened } = await echoServer();
    const dispatcher = new Agent({ allowH2: true, connect: { rejectUnauthorized: false } });
    const ws = new WebSocket(`wss://localhost:${port}/echo`, { dispatcher, protocols: ['chat'] });
    ws.binaryType = 'arraybuffer';
    await within(
      10_000,
      'undici to open',
      new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = (event) =>
          reject(new Error(`undici failed: ${String((event as { message?: string }).message)}`));
      }),
    );
    assert.equal(ws.protocol, 'chat');
    assert.match(ws.extensions, /^permessage-deflate/);
    const big = 'u'.repeat(300_000);
    const echoed = new Promise<string>((resolve) => {
      ws.onmessage = (event) => resolve(String(event.data));
    });
    ws.send(big);
    assert.equal(await within(10_000, 'the echo', echoed), big);
    const closed = new Promise<{ code: number; wasClean: boolean }>((resolve) => {
      ws.onclose = (event) => resolve({ code: event.code, wasClean: event.wasClean });
    });
    ws.close(1000);
    assert.deepEqual(await within(10_000, 'the close', closed), { code: 1000, wasClean: true });
    assert.deepEqual(
      opened.map((socket) => socket.httpVersion),
      ['2'],
    );
    await dispatcher.close();
    await server.close();
  });
});
