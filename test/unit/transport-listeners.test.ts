import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { listenTransport, type TransportSink, unlistenTransport } from '../../src/node/reading.js';
import { tcpPair } from './tcp-pair.js';

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
  it('a socket given back after someone else listened for its end reaches its end cleanly', async (t) => {
    const { server, client } = await tcpPair(t);
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
  });

  it('a socket given back with nobody else listening reaches its end cleanly too', async (t) => {
    const { server, client } = await tcpPair(t);
    const events: string[] = [];
    listenTransport(server, sink(events));
    unlistenTransport(server);
    server.resume();
    client.end();
    await once(server, 'close');
    assert.deepEqual(events, []);
  });

  it('while listened, the end reaches the sink', async (t) => {
    const { server, client } = await tcpPair(t);
    const events: string[] = [];
    listenTransport(server, sink(events));
    client.write('x');
    client.end();
    await once(server, 'close');
    assert.deepEqual(events, ['data', 'end', 'finish']);
  });
});
