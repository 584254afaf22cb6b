// RFC 6455 §5.5.1: once it has sent and received a close frame, the server closes the TCP
// connection at once. These clients keep their side open (half-open TCP) to show that the
// server neither waits for their FIN nor for its close timeout.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createServer, type WebSocketServer } from '../../src/index.js';
import { RawClient, within } from './helpers.js';

interface Closed {
  readonly code: number;
  readonly wasClean: boolean;
}

/**
 * A server whose close timeout (30 s) is far longer than any wait below. Its one socket may
 * start closing on open (`closeOnOpen`) or answer every message with `reply`.
 */
async function serverReporting(
  behaviour: { closeOnOpen?: number; reply?: Buffer } = {},
): Promise<{ server: WebSocketServer; port: number; closed: Promise<Closed> }> {
  const server = createServer({ closeTimeout: 30_000, maxMessageSize: 16 * 1024 * 1024 });
  let report: (closed: Closed) => void = () => {};
  const closed = new Promise<Closed>((resolve) => {
    report = resolve;
  });
  server.route('/', {
    open(socket) {
      if (behaviour.closeOnOpen !== undefined) setImmediate(() => socket.close(behaviour.closeOnOpen));
    },
    message(socket) {
      if (behaviour.reply !== undefined) socket.sendBinary(behaviour.reply);
    },
    close(socket, code) {
      report({ code, wasClean: socket.wasClean });
    },
  });
  const { port } = await server.listen({ port: 0 });
  return { server, port, closed };
}

/** Resolves when the client's socket has read the server's FIN, failing on a reset. */
function finReceived(client: RawClient): Promise<void> {
  return new Promise((resolve, reject) => {
    client.socket.once('end', () => resolve());
    client.socket.once('error', reject);
  });
}

describe('the server closes TCP when the closing handshake completes', { timeout: 90_000 }, () => {
  it('client-initiated: replies, sends its FIN and reports a clean close without the client’s FIN', async (t) => {
    const { server, port, closed } = await serverReporting();
    t.after(() => server.close({ timeout: 100 }));
    const client = await RawClient.open(port, '/', { allowHalfOpen: true });
    const fin = finReceived(client);
    client.close(4001);
    assert.deepEqual(await within(5_000, 'the server’s close handler', closed), {
      code: 4001,
      wasClean: true,
    });
    await within(5_000, 'the server’s FIN', fin);
    assert.equal(client.closeCode, 4001, 'the close frame arrived before the FIN');
    assert.equal(client.socket.writable, true, 'the client never ended its side');
    client.socket.destroy();
  });

  it('server-initiated: closes TCP as soon as the client’s close frame arrives', async (t) => {
    const { server, port, closed } = await serverReporting({ closeOnOpen: 1001 });
    t.after(() => server.close({ timeout: 100 }));
    const client = await RawClient.open(port, '/', { allowHalfOpen: true });
    const fin = finReceived(client);
    // RawClient answers the server's close frame with its own, then keeps its side open.
    assert.deepEqual(await within(5_000, 'the server’s close handler', closed), {
      code: 1001,
      wasClean: true,
    });
    await within(5_000, 'the server’s FIN', fin);
    assert.equal(client.closeCode, 1001);
    client.socket.destroy();
  });

  it('a close frame queued behind a large reply still arrives whole before the FIN', async (t) => {
    // The reply does not fit the socket buffers at once: the server must end TCP only after it.
    const big = Buffer.alloc(8 * 1024 * 1024, 7);
    const { server, port, closed } = await serverReporting({ reply: big });
    t.after(() => server.close({ timeout: 100 }));
    const client = await RawClient.open(port, '/', { allowHalfOpen: true });
    client.socket.pause();
    client.sendText('send the big one');
    client.close(1000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const fin = finReceived(client);
    client.socket.resume();
    await within(5_000, 'the server’s FIN', fin);
    const data = client.frames.filter((frame) => frame.opcode === 0x2);
    assert.equal(data.length, 1);
    assert.equal(data[0].payload.length, big.length);
    assert.equal(client.closeCode, 1000);
    assert.deepEqual(await within(5_000, 'the server’s close handler', closed), {
      code: 1000,
      wasClean: true,
    });
    client.socket.destroy();
  });
});
