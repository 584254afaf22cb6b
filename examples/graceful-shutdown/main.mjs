// Graceful shutdown: on SIGTERM the server stops accepting, sends every socket a 1001 close
// frame behind what it already had queued, waits for the closing handshakes, drops whoever
// does not answer in time, and reports what happened.
//
// Three subscribers read everything and close cleanly; a fourth has stopped reading (a stuck
// client), so the server's buffer for it fills up and it never answers the close frame.
//
//   node examples/graceful-shutdown/main.mjs
import { randomBytes } from 'node:crypto';
import { setImmediate as turn } from 'node:timers/promises';
import { connect, createServer } from 'wsx';

const server = createServer();
server.route('/news', {
  upgrade: ({ query }) => ({ data: { name: query.get('name') ?? 'anonymous' } }),
  open(socket) {
    socket.subscribe('news');
    if (socket.data.name === 'stuck') stuckOnServer = socket;
  },
});
let stuckOnServer = null; // the server's side of the stuck client's connection
const { port } = await server.listen({ port: 0 });

process.once('SIGTERM', async () => {
  // Closing sockets is this server's job; a second SIGTERM would end the process at once.
  const report = await server.close({ timeout: 1_000, reason: 'server shutting down' });
  console.log(
    `shutdown: ${report.closedCleanly} closed cleanly, ${report.closedUncleanly} uncleanly, ${report.terminated} terminated`,
  );
  const { sockets, bytes } = report.undelivered;
  console.log(`undelivered: ${sockets} socket(s), ${bytes > 1024 * 1024 ? 'over 1 MiB' : `${bytes} bytes`}`);
  finished();
});
let finished;
const shutdownDone = new Promise((resolve) => (finished = resolve));

/** A subscriber that counts what it gets and remembers how it was closed. */
async function reader(name) {
  const state = { name, received: 0, expected: null, close: null };
  await connect(`ws://127.0.0.1:${port}/news?name=${name}`, {
    handlers: {
      message(_socket, data) {
        const text = data.toString('utf8', 0, 32);
        if (text.startsWith('total ')) state.expected = Number(text.slice(6));
        else state.received++;
      },
      close: (socket, code, reason) =>
        (state.close = `${code} ${reason}${socket.wasClean ? '' : ' (unclean)'}`),
    },
  });
  return state;
}

const readers = [await reader('ada'), await reader('bob'), await reader('cy')];
const stuck = await connect(`ws://127.0.0.1:${port}/news?name=stuck`);
stuck.pause(); // reads nothing more: the TCP window fills, then the server's buffer grows

// Publish 64 KiB messages until more than 1 MiB is waiting in the server for the stuck client.
const chunk = randomBytes(64 * 1024); // random: compression cannot shrink it
let published = 0;
while (stuckOnServer.bufferedAmount <= 1024 * 1024 && published < 1_000) {
  server.publish('news', chunk);
  published++;
  await turn(); // let the writes of this tick reach the kernel
}
server.publish('news', `total ${published}`);

process.kill(process.pid, 'SIGTERM');
await shutdownDone;
for (const { name, received, expected, close } of readers)
  console.log(
    `${name}: ${received === expected ? 'every message' : `${received} of ${expected} messages`}, then ${close}`,
  );
stuck.terminate();
