// The wsx library's own client and server, wrapped like `WsPeer` so the interop tests can await
// what they receive. Only the public entry point (src/index.ts) is used.
import {
  type ConnectOptions,
  connect,
  createServer,
  type ListenOptions,
  type ServerOptions,
  type Socket,
  type WebSocketServer,
} from '../../src/index.js';
import { type CloseInfo, Inbox, type Message, withTimeout } from './helpers.js';

/** A socket's messages, pongs, errors and close, captured from its handlers. */
export class Observed {
  /** The socket observed, for acting on it (close, ping). */
  socket!: Socket;
  readonly messages = new Inbox<Message>();
  readonly pongs = new Inbox<Buffer>();
  readonly errors: Error[] = [];
  readonly closed: Promise<CloseInfo>;
  private resolveClosed!: (info: CloseInfo) => void;

  constructor() {
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
  }

  message(data: Buffer, isBinary: boolean): void {
    this.messages.push({ data: Buffer.from(data), isBinary });
  }

  pong(payload: Buffer): void {
    this.pongs.push(Buffer.from(payload));
  }

  close(code: number, reason: string): void {
    const why = `closed (${code} ${reason})`;
    this.messages.end(why);
    this.pongs.end(why);
    this.resolveClosed({ code, reason });
  }

  waitClosed(): Promise<CloseInfo> {
    return withTimeout(this.closed, 'the close handler');
  }
}

/** A client made by the library's `connect()`; with `echo`, it returns every message it gets. */
export class WsxClient extends Observed {
  static async connect(
    url: string,
    options: Omit<ConnectOptions, 'handlers'> & { echo?: boolean } = {},
  ): Promise<WsxClient> {
    const client = new WsxClient();
    const { echo, ...connectOptions } = options;
    client.socket = await withTimeout(
      connect(url, {
        ...connectOptions,
        handlers: {
          message: (ws, data, isBinary) => {
            client.message(data, isBinary);
            if (echo && isBinary) ws.sendBinary(data);
            else if (echo) ws.sendText(data);
          },
          pong: (_ws, payload) => client.pong(payload),
          error: (_ws, error) => client.errors.push(error),
          close: (_ws, code, reason) => client.close(code, reason),
        },
      }),
      `connect(${url})`,
    );
    return client;
  }
}

/**
 * A library server on an ephemeral loopback port whose route echoes every message with its
 * type and records what each socket saw, in connection order; wss:// with `tls`.
 */
export async function startEchoServer(
  options: ServerOptions & { protocols?: readonly string[] } = {},
  tls?: ListenOptions['tls'],
) {
  const sockets = new Inbox<Observed>();
  const observed = new WeakMap<object, Observed>();
  const server: WebSocketServer = createServer(options);
  server.route('/*', {
    open(ws) {
      const seen = new Observed();
      seen.socket = ws;
      observed.set(ws, seen);
      sockets.push(seen);
    },
    message(ws, data, isBinary) {
      observed.get(ws)?.message(data, isBinary);
      if (isBinary) ws.sendBinary(data);
      else ws.sendText(data);
    },
    pong(ws, payload) {
      observed.get(ws)?.pong(payload);
    },
    error(ws, error) {
      observed.get(ws)?.errors.push(error);
    },
    close(ws, code, reason) {
      observed.get(ws)?.close(code, reason);
    },
  });
  const { port } = await withTimeout(
    server.listen({ port: 0, host: '127.0.0.1', tls }),
    'the wsx server to listen',
  );
  return { server, sockets, port, url: `${tls === undefined ? 'ws' : 'wss'}://127.0.0.1:${port}/` };
}
