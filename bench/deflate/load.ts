/**
 * Load generator for the permessage-deflate benchmark: raw TCP WebSocket clients that offer
 * what browsers offer (`permessage-deflate; client_max_window_bits`), send compressed messages
 * from a precomputed context-takeover sequence (see common.ts) and check every echo by
 * inflating it. Runs in its own process, away from the server.
 *
 *   --mode=hold --url=ws://... --conns=N
 *       opens N connections (checks that permessage-deflate was agreed on each), prints
 *       `OPEN <n> <extensions header>`; then on the stdin line `active` each connection sends
 *       the message once compressed and waits for its echo (`ACTIVE <n> <compressed>`: echoes,
 *       and how many of them came with RSV1 set); `quit` or EOF ends.
 *   --mode=echo --url=... --conns=N --inflight=K --warmup=S --duration=S --size=BYTES
 *       N connections with K messages in flight each; prints `MEASURE` when the window opens
 *       and `RESULT {json}` at its end (with `wire`: echoes received compressed and not, and
 *       their compressed payload bytes, over the whole run).
 *
 * When the server asks for `client_no_context_takeover`, the clients compress every message
 * from an empty window, as they must.
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { constants, inflateRawSync } from 'node:zlib';
import { clientFrame, compressedSequence, jsonMessage, maskKey, OFFER, saturation, TAIL } from './common.js';

const arg = (name: string, fallback: string): string =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const mode = arg('mode', 'hold');
const url = new URL(arg('url', 'ws://127.0.0.1:8080/'));
const conns = Number(arg('conns', '100'));
const inflight = Number(arg('inflight', '8'));
const warmup = Number(arg('warmup', '1'));
const duration = Number(arg('duration', '3'));
const message = jsonMessage(Number(arg('size', '1024')));
/** `--offer=none`: offer no extension (a baseline for the idle memory). */
const offer = arg('offer', 'deflate') === 'none' ? null : OFFER;
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function fatal(text: string): never {
  process.stdout.write(`ERROR ${text}\n`);
  process.exit(1);
}

/** Checks echoes: inflates with the history a real client would have (the message, repeated). */
class Verifier {
  private readonly saturated: number;
  private readonly dictionaries: Buffer[] = [];
  /** Payloads already checked in the saturated state (they decode the same every time). */
  private readonly known: Buffer[] = [];

  constructor(readonly windowBits: number) {
    this.saturated = saturation(message, windowBits);
    for (let k = 0; k <= this.saturated; k++) this.dictionaries.push(Buffer.concat(Array(k).fill(message)));
  }

  /** `index`: how many messages this connection received before this one. */
  check(payload: Buffer, compressed: boolean, index: number): void {
    if (!compressed) {
      if (!payload.equals(message)) fatal('an uncompressed echo differs');
      return;
    }
    const k = Math.min(index, this.saturated);
    if (k === this.saturated) for (const known of this.known) if (known.equals(payload)) return;
    const inflated = inflateRawSync(Buffer.concat([payload, TAIL]), {
      windowBits: 15,
      finishFlush: constants.Z_SYNC_FLUSH,
      dictionary: k > 0 ? this.dictionaries[k] : undefined,
    });
    if (!inflated.equals(message))
      fatal(`echo ${index} inflates to ${inflated.length} bytes, not the message`);
    if (k === this.saturated && this.known.length < 16) this.known.push(Buffer.from(payload));
  }
}

interface Conn {
  socket: Socket;
  key: Buffer;
  extensions: string;
  pending: Buffer | null;
  received: number;
  sent: number;
  /** echo mode: this connection's masked frames, the last one repeating. */
  frames: Buffer[];
  onMessage: (conn: Conn, payload: Buffer, compressed: boolean) => void;
}

