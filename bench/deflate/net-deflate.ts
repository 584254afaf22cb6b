/**
 * The floor of a compressed echo in Node: `node:net` and Node's zlib, with nothing a
 * WebSocket library adds. It agrees to what wsx agrees to by default (`permessage-deflate;
 * server_no_context_takeover`), inflates each message with the socket's own decompressor (the
 * clients keep their context), compresses the echo through one compressor shared by every
 * socket, ended with a full flush, and writes each read's echoes with one `socket.write`.
 *
 * It is not a WebSocket server: it checks nothing (no UTF-8 validation, no limits, no control
 * frames, no fragments), keeps no history for freeing a quiet socket's decompressor, and
 * handles only the frames the bench's clients send. zlib runs synchronously through the
 * stream's handle (`writeSync`), the cheapest way Node offers to call it with a context kept
 * between calls: its public `*Sync` functions start from a fresh context each time.
 */
import { createServer, type Socket } from 'node:net';
import { constants, createDeflateRaw, createInflateRaw } from 'node:zlib';
import type { ZlibStream as RawZlib } from '../../src/protocol/extensions/sync-zlib.js';
import { TAIL } from './common.js';
import { serveHandFrames } from './hand-frames.js';

const SETTINGS = { windowBits: 15, memLevel: 8, level: 6, chunkSize: constants.Z_MIN_CHUNK };
/** The bench's messages are 1 KiB; anything that does not fit in these fails loudly. */
const SCRATCH_SIZE = 256 * 1024;
const compressedIn = Buffer.allocUnsafe(SCRATCH_SIZE);
const inflated = Buffer.allocUnsafe(SCRATCH_SIZE);
const deflated = Buffer.allocUnsafe(SCRATCH_SIZE);
const replies = Buffer.allocUnsafe(SCRATCH_SIZE);
const shared = createDeflateRaw(SETTINGS) as unknown as RawZlib;
shared.on('error', fail);

function fail(error: Error): never {
  process.stderr.write(`net-deflate: ${error.message}\n`);
  process.exit(1);
}

/** Runs `length` bytes of `input` through zlib in one call; the output's length. */
function run(stream: RawZlib, flush: number, input: Buffer, length: number, output: Buffer): number {
  stream._handle!.writeSync(flush, input, 0, length, output, 0, output.length);
  const [outLeft, inLeft] = stream._writeState;
  if (outLeft === 0 || inLeft !== 0) fail(new Error('a message did not fit in one zlib call'));
  return output.length - outLeft;
}

/** Echoes one compressed, masked text or binary frame's message, compressed; returns where `replies` now ends. */
function echo(
  inflater: RawZlib,
  data: Buffer,
  maskAt: number,
  length: number,
  first: number,
  out: number,
): number {
  for (let i = 0; i < length; i++) compressedIn[i] = data[maskAt + 4 + i] ^ data[maskAt + (i & 3)];
  compressedIn.set(TAIL, length);
  const plain = run(inflater, constants.Z_SYNC_FLUSH, compressedIn, length + TAIL.length, inflated);
  // the full flush's empty stored block ends the output; RFC 7692 has the sender strip it
  const packed = run(shared, constants.Z_FULL_FLUSH, inflated, plain, deflated) - TAIL.length;
  replies[out++] = first;
  if (packed < 126) replies[out++] = packed;
  else {
    replies[out++] = 126;
    replies.writeUInt16BE(packed, out);
    out += 2;
  }
  deflated.copy(replies, out, 0, packed);
  return out + packed;
}

function connection(socket: Socket): void {
  const inflater = createInflateRaw(SETTINGS) as unknown as RawZlib;
  inflater.on('error', fail);
  socket.on('close', () => inflater.close());
  let out = 0;
  serveHandFrames(socket, () => 'permessage-deflate; server_no_context_takeover', {
    frame(data, first, maskAt, length) {
      out = echo(inflater, data, maskAt, length, first, out);
    },
    readDone() {
      if (out > 0) socket.write(Buffer.from(replies.subarray(0, out)));
      out = 0;
    },
  });
}

/** Listens on `port` of `host`; resolves with the port it got. */
export function listenNetDeflate(host: string, port: number): Promise<number> {
  const server = createServer(connection);
  return new Promise((resolve) =>
    server.listen(port, host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    }),
  );
}
