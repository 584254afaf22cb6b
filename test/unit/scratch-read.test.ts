import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { createServer as createTlsServer, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { LEND_FROM, scratchReader } from '../../src/node/scratch-read.js';
import type { Transport } from '../../src/node/transport.js';
import { kernelReadMemory } from '../../src/protocol/mask.js';
import { tcpPair } from './tcp-pair.js';

/** `size` bytes where every 4-byte word holds its own offset: any misplaced byte shows. */
function numbered(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let at = 0; at + 4 <= size; at += 4) bytes.writeUInt32LE(at, at);
  return bytes;
}

/** Writes `data` in pieces of varying sizes (many reads, some fuller than the scratch). */
function writeInPieces(socket: Socket, data: Buffer): void {
  let at = 0;
  for (let step = 1; at < data.length; step++) {
    const size = (step * 7919) % 100_000;
    socket.write(data.subarray(at, at + size));
    at += size;
  }
  socket.end();
}

/** A reader that keeps views of what it reads: large reads are copied for it too. */
const keepsViews = () => false;

describe('reading plain TCP sockets through the shared scratch', () => {
  it('hands each read on in a buffer of its own, whose bytes later reads leave alone', async (t) => {
    const { server, client } = await tcpPair(t);
    const chunks: Buffer[] = [];
    function onChunk(this: Transport, chunk: Buffer): void {
      assert.equal(this, server);
      chunks.push(chunk);
    }
    server.on('data', onChunk);
    assert.equal(scratchReader(onChunk, keepsViews)(server), true);
    const sent = numbered(3 * 1024 * 1024);
    writeInPieces(client, sent);
    await once(server, 'end');
    // Every chunk is kept until the end: had one been a view of the reused scratch, the
    // later reads would have overwritten it.
    assert.ok(chunks.length > 48, `${chunks.length} reads`);
    assert.ok(chunks.every((chunk) => chunk.length <= 64 * 1024));
    assert.ok(Buffer.concat(chunks).equals(sent));
  });

  it('two sockets read through the one scratch keep their bytes apart', async (t) => {
    const first = await tcpPair(t);
    const second = await tcpPair(t);
    const received = new Map<Socket, Buffer[]>([
      [first.server, []],
      [second.server, []],
    ]);
    function onChunk(this: Transport, chunk: Buffer): void {
      received.get(this as Socket)!.push(chunk);
    }
    const read = scratchReader(onChunk, keepsViews);
    for (const { server } of [first, second]) {
      server.on('data', onChunk);
      assert.equal(read(server), true);
    }
    const a = numbered(512 * 1024);
    const b = Buffer.from(numbered(512 * 1024).map((byte) => byte ^ 0xff));
    writeInPieces(first.client, a);
    writeInPieces(second.client, b);
    await Promise.all([once(first.server, 'end'), once(second.server, 'end')]);
    assert.ok(Buffer.concat(received.get(first.server)!).equals(a));
    assert.ok(Buffer.concat(received.get(second.server)!).equals(b));
  });

  it("another listener of the socket's data hears every byte too, after the reader", async (t) => {
    const { server, client } = await tcpPair(t);
    const order: string[] = [];
    const ours: Buffer[] = [];
    const theirs: Buffer[] = [];
    function onChunk(this: Transport, chunk: Buffer): void {
      order.push('ours');
      ours.push(chunk);
    }
    server.on('data', onChunk);
    assert.equal(scratchReader(onChunk, keepsViews)(server), true);
    server.on('data', (chunk: Buffer) => {
      order.push('theirs');
      theirs.push(chunk);
    });
    const sent = numbered(256 * 1024);
    writeInPieces(client, sent);
    await once(server, 'end');
    assert.ok(Buffer.concat(ours).equals(sent));
    assert.ok(Buffer.concat(theirs).equals(sent));
    assert.deepEqual(order.slice(0, 2), ['ours', 'theirs']);
  });

  it('loses nothing when the reader pauses the socket and resumes it a turn later, again and again', async (t) => {
    const { server, client } = await tcpPair(t);
    const chunks: Buffer[] = [];
    let reads = 0;
    function onChunk(this: Transport, chunk: Buffer): void {
      chunks.push(chunk);
      // Every fifth read pauses; the resume comes from a later turn of the event loop.
      if (++reads % 5 === 0) {
        server.pause();
        setImmediate(() => server.resume());
      }
    }
    server.on('data', onChunk);
    assert.equal(scratchReader(onChunk, keepsViews)(server), true);
    const sent = numbered(1024 * 1024);
    writeInPieces(client, sent);
    await once(server, 'end');
    assert.ok(reads >= 10, `${reads} reads`);
    assert.ok(Buffer.concat(chunks).equals(sent));
  });

  it("lends reads of 2 KiB and more as views of one scratch (the masking kernel's memory), and copies the rest", async (t) => {
    const { server, client } = await tcpPair(t);
    const pieces: Buffer[] = [];
    const lentMemory = new Set<ArrayBufferLike>();
    let lent = 0;
    let copied = 0;
    let firstArrived: () => void = () => {};
    function onChunk(this: Transport, chunk: Buffer): void {
      copied++;
      assert.ok(chunk.length < LEND_FROM);
      pieces.push(chunk);
      firstArrived();
    }
    function onLent(this: Transport, chunk: Buffer): boolean {
      lent++;
      assert.ok(chunk.length >= LEND_FROM);
      lentMemory.add(chunk.buffer);
      pieces.push(Buffer.from(chunk)); // the reader's copy: the view is valid for this call only
      return true;
    }
    server.on('data', onChunk);
    assert.equal(scratchReader(onChunk, onLent)(server), true);
    // A small write arrives as a small read...
    const small = numbered(100);
    await new Promise<void>((resolve) => {
      firstArrived = resolve;
      client.write(small);
    });
    // ...and a large one, queued in the kernel while the server is paused, as full reads.
    server.pause();
    const large = numbered(1024 * 1024);
    await new Promise((resolve) => client.write(large, resolve));
    server.resume();
    client.end();
    await once(server, 'end');
    assert.ok(Buffer.concat(pieces).equals(Buffer.concat([small, large])));
    assert.ok(lent > 0 && copied > 0, `${lent} lent, ${copied} copied`);
    assert.equal(lentMemory.size, 1, 'every lent read is a view of the same memory');
    assert.equal([...lentMemory][0], kernelReadMemory()!.buffer, "the masking kernel's read memory");
  });

  it("leaves a socket made with its own onread buffer as it was: the owner's callback keeps every read", async (t) => {
    const listener = createServer();
    listener.listen(0, '127.0.0.1');
    await once(listener, 'listening');
    const { port } = listener.address() as { port: number };
    const own = Buffer.alloc(1024);
    const received: Buffer[] = [];
    const client = connect({
      port,
      host: '127.0.0.1',
      onread: {
        buffer: own,
        callback: (bytes: number, buffer: Uint8Array): boolean => {
          received.push(Buffer.from(buffer.subarray(0, bytes)));
          return true;
        },
      },
    });
    const [server] = (await once(listener, 'connection')) as [Socket];
    t.after(() => {
      server.destroy();
      client.destroy();
      listener.close();
    });
    await once(client, 'connect');
    const onChunk = () => assert.fail('the scratch reader took a read');
    client.on('data', onChunk);
    assert.equal(scratchReader(onChunk, keepsViews)(client), false);
    const sent = numbered(64 * 1024);
    server.end(sent);
    await once(client, 'end');
    assert.ok(Buffer.concat(received).equals(sent));
  });

  it('leaves a TLS socket as it was: its data keeps arriving as data events', async (t) => {
    const fixtures = new URL('../../../test/fixtures/', import.meta.url);
    const listener = createTlsServer({
      key: readFileSync(new URL('key.pem', fixtures)),
      cert: readFileSync(new URL('cert.pem', fixtures)),
    });
    listener.listen(0, '127.0.0.1');
    await once(listener, 'listening');
    const { port } = listener.address() as { port: number };
    const client = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false });
    const [server] = (await once(listener, 'secureConnection')) as [TLSSocket];
    t.after(() => {
      server.destroy();
      client.destroy();
      listener.close();
    });
    const chunks: Buffer[] = [];
    const onChunk = (chunk: Buffer) => chunks.push(chunk);
    server.on('data', onChunk);
    assert.equal(scratchReader(onChunk, keepsViews)(server), false);
    client.end('over TLS');
    await once(server, 'end');
    assert.equal(Buffer.concat(chunks).toString(), 'over TLS');
  });
});