function open(onMessage: Conn['onMessage']): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: url.hostname, port: Number(url.port) });
    socket.setNoDelay(true);
    const key = randomBytes(16).toString('base64');
    let head = Buffer.alloc(0);
    socket.once('error', reject);
    socket.on('connect', () => {
      socket.write(
        `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
          (offer === null ? '\r\n' : `Sec-WebSocket-Extensions: ${offer}\r\n\r\n`),
      );
    });
    const onHead = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onHead);
      const text = head.subarray(0, end).toString('latin1');
      const expected = createHash('sha1')
        .update(key + GUID)
        .digest('base64');
      if (!text.startsWith('HTTP/1.1 101')) return reject(new Error(`no 101: ${text.split('\r\n')[0]}`));
      if (
        !new RegExp(`^sec-websocket-accept:\\s*${expected.replace(/[+/]/g, '\\$&')}\\s*$`, 'im').test(text)
      ) {
        return reject(new Error('bad Sec-WebSocket-Accept'));
      }
      const extensions = /^sec-websocket-extensions:[ \t]*(.*)$/im.exec(text)?.[1].trim() ?? '';
      if (offer === null ? extensions !== '' : !extensions.startsWith('permessage-deflate')) {
        return reject(new Error(`unexpected extensions: "${extensions}"`));
      }
      const conn: Conn = {
        socket,
        key: maskKey(),
        extensions,
        pending: null,
        received: 0,
        sent: 0,
        frames: [],
        onMessage,
      };
      socket.on('data', (data: Buffer) => receive(conn, data));
      socket.off('error', reject);
      socket.on('error', (error) => fatal(`socket error: ${error.message}`));
      socket.on('close', () => {
        if (!stopping) fatal('the server closed a connection');
      });
      const rest = head.subarray(end + 4);
      if (rest.length > 0) receive(conn, rest);
      resolve(conn);
    };
    socket.on('data', onHead);
  });
}

/** Server frames: unmasked, whole messages (fragments are not expected from an echo). */
function receive(conn: Conn, data: Buffer): void {
  const buf = conn.pending === null ? data : Buffer.concat([conn.pending, data]);
  let pos = 0;
  for (;;) {
    if (buf.length - pos < 2) break;
    const first = buf[pos];
    let length = buf[pos + 1] & 0x7f;
    let at = pos + 2;
    if (length === 126) {
      if (buf.length - pos < 4) break;
      length = buf.readUInt16BE(at);
      at += 2;
    } else if (length === 127) {
      if (buf.length - pos < 10) break;
      length = buf.readUInt32BE(at + 4);
      at += 8;
    }
    if (buf.length < at + length) break;
    const payload = buf.subarray(at, at + length);
    pos = at + length;
    const opcode = first & 0x0f;
    if (opcode === 0x9) {
      conn.socket.write(clientFrame(0xa, payload, false, conn.key));
    } else if (opcode === 0x8) {
      fatal(`the server closed: ${payload.length >= 2 ? payload.readUInt16BE(0) : 1005}`);
    } else if (opcode === 0x1 || opcode === 0x2) {
      if ((first & 0x80) === 0) fatal('a fragmented echo');
      conn.onMessage(conn, payload, (first & 0x40) !== 0);
    }
  }
  conn.pending = pos === buf.length ? null : Buffer.from(buf.subarray(pos));
}

let stopping = false;

async function openAll(count: number, onMessage: Conn['onMessage']): Promise<Conn[]> {
  const all: Conn[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      all.push(await open(onMessage));
    }
  };
  await Promise.all(Array.from({ length: Math.min(100, count) }, worker));
  return all;
}

function clientWindowBits(extensions: string): number {
  const match = /client_max_window_bits=(\d+)/.exec(extensions);
  return match === null ? 15 : Number(match[1]);
}

/**
 * What a client sends when the server asked for `client_no_context_takeover` (uWS does unless
 * it has a dedicated decompressor): every message compressed from an empty window, which is
 * the first payload of the context-takeover sequence, again and again.
 */
function clientPayloads(sequence: Buffer[], extensions: string): Buffer[] {
  return /(^|;)\s*client_no_context_takeover\s*(;|$)/.test(extensions) ? [sequence[0]] : sequence;
}

/** Echoes by how they came over the wire: RSV1 set or not, and compressed payload bytes. */
const wire = { compressed: 0, plain: 0, compressedBytes: 0 };
function countWire(payload: Buffer, compressed: boolean): void {
  if (compressed) {
    wire.compressed++;
    wire.compressedBytes += payload.length;
  } else {
    wire.plain++;
  }
}

async function hold(): Promise<void> {
  let verifier: Verifier | null = null;
  let echoed = 0;
  let done: () => void = () => {};
  const all = await openAll(conns, (conn, payload, compressed) => {
    verifier!.check(payload, compressed, conn.received++);
    countWire(payload, compressed);
    if (++echoed === all.length) done();
  });
  verifier = new Verifier(clientWindowBits(all[0].extensions));
  const first = (await compressedSequence(message, verifier.windowBits))[0];
  process.stdout.write(`OPEN ${all.length} ${all[0].extensions}\n`);
  const input = createInterface({ input: process.stdin });
  input.on('line', async (line) => {
    if (line === 'active') {
      const finished = new Promise<void>((resolve) => (done = resolve));
      for (const conn of all) conn.socket.write(clientFrame(0x1, first, true, conn.key));
      await finished;
      process.stdout.write(`ACTIVE ${echoed} ${wire.compressed}\n`);
    } else if (line === 'quit') {
      input.close();
    }
  });
  input.on('close', () => {
    stopping = true;
    for (const conn of all) conn.socket.destroy();
    process.exit(0);
  });
}

async function echo(): Promise<void> {
  let verifier: Verifier | null = null;
  let count = 0;
  const send = (conn: Conn) => {
    conn.socket.write(conn.frames[Math.min(conn.sent, conn.frames.length - 1)]);
    conn.sent++;
  };
  const all = await openAll(conns, (conn, payload, compressed) => {
    verifier!.check(payload, compressed, conn.received++);
    countWire(payload, compressed);
    count++;
    if (!stopping) send(conn);
  });
  const windowBits = clientWindowBits(all[0].extensions);
  verifier = new Verifier(windowBits);
  const sequence = await compressedSequence(message, windowBits);
  const payloads = clientPayloads(sequence, all[0].extensions);
  for (const conn of all) conn.frames = payloads.map((payload) => clientFrame(0x1, payload, true, conn.key));
  for (const conn of all) for (let i = 0; i < inflight; i++) send(conn);
  await new Promise((resolve) => setTimeout(resolve, warmup * 1000));
  const startCount = count;
  const started = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  process.stdout.write('MEASURE\n');
  await new Promise((resolve) => setTimeout(resolve, duration * 1000));
  const echoes = count - startCount;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  const cpuPct = ((cpu.user + cpu.system) / 1e6 / seconds) * 100;
  stopping = true;
  process.stdout.write(
    `RESULT ${JSON.stringify({
      echoes,
      seconds,
      perSecond: echoes / seconds,
      cpuPct,
      extensions: all[0].extensions,
      wire: { ...wire, sentBytes: payloads[payloads.length - 1].length, messageBytes: message.length },
    })}\n`,
  );
  for (const conn of all) conn.socket.destroy();
  process.exit(0);
}

if (mode === 'hold') await hold();
else if (mode === 'echo') await echo();
else fatal(`unknown --mode=${mode}`);
