import { connect as netConnect } from 'node:net';
import { within } from '../shared/wait.js';

export { within };

/** A promise with its resolve function, for events delivered to shared handlers. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A valid client handshake for `path`, with header lines added or replaced. */
export function upgradeRequest(
  path: string,
  overrides: Record<string, string | null> = {},
  method = 'GET',
): string {
  const headers: Record<string, string | null> = {
    Host: '127.0.0.1',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version': '13',
    ...overrides,
  };
  let text = `${method} ${path} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(headers)) if (value !== null) text += `${name}: ${value}\r\n`;
  return `${text}\r\n`;
}

/** Sends raw bytes to a port and collects everything until the server closes (or `ms`). */
export function exchange(port: number, request: string | Buffer, ms = 3000): Promise<string> {
  return within(
    ms,
    'the server to answer and close',
    new Promise<string>((resolve, reject) => {
      const socket = netConnect(port, '127.0.0.1', () => socket.write(request));
      const chunks: Buffer[] = [];
      socket.on('data', (chunk) => chunks.push(chunk));
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    }),
  );
}

/** Sends a handshake and resolves with the response head once it has arrived (connection left open). */
export function responseHead(
  port: number,
  request: string,
  ms = 3000,
): Promise<{ head: string; close(): void }> {
  return within(
    ms,
    'a response head',
    new Promise((resolve, reject) => {
      const socket = netConnect(port, '127.0.0.1', () => socket.write(request));
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString('latin1');
        const end = text.indexOf('\r\n\r\n');
        if (end !== -1) resolve({ head: text.slice(0, end), close: () => socket.destroy() });
      });
      socket.on('error', reject);
    }),
  );
}
