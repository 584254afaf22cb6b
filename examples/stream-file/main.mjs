// WebSocketStream: a file piped up to a server and back down, with backpressure both ways.
//
// Up: the file's bytes go through `writable`; a write waits while the socket's buffer is full,
// so a server that stops reading stops the client reading the file. Down: the server sends the
// file back and waits for `drain` whenever `send` reports backpressure; the client's `readable`
// stops reading from TCP while its consumer (a file write stream) is behind.
//
//   node examples/stream-file/main.mjs
import { createHash, randomBytes } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer, WebSocketStream } from 'wsx';

const SIZE = 32 * 1024 * 1024;
const CHUNK = 64 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'wsx-stream-file-'));
const source = join(dir, 'source.bin');
const copy = join(dir, 'copy.bin');
writeFileSync(source, randomBytes(SIZE));
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

// The server: hashes what is uploaded; on "download", sends the file back as it came.
let uploadSocket = null; // the server's side of the upload, once its first chunk arrived
let firstChunk;
const firstChunkArrived = new Promise((resolve) => (firstChunk = resolve));
let drainWaits = 0;
const server = createServer({ maxMessageSize: 1024 * 1024 });
server.route('/files', {
  upgrade: () => ({ data: { hash: createHash('sha256'), bytes: 0, chunks: [], drained: null } }),
  message(socket, data, isBinary) {
    const upload = socket.data;
    if (isBinary) {
      upload.hash.update(data);
      upload.bytes += data.length;
      upload.chunks.push(Buffer.from(data)); // copied: `data` may be reused after the handler
      if (uploadSocket === null) {
        uploadSocket = socket;
        socket.pause(); // stop reading for a while, as a busy server would
        firstChunk();
      }
    } else if (data.toString('utf8') === 'end') {
      socket.sendText(JSON.stringify({ bytes: upload.bytes, sha256: upload.hash.digest('hex') }));
    } else if (data.toString('utf8') === 'download') {
      void sendBack(socket, upload.chunks);
    }
  },
  drain(socket) {
    socket.data.drained?.();
  },
});

async function sendBack(socket, chunks) {
  for (const chunk of chunks) {
    if (socket.sendBinary(chunk) === 'backpressure') {
      // Written, but over the socket's buffer limit: wait until it empties before going on.
      drainWaits++;
      await new Promise((resolve) => (socket.data.drained = resolve));
    }
  }
  socket.sendText('eof');
}
const { port } = await server.listen({ port: 0 });

// The client.
const stream = new WebSocketStream(`ws://127.0.0.1:${port}/files`, { readableHighWaterMark: 256 * 1024 });
const { readable, writable } = await stream.opened;
let readFromFile = 0;
const counted = new TransformStream({
  transform(chunk, controller) {
    readFromFile += chunk.length;
    controller.enqueue(chunk);
  },
});
const upload = Readable.toWeb(createReadStream(source, { highWaterMark: CHUNK }))
  .pipeThrough(counted)
  .pipeTo(writable, { preventClose: true }); // the connection stays open for the answer

// While the server is not reading, the client's writes wait and it stops reading the file.
await firstChunkArrived;
await sleep(500);
const readWhilePaused = readFromFile;
uploadSocket.resume();
await upload;
console.log(
  `while the server was not reading, the client read ${readWhilePaused < SIZE / 2 ? 'less than half' : 'more than half (!)'} of the file`,
);

const writer = writable.getWriter();
await writer.write('end');
const reader = readable.getReader();
const answer = JSON.parse(String((await reader.read()).value));
reader.releaseLock();
console.log(
  `uploaded ${answer.bytes} bytes; the server's sha256 ${answer.sha256 === sha256(readFileSync(source)) ? 'matches' : 'DIFFERS'}`,
);

// Down: the messages up to "eof" go into a file. preventCancel keeps the connection open after.
await writer.write('download');
const untilEof = new TransformStream({
  transform(message, controller) {
    if (typeof message === 'string') controller.terminate();
    else controller.enqueue(message);
  },
});
await readable.pipeThrough(untilEof, { preventCancel: true }).pipeTo(Writable.toWeb(createWriteStream(copy)));
const copied = readFileSync(copy);
console.log(
  `downloaded ${copied.length} bytes into a file; sha256 ${sha256(copied) === answer.sha256 ? 'matches' : 'DIFFERS'}`,
);
console.log(`the server waited for the client to catch up: ${drainWaits > 0 ? 'yes' : 'no'}`);

writer.releaseLock();
stream.close({ closeCode: 1000, reason: 'done' });
const { closeCode, reason } = await stream.closed;
console.log(`closed ${closeCode} ${reason}`);
await server.close();
rmSync(dir, { recursive: true, force: true });
