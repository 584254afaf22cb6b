// permessage-deflate settings, and what they do to the bytes on the wire.
//
// The server compresses by default with one shared compressor reset after each message (no
// per-socket zlib memory). A route can keep a compressor per socket (context takeover: later
// messages refer back to earlier ones), or turn compression off. Each reply below is measured
// as the bytes the server wrote for it (`server.stats().bytes.out`, frame headers included).
//
//   node examples/compression/main.mjs
import { connect, createServer } from 'wsx';

const server = createServer({
  perMessageDeflate: { level: 6, threshold: 1024 }, // the defaults, written out
});

// A JSON document of similar records: the kind of message compression is good at.
const records = Array.from({ length: 400 }, (_, i) => ({
  id: i,
  name: `user-${i}`,
  status: 'online',
  score: i * 7,
}));
const document = JSON.stringify(records);
const small = JSON.stringify(records[1]);
const replies = {
  doc: (socket) => socket.send(document),
  'doc-uncompressed': (socket) => socket.send(document, { compress: false }), // per message
  // Under the threshold: not worth zlib's time. Without context takeover it still goes out as a
  // stored deflate block (a few bytes more), which some clients need once deflate is agreed.
  small: (socket) => socket.send(small),
};
const handlers = {
  message(socket, data) {
    replies[data.toString('utf8')]?.(socket);
  },
};
server.route('/shared', handlers);
server.route('/per-socket', {
  ...handlers,
  // A compressor per socket (about 256 KiB at these settings), freed after 10 s of quiet.
  perMessageDeflate: { serverNoContextTakeover: false, level: 6, threshold: 1024, releaseAfter: 10_000 },
});
server.route('/off', { ...handlers, perMessageDeflate: false });
const { port } = await server.listen({ port: 0 });

/** Connects, asks for each reply in turn, and prints its size on the wire. */
async function tryRoute(path, asks, clientOptions = {}) {
  let arrived;
  const socket = await connect(`ws://127.0.0.1:${port}${path}`, {
    ...clientOptions,
    handlers: { message: () => arrived() },
  });
  console.log(
    `${path}${clientOptions.perMessageDeflate === false ? ' (client says no)' : ''}: ${socket.extensions || 'no extension'}`,
  );
  for (const ask of asks) {
    const before = server.stats().bytes.out;
    const reply = new Promise((resolve) => (arrived = resolve));
    socket.sendText(ask);
    await reply;
    const wire = server.stats().bytes.out - before;
    const size = Buffer.byteLength(ask === 'small' ? small : document);
    console.log(`  ${ask}: ${size} bytes sent as ${wire} on the wire (${Math.round((100 * wire) / size)}%)`);
  }
  socket.close(1000);
}

await tryRoute('/shared', ['doc', 'doc', 'doc-uncompressed', 'small']);
await tryRoute('/per-socket', ['doc', 'doc']);
await tryRoute('/off', ['doc']);
await tryRoute('/shared', ['doc'], { perMessageDeflate: false });
await server.close();
