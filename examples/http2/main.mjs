// WebSockets over HTTP/2 (RFC 8441): several WebSockets as streams of one connection.
//
//   node examples/http2/main.mjs      h2c (HTTP/2 without TLS, as behind a proxy): a server and
//                                     three clients that share one HTTP/2 connection, then exits
//
// With `tls: { cert, key }` beside `http2: true`, `listen` serves h2 and HTTP/1.1 on one port
// (browsers then open wss:// sockets over the page's own HTTP/2 connection).
import { connect, createServer } from 'wsx';

const server = createServer();
const serverSockets = [];
server.route('/echo', {
  open(socket) {
    serverSockets.push(socket);
  },
  message(socket, data, isBinary) {
    if (isBinary) socket.sendBinary(data);
    else socket.sendText(data);
  },
});
const { port } = await server.listen({ port: 0, http2: true });

// `http2: true` fails when the server does not offer WebSockets over HTTP/2; 'auto' would
// fall back to HTTP/1.1 (over TLS, when ALPN or the server's settings say no).
let echoed;
const clients = await Promise.all(
  ['a', 'b', 'c'].map((name) =>
    connect(`ws://127.0.0.1:${port}/echo`, {
      http2: true,
      data: name,
      handlers: {
        message(socket, data) {
          console.log(
            `client ${socket.data}: echo "${data.toString('utf8')}" over HTTP/${socket.httpVersion}`,
          );
          echoed();
        },
      },
    }),
  ),
);
for (const client of clients) {
  const reply = new Promise((resolve) => (echoed = resolve));
  client.sendText(`hello from ${client.data}`);
  await reply;
}

// Every server socket sees the same client port: one TCP connection carries all three.
const connections = new Set(serverSockets.map((socket) => socket.remotePort)).size;
console.log(
  `server: ${serverSockets.length} WebSockets over HTTP/${serverSockets[0].httpVersion}, on ${connections} connection`,
);
for (const client of clients) client.close(1000);
const report = await server.close();
console.log(`server closed: ${report.closedCleanly} closed cleanly`);
