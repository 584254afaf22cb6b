// Shared helpers of the client tests: servers (wsx's own, raw TCP with a hand-made handshake,
// `wsx serve` child processes), free ports, and waiting with a bound.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  createServer as createNetServer,
  type Server as NetServer,
  type Socket as NetSocket,
} from 'node:net';
import { fileURLToPath } from 'node:url';
import { createServer, type Socket, type WebSocketServer } from '../../src/index.js';
import { acceptKey } from '../../src/protocol/handshake/accept.js';
import { listeningUrl } from '../shared/cli.js';
import { readFrames } from '../shared/frames.js';
import { sleep, until, within } from '../shared/wait.js';

export { readFrames, sleep, until, within };

export const CLI = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));
export const NODE = process.env.WSX_NODE ?? process.execPath;
export const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));

export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A port that was free a moment ago. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createNetServer();
  server.listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export interface UpgradeSeen {
  path: string;
  headers: Record<string, string>;
}

export interface EchoServer {
  server: WebSocketServer;
  url: string;
  port: number;
  /** Every upgrade request, in order. */
  upgrades: UpgradeSeen[];
  /** Close codes and reasons the server's sockets reported. */
  closes: Array<{ code: number; reason: string }>;
  sockets: Set<Socket>;
  /** Pings the server's sockets have received (each answered with a pong). */
  pings(): number;
  close(): Promise<void>;
}

/** wsx's server, echoing every message with its type on every path; records what it sees. */
export async function echoServer(
  options: {
    host?: string;
    protocols?: string[];
    welcome?: string;
    tls?: { cert: Buffer; key: Buffer };
  } = {},
): Promise<EchoServer> {
  const upgrades: UpgradeSeen[] = [];
  const closes: Array<{ code: number; reason: string }> = [];
  const sockets = new Set<Socket>();
  let pings = 0;
  const server = createServer({ handshakeTimeout: 5000, closeTimeout: 2000 });
  server.route('/*', {
    protocols: options.protocols ?? [],
    upgrade(context) {
      const headers: Record<string, string> = {};
      for (const name of ['authorization', 'cookie', 'x-custom', 'user-agent', 'host']) {
        const value = context.headers.list(name);
        if (value !== undefined) headers[name] = value;
      }
      const query = context.query.toString();
      upgrades.push({ path: `${context.path}${query ? `?${query}` : ''}`, headers });
      return {};
    },
    open(socket) {
      sockets.add(socket);
      if (options.welcome !== undefined) socket.sendText(options.welcome);
    },
    message(socket, data, isBinary) {
      if (isBinary) socket.sendBinary(data);
      else socket.sendText(data);
    },
    ping() {
      pings++;
    },
    close(socket, code, reason) {
      sockets.delete(socket);
      closes.push({ code, reason });
    },
  });
  const host = options.host ?? '127.0.0.1';
  const address = await server.listen({ port: 0, host, tls: options.tls });
  const scheme = options.tls ? 'wss' : 'ws';
  return {
    server,
    url: `${scheme}://${host}:${address.port}/`,
    port: address.port,
    upgrades,
    closes,
    sockets,
    pings: () => pings,
    close: async () => {
      await server.close({ code: 1001, timeout: 500 });
    },
  };
}

/** Reads an HTTP request head from a raw socket; resolves with it and the bytes after it. */
export function readRequest(
  socket: NetSocket,
): Promise<{ head: string; headers: Record<string, string>; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      socket.pause();
      const head = buffered.subarray(0, end).toString('latin1');
      const headers: Record<string, string> = {};
      for (const line of head.split('\r\n').slice(1)) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ head, headers, rest: buffered.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.on('error', reject);
  });
}

/** The 101 response for a request's Sec-WebSocket-Key. */
export function acceptResponse(headers: Record<string, string>, extra = ''): string {
  return (
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${acceptKey(headers['sec-websocket-key'])}\r\n${extra}\r\n`
  );
}

/** A raw TCP server: `onSocket` gets each connection (to answer the handshake by hand, or not). */
export async function rawServer(
  onSocket: (socket: NetSocket) => void,
  host = '127.0.0.1',
): Promise<{ server: NetServer; port: number; close(): Promise<void> }> {
  const sockets = new Set<NetSocket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    onSocket(socket);
  });
  server.listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    server,
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** An unmasked server frame. */
export function serverFrame(opcode: number, payload: Buffer | string, fin = true): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const first = (fin ? 0x80 : 0) | opcode;
  if (data.length < 126) return Buffer.concat([Buffer.from([first, data.length]), data]);
  const header = Buffer.alloc(4);
  header[0] = first;
  header[1] = 126;
  header.writeUInt16BE(data.length, 2);
  return Buffer.concat([header, data]);
}

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Runs `wsx serve --echo` on a port (a real child process) and waits for it to listen. */
export async function serveEcho(port: number): Promise<ServeProcess> {
  const child = spawn(NODE, [CLI, 'serve', '--echo', '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await listeningUrl(child, 8000);
  child.stderr!.resume();
  return {
    child,
    url,
    async stop(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    },
  };
}

/** Records the types of events a target fires, in order, with a property of each. */
export function record(
  target: EventTarget,
  types: readonly string[],
  detail: (event: Event) => unknown = () => undefined,
): Array<[string, unknown]> {
  const log: Array<[string, unknown]> = [];
  for (const type of types) target.addEventListener(type, (event) => log.push([type, detail(event)]));
  return log;
}

/** Resolves with the next event of a type. */
export function nextEvent<E extends Event = Event>(target: EventTarget, type: string): Promise<E> {
  return new Promise((resolve) =>
    target.addEventListener(type, (event) => resolve(event as E), { once: true }),
  );
}
