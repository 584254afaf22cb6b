import type { ShutdownReport } from './realtime.js';
import type { WebSocketServer } from './server.js';
import { TIMED_OUT, withTimeout } from './with-timeout.js';

/**
 * `WebSocketServer.close`, once: stops accepting, sends `code` to every socket, waits up to
 * `timeout` ms for their closing handshakes, drops what is left, then stops the servers it
 * listened with (HTTP/2 sessions get GOAWAY) and the topics.
 */
export async function shutdown(
  server: WebSocketServer,
  code: number,
  reason: string,
  timeout: number,
): Promise<ShutdownReport> {
  const report = server.realtime.beginShutdown();
  const stopped = server.httpServers.map(
    (http) => new Promise<void>((resolve) => http.close(() => resolve())),
  );
  if (server.sockets.size > 0) {
    const allClosed = new Promise<void>((resolve) => {
      server.emptied = resolve;
    });
    for (const socket of server.sockets) socket.close(code, reason);
    const outcome = await withTimeout(allClosed, timeout);
    if (outcome === TIMED_OUT) server.realtime.terminate(server.sockets);
  }
  for (const listener of server.listeners) listener.close();
  for (const http of server.httpServers) http.closeAllConnections();
  // HTTP/2: GOAWAY on every session, once its WebSockets have closed.
  const http2Stopped = server.http2Servers.map(
    (http2) => new Promise<void>((resolve) => http2.close(() => resolve())),
  );
  await server.http2.closeSessions(timeout);
  server.http2.dropConnections();
  await Promise.all([...stopped, ...http2Stopped]);
  await server.realtime.stop();
  return report;
}
