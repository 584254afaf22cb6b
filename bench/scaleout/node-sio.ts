/**
 * One socket.io node of the scale-out benchmark (the compared peer): socket.io 4 on a Redis
 * adapter, websocket transport only, every socket in one room.
 *
 *   node node-sio.js --redis=URL --adapter=redis|streams
 *
 * `redis` is @socket.io/redis-adapter (pub/sub); `streams` is @socket.io/redis-streams-adapter.
 */
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdapter as pubsubAdapter } from '@socket.io/redis-adapter';
import { createAdapter as streamsAdapter } from '@socket.io/redis-streams-adapter';
import { createClient } from 'redis';
import { Server } from 'socket.io';
import { TOPIC } from './common.js';
import { serveCommands } from './pace.js';

function arg(name: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  if (hit === undefined) throw new Error(`missing --${name}`);
  return hit.slice(name.length + 3);
}

const client = createClient({ url: arg('redis') });
await client.connect();
let adapter: ReturnType<typeof pubsubAdapter> | ReturnType<typeof streamsAdapter>;
if (arg('adapter') === 'streams') {
  adapter = streamsAdapter(client);
} else {
  const subscriber = client.duplicate();
  await subscriber.connect();
  adapter = pubsubAdapter(client, subscriber);
}

const http = createHttpServer();
const io = new Server(http, { transports: ['websocket'], adapter });
io.on('connection', (socket) => {
  socket.join(TOPIC);
});
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
const port = (http.address() as AddressInfo).port;
serveCommands(port, {
  publish: (data) => io.to(TOPIC).emit('m', data),
  stats: () => null,
});
