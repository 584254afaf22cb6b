// The server side of the HTTP/2 benchmark: one wsx server serving h2 and HTTP/1.1 on one TLS
// port, echoing every message. Run with --expose-gc; answers 'memory' messages on its IPC
// channel with its heap and RSS after a full GC, and how many sockets are open per protocol.
import { readFileSync } from 'node:fs';
import { createServer } from '../../src/index.js';

const fixtures = new URL('../../../test/fixtures/', import.meta.url);
const server = createServer({ perMessageDeflate: false, maxConnections: Number.POSITIVE_INFINITY });
server.route('/*', {
  message: (socket, data, isBinary) => {
    socket.send(data, { binary: isBinary });
  },
});
const { port } = await server.listen({
  tls: { cert: readFileSync(new URL('cert.pem', fixtures)), key: readFileSync(new URL('key.pem', fixtures)) },
  http2: true,
});
process.on('message', (message) => {
  if (message !== 'memory') return;
  (globalThis as { gc?: () => void }).gc?.();
  const usage = process.memoryUsage();
  process.send?.({ rss: usage.rss, heapUsed: usage.heapUsed, connections: server.connections });
});
process.on('disconnect', () => process.exit(0));
process.send?.({ port });
