// A raw TCP server that answers a WebSocket client's opening handshake itself and hands the
// upgraded socket to a test case as a WsPeer (playing the server side). Connections are routed
// to the waiting case by request path, so cases can run concurrently against one listener.
import net from 'node:net';
import { acceptKey, DEFAULT_TIMEOUT, type HttpHead, readHttpHead, WsPeer } from './peer.js';

export interface AcceptOptions {
  timeoutMs?: number;
  /** Custom raw HTTP response instead of the correct 101 (strings are written as latin1). */
  response?: (key: string) => string | Buffer;
  /** Subprotocol to select in the 101. */
  protocol?: string;
}

export interface Accepted {
  request: HttpHead;
  /** Problems with the client's request per RFC 6455 4.1; empty when it conforms. */
  problems: string[];
  /** The upgraded connection (null when a custom response was sent). */
  peer: WsPeer | null;
  socket: net.Socket;
  rest: Buffer;
}

interface Waiter {
  opts: AcceptOptions;
  resolve: (a: Accepted) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export function checkUpgradeRequest(head: HttpHead): string[] {
  const problems: string[] = [];
  const h = head.headers;
  if (!/^GET \S+ HTTP\/1\.1$/.test(head.startLine))
    problems.push(`request line ${JSON.stringify(head.startLine)}`);
  if (!h.get('host')) problems.push('no Host header');
  if (h.get('upgrade')?.toLowerCase() !== 'websocket') problems.push(`Upgrade header is ${h.get('upgrade')}`);
  const conn = (h.get('connection') ?? '').toLowerCase().split(/\s*,\s*/);
  if (!conn.includes('upgrade')) problems.push(`Connection header is ${h.get('connection')}`);
  const key = h.get('sec-websocket-key') ?? '';
  if (!/^[A-Za-z0-9+/]{22}==$/.test(key) || Buffer.from(key, 'base64').length !== 16)
    problems.push(`Sec-WebSocket-Key ${JSON.stringify(key)} is not 16 base64-encoded bytes`);
  if (h.get('sec-websocket-version') !== '13')
    problems.push(`Sec-WebSocket-Version is ${h.get('sec-websocket-version')}`);
  return problems;
}

export class RawWsServer {
  private readonly waiters = new Map<string, Waiter>();
  private readonly sockets = new Set<net.Socket>();
  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(): Promise<RawWsServer> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const port = (server.address() as net.AddressInfo).port;
    const raw = new RawWsServer(server, port);
    server.on('connection', (socket) => raw.onConnection(socket));
    return raw;
  }

  url(path = '/'): string {
    return `ws://127.0.0.1:${this.port}${path}`;
  }

  /** Waits for a client to request `path`; register before starting the client. */
  accept(path: string, opts: AcceptOptions = {}): Promise<Accepted> {
    return new Promise((resolve, reject) => {
      const timeoutMs = opts.timeoutMs ?? 10_000;
      const timer = setTimeout(() => {
        this.waiters.delete(path);
        reject(new Error(`no client connected to ${path} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(path, { opts, resolve, reject, timer });
    });
  }

  /** Stops waiting for `path` (e.g. when the client process died). */
  cancel(path: string, reason: Error): void {
    const w = this.waiters.get(path);
    if (!w) return;
    clearTimeout(w.timer);
    this.waiters.delete(path);
    w.reject(reason);
  }

  private async onConnection(socket: net.Socket): Promise<void> {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    socket.setNoDelay(true);
    let head: HttpHead;
    let rest: Buffer;
    try {
      ({ head, rest } = await readHttpHead(socket, DEFAULT_TIMEOUT));
    } catch {
      socket.destroy();
      return;
    }
    const path = head.startLine.split(' ')[1] ?? '';
    const w = this.waiters.get(path);
    if (!w) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    this.waiters.delete(path);
    clearTimeout(w.timer);
    const problems = checkUpgradeRequest(head);
    const key = head.headers.get('sec-websocket-key') ?? '';
    if (problems.length) {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      w.resolve({ request: head, problems, peer: null, socket, rest });
      return;
    }
    if (w.opts.response) {
      const res = w.opts.response(key);
      socket.write(typeof res === 'string' ? Buffer.from(res, 'latin1') : res);
      socket.resume();
      w.resolve({ request: head, problems, peer: null, socket, rest });
      return;
    }
    let res =
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n`;
    if (w.opts.protocol) res += `Sec-WebSocket-Protocol: ${w.opts.protocol}\r\n`;
    socket.write(`${res}\r\n`);
    w.resolve({ request: head, problems, peer: new WsPeer(socket, 'server', rest), socket, rest });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    for (const [path, w] of this.waiters) {
      clearTimeout(w.timer);
      w.reject(new Error(`raw server closed while waiting for ${path}`));
    }
    this.waiters.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
