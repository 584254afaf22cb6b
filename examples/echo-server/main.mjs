// An echo server, and a client that talks to it.
//
//   node examples/echo-server/main.mjs            starts the server, sends it a few messages, exits
//   node examples/echo-server/main.mjs --port 8080  keeps serving on :8080 (try `npx wsx connect ws://127.0.0.1:8080/`)
import { connect, createServer } from 'wsx';

const server = createServer({ maxMessageSize: 64 * 1024 });

// One route for every path; its handlers are shared by all of its sockets.
server.route('/*', {
  message(socket, data, isBinary) {
    // Text arrives as validated UTF-8 bytes: sending it back as text needs no decoding.
    if (isBinary) socket.sendBinary(data);
    else socket.sendText(data);
  },
});

const portFlag = process.argv.indexOf('--port');
if (portFlag !== -1) {
  const { port } = await server.listen({ port: Number(process.argv[portFlag + 1]) });
  console.log(`echo server on ws://127.0.0.1:${port}/ (^C stops it)`);
  process.once('SIGINT', () => server.close());
  process.once('SIGTERM', () => server.close());
} else {
  const { port } = await server.listen({ port: 0 }); // a free port
  await talkTo(`ws://127.0.0.1:${port}/echo`);
  await server.close();
  console.log('server closed');
}

/** Sends a text and a binary message, prints their echoes, then closes with 1000. */
async function talkTo(url) {
  const echoes = [];
  let closed;
  const done = new Promise((resolve) => (closed = resolve));
  const socket = await connect(url, {
    handlers: {
      message(socket, data, isBinary) {
        echoes.push(isBinary ? `binary ${[...data].join(',')}` : `text ${data.toString('utf8')}`);
        console.log(`echo: ${echoes.at(-1)}`);
        if (echoes.length === 2) socket.close(1000, 'done');
      },
      close(socket, code, reason) {
        console.log(`closed ${code} ${reason} (${socket.wasClean ? 'clean' : 'unclean'})`);
        closed();
      },
    },
  });
  console.log(`connected to ${new URL(url).pathname}`);
  socket.sendText('héllo, wsx');
  socket.sendBinary(new Uint8Array([1, 2, 3]));
  await done;
}
