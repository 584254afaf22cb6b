// A client that survives its server going away: ReconnectingWebSocket reconnects with
// exponential backoff and jitter, queues what is sent while offline (bounded: here 3 messages,
// the oldest dropped first), re-introduces itself in `onConnect` before the queue is flushed,
// and gives up after `maxRetries` failed attempts in a row.
//
//   node examples/reconnecting-client/main.mjs
import { createServer, ReconnectingWebSocket } from 'wsx';

/** A server that records what it receives; started again later on the same port. */
async function startServer(port) {
  const received = [];
  const waiters = [];
  const server = createServer();
  server.route('/feed', {
    message(_socket, data) {
      received.push(data.toString('utf8'));
      for (const waiter of waiters.filter((w) => received.length >= w.count)) waiter.resolve();
    },
  });
  const address = await server.listen({ port });
  /** Resolves once `count` messages have arrived. */
  const receivedAtLeast = (count) =>
    new Promise((resolve) =>
      received.length >= count ? resolve(undefined) : waiters.push({ count, resolve }),
    );
  return { server, port: address.port, received, receivedAtLeast };
}

const first = await startServer(0);
const url = `ws://127.0.0.1:${first.port}/feed`;

const client = new ReconnectingWebSocket(url, [], {
  reconnect: {
    minDelay: 100, // first retry after 50-100 ms (jitter 0.5), then doubling up to maxDelay
    maxDelay: 2_000,
    maxRetries: 3,
    maxQueuedMessages: 3,
    queuePolicy: 'drop-oldest',
    // Runs on every connection before queued messages go out: authenticate, resubscribe.
    onConnect: (socket, { reconnected }) => socket.send(reconnected ? 'hello again' : 'hello'),
  },
});
const once = (type) => new Promise((resolve) => client.addEventListener(type, resolve, { once: true }));
client.addEventListener('drop', (event) => console.log(`queue full: dropped "${event.data}"`));

await once('open');
console.log('connected');
client.send('m1');
await first.receivedAtLeast(2);
console.log(`server 1 received: ${first.received.join(', ')}`);

// The server goes away (1001 to its sockets); the client starts retrying.
const reconnecting = once('reconnecting');
await first.server.close();
const lost = await reconnecting;
console.log(`connection lost (${lost.code}), reconnecting`);
for (const message of ['m2', 'm3', 'm4', 'm5']) client.send(message); // offline: queued
console.log(`queued while offline: ${client.queuedMessages}`);

// Back on the same port: the client finds it on one of its next attempts.
const reconnected = once('reconnect');
const second = await startServer(first.port);
await reconnected;
await second.receivedAtLeast(4);
console.log(`reconnected; server 2 received: ${second.received.join(', ')}`);

// Now the server goes away for good: three refused attempts, then the client gives up.
const failed = once('reconnectfailed');
const closed = once('close');
await second.server.close();
const gaveUp = await failed;
const close = await closed;
console.log(`gave up after ${gaveUp.attempt} failed attempts; close ${close.code}`);
