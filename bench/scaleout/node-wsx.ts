/**
 * One wsx node of the scale-out benchmark: a server on the Redis topic adapter, every socket
 * subscribed to one topic.
 *
 *   node node-wsx.js --redis=URL --mode=pubsub|stream
 *
 * Stream mode: each message goes out as `offset,payload,epoch` (`topicEnvelope`), so a client
 * knows its position; a client that comes back with `?offset=N&epoch=E` is subscribed with
 * `since`, and the route's `recovery` handler tells it the outcome in a text message
 * `R,<recovered>,<missed>,<reason>`.
 */
import { createServer, type Socket } from '../../src/index.js';
import { createRedisAdapter, type RedisTopicMode } from '../../src/redis/index.js';
import { TOPIC } from './common.js';
import { serveCommands } from './pace.js';

function arg(name: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  if (hit === undefined) throw new Error(`missing --${name}`);
  return hit.slice(name.length + 3);
}

const mode = arg('mode') as RedisTopicMode;
const adapter = await createRedisAdapter({ url: arg('redis'), mode, prefix: 'bench:' });
const server = createServer({
  topicAdapter: adapter,
  // The compared peer has compression off by default; 20-byte messages would not be compressed anyway.
  perMessageDeflate: false,
  ...(mode === 'stream'
    ? {
        topicEnvelope: (m) =>
          `${m.position!.offset},${Buffer.from(m.payload).toString('latin1')},${m.position!.epoch}`,
      }
    : {}),
});

function since(socket: Socket<unknown>): { offset: number; epoch: string } | undefined {
  const q = socket.url.indexOf('?');
  if (q === -1) return undefined;
  const query = new URLSearchParams(socket.url.slice(q + 1));
  const offset = query.get('offset');
  const epoch = query.get('epoch');
  return offset === null || epoch === null ? undefined : { offset: Number(offset), epoch };
}

server.route('/*', {
  open(socket) {
    const position = since(socket);
    socket.subscribe(TOPIC, position === undefined ? undefined : { since: position });
  },
  recovery(socket, result) {
    socket.sendText(`R,${result.recovered},${result.missed},${result.reason ?? ''}`);
  },
});

const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
serveCommands(port, {
  publish: (data) => server.publish(TOPIC, data),
  stats: () => server.stats().adapter,
});
