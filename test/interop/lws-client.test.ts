// Interop: the libwebsockets test client (C, lws 4.1) against a wsx echo server, with
// permessage-deflate and without. The client offers both of its subprotocols to a server that
// knows neither (as `wsx serve --echo`), streams tens of thousands of small text messages on
// the mirror connection, then drops TCP. With permessage-deflate it used to stall on the first
// echo sent without RSV1; now what the server does not compress goes as stored blocks.
import assert from 'node:assert/strict';
import { after, describe } from 'node:test';
import { createServer, type Socket, type WebSocketServer } from '../../src/index.js';
import { Inbox, killAll, withTimeout } from './helpers.js';
import { libwebsockets, runLwsClient } from './lws.js';

/** What the server saw on one connection. */
interface Seen {
  extensions: string;
  protocol: string;
  received: number;
  echoed: number;
  closeCode?: number;
}

/** The same echo as `wsx serve --echo`, counting per connection. */
async function countingEchoServer(perMessageDeflate: boolean) {
  const seen = new Map<Socket, Seen>();
  const closed = new Inbox<Seen>();
  const server: WebSocketServer = createServer({ perMessageDeflate });
  server.route('/*', {
    open(ws) {
      seen.set(ws, { extensions: ws.extensions, protocol: ws.protocol, received: 0, echoed: 0 });
    },
    message(ws, data, isBinary) {
      const entry = seen.get(ws)!;
      entry.received++;
      if (ws.send(data, { binary: isBinary }) !== 'dropped') entry.echoed++;
    },
    close(ws, code) {
      const entry = seen.get(ws)!;
      entry.closeCode = code;
      closed.push(entry);
    },
  });
  const { port } = await withTimeout(
    server.listen({ port: 0, host: '127.0.0.1' }),
    'the wsx server to listen',
  );
  return { server, port, closed };
}

// The client's deflate costs it most of its time (a zlib context per message): tens of
// thousands of messages can take minutes on a loaded machine. The bound only catches a stall.
const RUN_MS = 9 * 60_000;

describe('libwebsockets test client ↔ wsx server', { timeout: RUN_MS + 60_000, concurrency: true }, () => {
  after(killAll);

  for (const deflate of [false, true]) {
    libwebsockets.it(
      `${deflate ? 'with' : 'without'} permessage-deflate: every mirror message is echoed and the client finishes`,
      async () => {
        const { server, port, closed } = await countingEchoServer(deflate);
        try {
          const client = runLwsClient(port);
          assert.deepEqual(await client.waitForExit(RUN_MS), { code: 0, signal: null }, client.diagnostics());
          const log = client.stderr;
          const lifetime = Number(/opened mirror connection with (\d+) lifetime/.exec(log)?.[1]);
          assert.ok(lifetime > 0, `the mirror connection's message count is in the log: ${log}`);
          assert.match(log, /mirror: LWS_CALLBACK_CLOSED mirror_lifetime=0/, 'it sent all of them');

          // Both connections ended when the client dropped TCP: no closing handshake, 1006.
          const connections = [
            await closed.next('a connection to end'),
            await closed.next('the other to end'),
          ];
          const mirror = connections.find((c) => c.received > 0);
          const dumb = connections.find((c) => c.received === 0);
          assert.ok(mirror !== undefined && dumb !== undefined, JSON.stringify(connections));
          assert.deepEqual(
            { received: mirror.received, echoed: mirror.echoed },
            { received: lifetime, echoed: lifetime },
          );
          for (const connection of connections) {
            assert.equal(connection.protocol, '', 'the server knows neither subprotocol and selects none');
            assert.equal(connection.closeCode, 1006);
            if (deflate) {
              assert.equal(
                connection.extensions,
                'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
              );
            } else {
              assert.equal(connection.extensions, '');
            }
          }
        } finally {
          await withTimeout(server.close({ timeout: 500 }), 'server.close()');
        }
      },
      // The runner's 2-minute default per test is too short for the deflate run on a busy machine.
      { timeout: RUN_MS + 30_000 },
    );
  }
});
