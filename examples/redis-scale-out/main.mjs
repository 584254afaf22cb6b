// Two wsx nodes joined through Redis: a message published on one reaches subscribers on the
// other, and a client that was away resumes on either node from the last position it saw.
//
//   REDIS_URL=redis://127.0.0.1:6379 node examples/redis-scale-out/main.mjs   (needs a running redis-server)
//
// The nodes run in one process here to keep the example short; each has its own adapter and
// Redis connections, exactly as two processes or machines would.
import { connect, createServer } from 'wsx';
import { createRedisAdapter } from 'wsx/redis'; // needs `npm install redis` (an optional peer dependency)

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// A key prefix of this run's own, so that runs sharing a Redis do not see each other's topics.
const prefix = `wsx-example-${process.pid}-${Date.now()}:`;

/** A node: `/feed?name=N[&offset=O&epoch=E]` subscribes to "news"; text sent is published there. */
async function startNode(label) {
  // Stream mode: every message gets an offset in the topic's history, kept in Redis.
  const topicAdapter = await createRedisAdapter({ url: REDIS_URL, mode: 'stream', prefix });
  const server = createServer({
    topicAdapter,
    topicEnvelope: ({ payload, position }) =>
      JSON.stringify({ ...position, text: Buffer.from(payload).toString('utf8') }),
    onError: (error) => console.error(`node ${label}: ${error.message}`),
  });
  server.route('/feed', {
    upgrade({ query }) {
      const offset = query.get('offset');
      const since = offset === null ? undefined : { offset: Number(offset), epoch: query.get('epoch') ?? '' };
      return { data: { name: query.get('name') ?? 'anonymous', since } };
    },
    open: (socket) => socket.subscribe('news', socket.data.since ? { since: socket.data.since } : undefined),
    message: (socket, data) => socket.publish('news', `${socket.data.name}: ${data.toString('utf8')}`),
    recovery: (socket, result) => socket.sendText(JSON.stringify({ recovery: result })),
  });
  const { port } = await server.listen({ port: 0 });
  return { label, server, port };
}

/** Waits for `condition`, calling `step` between looks; fails after `ms`. */
async function until(ms, what, condition, step = () => {}) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    step();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A client of one node that keeps what it receives. */
async function client(node, name, since) {
  const query = since ? `&offset=${since.offset}&epoch=${since.epoch}` : '';
  const state = { name, node: node.label, messages: [], recoveries: [], closed: false, socket: null };
  state.socket = await connect(`ws://127.0.0.1:${node.port}/feed?name=${name}${query}`, {
    handlers: {
      message(_socket, data) {
        const value = JSON.parse(data.toString('utf8'));
        if (value.recovery) state.recoveries.push(value.recovery);
        else state.messages.push(value);
      },
      close: () => (state.closed = true),
    },
  });
  state.texts = () => state.messages.map((message) => message.text);
  return state;
}

const a = await startNode('A');
const b = await startNode('B');
const nodes = [a, b];
try {
  await until(5_000, `Redis at ${REDIS_URL}`, () => nodes.every((n) => n.server.stats().adapter.linkUp));
} catch {
  console.error(`no Redis at ${REDIS_URL}: start redis-server, or set REDIS_URL`);
  await Promise.all(nodes.map((node) => node.server.close()));
  process.exit(1);
}
console.log('nodes A and B linked through Redis (stream mode)');

const ada = await client(a, 'ada');
const bob = await client(b, 'bob');
// A node subscribes in Redis when a topic gets its first local subscriber, one round trip
// later. Until then it would miss what others publish, so wait for a greeting to cross over.
await until(
  10_000,
  'the subscriptions',
  () => ada.messages.length > 0 && bob.messages.length > 0,
  () => ada.socket.sendText('hello'),
);
// Greetings still on their way arrive before this one (a topic's messages keep their order).
ada.socket.sendText('ready');
await until(10_000, 'the last greeting', () => [ada, bob].every((c) => c.texts().includes('ada: ready')));
ada.messages.length = 0;
bob.messages.length = 0;

ada.socket.sendText('hi from node A');
await until(10_000, "ada's message on node B", () => bob.texts().includes('ada: hi from node A'));
bob.socket.sendText('hi from node B');
await until(10_000, "bob's message on node A", () => ada.texts().includes('bob: hi from node B'));
console.log(`ada (on A) got: ${ada.texts().join(' | ')}`);
console.log(`bob (on B) got: ${bob.texts().join(' | ')}`);

// ada goes away, remembering the last position she saw; bob talks on.
const last = ada.messages.at(-1);
ada.socket.close(1000);
await until(10_000, 'ada to leave', () => ada.closed);
for (const text of ['one', 'two', 'three']) bob.socket.sendText(text);
await until(10_000, "bob's messages", () => bob.texts().includes('bob: three'));

// She comes back on the other node, from where she was: the missed messages come first, in order.
const back = await client(b, 'ada', { offset: last.offset, epoch: last.epoch });
await until(10_000, 'the recovery', () => back.recoveries.length === 1 && back.messages.length === 3);
const [recovery] = back.recoveries;
console.log(
  `ada back on B: recovered ${recovery.recovered}, missed ${recovery.missed}: ${back.texts().join(' | ')}`,
);
const offsets = back.messages.map((message) => message.offset - last.offset);
console.log(`their offsets follow hers: +${offsets.join(', +')}`);

for (const c of [bob, back]) c.socket.close(1000);
await Promise.all(nodes.map((node) => node.server.close({ timeout: 2_000 })));
