// A socket's peer address is read when it opens and kept (small) until asked for: after a
// reset the kernel no longer knows the peer (getpeername fails), so a close handler that
// asks only then must still get it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { createServer } from '../../src/index.js';
import { RawClient, until, within } from './helpers.js';

describe('remoteAddress and remotePort', { timeout: 30_000 }, () => {
  it('are the client’s in a close handler after the client reset the connection, unread before', async () => {
    const server = createServer();
    const seen = new Promise<{ address: string; port: number; code: number }>((resolve) => {
      server.route('/', {
        close(socket, code) {
          resolve({ address: socket.remoteAddress, port: socket.remotePort, code });
        },
      });
    });
    const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
    try {
      const client = await RawClient.open(port, '/');
      const clientPort = client.socket.localPort;
      // Give the server a round trip to have opened the socket before the reset.
      client.send(0x9);
      await until(5_000, 'the pong', () => client.frames.length > 0);
      client.socket.resetAndDestroy();
      const closed = await within(5_000, 'the close handler', seen);
      assert.equal(closed.code, 1006);
      assert.equal(closed.address, '127.0.0.1');
      assert.equal(closed.port, clientPort);
    } finally {
      await server.close({ timeout: 1_000 });
    }
  });

  it('are the client’s while open, read once or many times', async () => {
    const server = createServer();
    let reads: [string, number][] = [];
    server.route('/', {
      message(socket) {
        reads = [
          [socket.remoteAddress, socket.remotePort],
          [socket.remoteAddress, socket.remotePort],
        ];
        socket.sendText('ok');
      },
    });
    const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
    try {
      const client = await RawClient.open(port, '/');
      client.sendText('hi');
      await until(5_000, 'the reply', () => client.messages > 0);
      const expected: [string, number] = ['127.0.0.1', client.socket.localPort!];
      assert.deepEqual(reads, [expected, expected]);
      client.socket.destroy();
      await once(client.socket, 'close');
    } finally {
      await server.close({ timeout: 1_000 });
    }
  });
});
