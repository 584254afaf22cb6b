import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import type { TestContext } from 'node:test';

/**
 * A connected pair of real TCP sockets on the loopback, closed with their listener when the
 * test `t` ends, whether or not it passed (an open socket would keep the test file running).
 */
export async function tcpPair(t: TestContext): Promise<{ server: Socket; client: Socket }> {
  const listener = createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const { port } = listener.address() as { port: number };
  const client = connect(port, '127.0.0.1');
  const [server] = (await once(listener, 'connection')) as [Socket];
  await once(client, 'connect');
  t.after(() => {
    server.destroy();
    client.destroy();
    listener.close();
  });
  return { server, client };
}
