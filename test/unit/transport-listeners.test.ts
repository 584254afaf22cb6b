import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { listenTransport, type TransportSink, unlistenTransport } from '../../src/node/reading.js';

/** A connected pair of real TCP sockets. */
async function pair(): Promise<{ server: Socket; client: Socket; close: () => void }> {
  const listener = createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const { port } = listener.address() as { port: number };
  const client = connect(port, '127.0.0.1');
  const [server] = (await once(listener, 'connection')) as [Socket];
  await once(client, 'connect');
  return { server, client, close: () => listener.close() };
}

function sink(events: string[]): TransportSink {
  return {
    onData: () => events.push('data'),
    onEnd: () => events.push('end'),
    finish: () => events.push('finish'),
    onError: (error) => events.push(`error ${error.message}`),
    onDrain: () => events.push('drain'),
  };
}

describe('transport listeners handed to another reader', () => {
  it('a socket given back after someone else listened for its end reaches its end cleanly', async () => {
    const { server, client, close } = await pair();
    const events: string[] = [];
    listenTransport(server, sink(events));
    // Another reader (Node's HTTP server, an application) listens for 'end' too.
    let othersEnd = 0;
    server.on('end', () => othersEnd++);
    unlistenTransport(server);
    server.resume();
    client.end();
    await once(server, 'end');
    // Node's own end handling still runs: the socket ends its side and closes.
    await once(server, 'close');
    assert.equal(othersEnd, 1);
    assert.deepEqual(events, []);
    close();
  });

  it('a socket given back with nobody else listening reaches its end cleanly too', async () => {
    const { server, client, close } = await pair();
    const events: string[] = [];
    listenTransport(server, sink(events));
    unlistenTransport(server);
    server.resume();
    client.end();
    await once(server, 'close');
    assert.deepEqual(events, []);
    close();
  });

  it('while listened, the end reaches the sink', async () => {
    const { server, client, close } = await pair();
    const events: string[] = [];
    listenTransport(server, sink(events));
    client.write('x');
    client.end();
    await once(server, 'close');
    assert.deepEqual(events, ['data', 'end', 'finish']);
    close();
  });
});
