// A page in the browser talking to a wsx server with the browser's own WebSocket.
//
//   node examples/browser-client/main.mjs [--port 8080]   then open the URL it prints
//
// The server serves index.html over plain HTTP on the same port as the WebSocket route, tells
// every page how many pages are open, and answers each message. ^C closes every page's socket
// with 1001 and prints the shutdown report.
import { readFileSync } from 'node:fs';
import { createServer, reject } from 'wsx';

const page = readFileSync(new URL('index.html', import.meta.url));
const server = createServer({ maxMessageSize: 4 * 1024 });

server.route('/ws', {
  upgrade({ origin, headers }) {
    // Browsers send the page's origin: refuse pages from other sites (cross-site WebSocket
    // hijacking), and opaque origins ("null": sandboxed frames, about:blank, file:).
    if (origin !== undefined && !sameHost(origin, headers.single('host'))) return reject(403);
    return {};
  },
  open(socket) {
    socket.subscribe('pages');
    server.publish('pages', JSON.stringify({ type: 'pages', open: server.subscribers('pages') }));
  },
  message(socket, data, isBinary) {
    const text = isBinary ? `${data.length} bytes of binary` : data.toString('utf8');
    socket.sendText(JSON.stringify({ type: 'reply', text: `you said: ${text}` }));
  },
  close(socket) {
    socket.unsubscribe('pages');
    server.publish('pages', JSON.stringify({ type: 'pages', open: server.subscribers('pages') }));
  },
});

function sameHost(origin, host) {
  try {
    return new URL(origin).host === host;
  } catch {
    return false; // "null", or anything else that is not a URL
  }
}

const portFlag = process.argv.indexOf('--port');
const { port } = await server.listen({
  port: portFlag === -1 ? 8080 : Number(process.argv[portFlag + 1]),
  // Plain HTTP requests on the same port: the page, and 404 for anything else.
  request(request, response) {
    if (request.url === '/' || request.url === '/index.html') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
    } else {
      response.writeHead(404).end('not found\n');
    }
  },
});
console.log(`open http://127.0.0.1:${port}/ in a browser (^C stops)`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    const report = await server.close({ timeout: 2_000 });
    console.log(`stopped: ${report.closedCleanly} page(s) closed cleanly, ${report.terminated} terminated`);
  });
}
