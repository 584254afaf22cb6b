import { Socket as NetSocket } from 'node:net';
import { kernelReadMemory } from '../protocol/mask.js';
import { isPlainTcpSocket, type Transport } from './transport.js';

/**
 * Reads of plain TCP sockets through one scratch buffer shared by all of them.
 *
 * By default Node gives every read a fresh 64 KiB buffer: allocated, zero-filled, read into,
 * cut to the read's size, and pushed through the readable stream to 'data'. With a
 * caller-owned buffer (`net.Socket`'s `onread` option) the kernel reads into the scratch and
 * Node calls back with the byte count: no allocation, no zeroing, no stream machinery.
 *
 * What the reader keeps must not be the scratch, which the next read overwrites. A small read
 * is copied whole into a buffer of its size (from Node's shared pool under 4 KiB, as
 * `Buffer.allocUnsafe` does), which the protocol core then owns as it owned Node's chunks:
 * callgrind, 32 B echoes, 100 connections x 16 in flight, 3,316 instructions per message
 * against 3,725 through 'data'. A larger read is lent (`Connection.receiveLent`): the core
 * copies each message out as it unmasks it, and a long message's pieces go to its own buffer
 * anyway, so no byte is copied twice. Lending small reads too cost more (3,990): a view and
 * a copy per message instead of one copy per read.
 *
 * Where WebAssembly SIMD runs, the scratch is the masking kernel's own memory
 * (`kernelReadMemory`), so a lent read is unmasked where it lies and copied once. A message
 * in a copied read goes into wasm memory and back to be unmasked: two copies more, which is
 * why reads are lent from 2 KiB on (perf, 4 KiB echoes, 50 x 8: 0.27 µs less `memmove` per
 * message than copying reads under 16 KiB).
 *
 * `onread` is a constructor option, which a server's accepted sockets never get, so the same
 * fields the constructor sets are set here. Where this Node does not have them (or the
 * transport is TLS, an HTTP/2 stream, or anything but a plain `net.Socket`), nothing changes
 * and reads keep arriving as 'data'. One scratch serves every socket because each read is
 * handed on, synchronously, before the next one can happen.
 */

/** Node's keys for a socket's caller-owned read buffer, its callback and its generator. */
interface UserBufferKeys {
  readonly buffer: symbol;
  readonly callback: symbol;
  readonly generator: symbol;
}

const SCRATCH_SIZE = 64 * 1024;
/** Reads from this size on are lent rather than copied (see above). */
export const LEND_FROM = 2 * 1024;

/** A transport as Node's socket internals see it, for the fields `onread` sets. */
type InternalSocket = NetSocket & {
  _handle: { useUserBuffer?: (buffer: Uint8Array) => void } | null;
} & Record<symbol, unknown>;

/** Found on a socket made for the purpose: each key's description names it in Node's source. */
function findKeys(): UserBufferKeys | null {
  const probe = new NetSocket();
  const byName = new Map(Object.getOwnPropertySymbols(probe).map((key) => [key.description, key]));
  const buffer = byName.get('kBuffer');
  const callback = byName.get('kBufferCb');
  const generator = byName.get('kBufferGen');
  return buffer && callback && generator ? { buffer, callback, generator } : null;
}

let keys: UserBufferKeys | null | undefined;
let scratch: Buffer | null = null;
let scratchMemory: ArrayBuffer | null = null;
let scratchStart = 0;

/**
 * Returns a function that moves a transport's reads to the scratch, each read handed in a
 * buffer of its own to `onChunk`, the transport's 'data' listener (with the transport as
 * `this`), or emitted as 'data' where others listen as well. A large read goes to `onLent`
 * first, as a view of the scratch valid for that call, and is copied only if `onLent` returns
 * false (its reader keeps views). The function returns false where it left the transport as
 * it was.
 */
export function scratchReader(
  onChunk: (this: Transport, chunk: Buffer) => void,
  onLent: (this: Transport, chunk: Buffer) => boolean,
): (transport: Transport) => boolean {
  // Called by Node after each read: `this` is the socket, `read` the bytes now in the scratch.
  function onRead(this: Transport, read: number): void {
    const alone = (this as { _events?: { data?: unknown } })._events?.data === onChunk;
    if (
      read >= LEND_FROM &&
      alone &&
      onLent.call(this, read === SCRATCH_SIZE ? scratch! : scratch!.subarray(0, read))
    ) {
      return;
    }
    const chunk = Buffer.allocUnsafe(read);
    // A view of the known memory: `Buffer#subarray` would ask V8 for `.buffer` each time.
    chunk.set(read === SCRATCH_SIZE ? scratch! : new Uint8Array(scratchMemory!, scratchStart, read));
    // Someone else listens to the socket's data too (`ws._socket.once('data')`): all of them
    // get it the way Node would have called them.
    if (alone) onChunk.call(this, chunk);
    else (this as unknown as NetSocket).emit('data', chunk);
  }
  return (transport) => {
    if (!isPlainTcpSocket(transport)) return false;
    const socket = transport as InternalSocket;
    const handle = socket._handle;
    if (handle === null || typeof handle.useUserBuffer !== 'function') return false;
    keys ??= findKeys();
    // A socket made with `onread` already reads into its owner's buffer.
    if (keys === null || socket[keys.buffer] !== null || socket[keys.generator] !== null) return false;
    if (scratch === null) {
      // The masking kernel's memory where there is one: frames are unmasked where they were read.
      scratch = kernelReadMemory() ?? Buffer.allocUnsafeSlow(SCRATCH_SIZE);
      scratchMemory = scratch.buffer as ArrayBuffer;
      scratchStart = scratch.byteOffset;
    }
    socket[keys.buffer] = scratch;
    socket[keys.callback] = onRead;
    handle.useUserBuffer(scratch);
    return true;
  };
}
