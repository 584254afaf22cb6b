// What the HTTP/2 tests share: the test certificate, a wsx echo server on one TLS port for
// h2 and HTTP/1.1, and a raw RFC 8441 client on Node's own http2 module, to send what the
// wsx client never would.

import { readFileSync } from 'node:fs';
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect as http2Connect,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import { createServer, type ServerOptions, type Socket, type WebSocketServer } from '../../src/index.js';
import { within } from '../shared/wait.js';

const fixtures = new URL('../../../test/fixtures/', import.meta.url);
export const TLS = {
  cert: readFileSync(new URL('cert.pem', fixtures)),
  key: readFileSync(new URL('key.pem', fixtures)),
};
/** Client TLS options for the self-signed test certificate. */
export const CLIENT_TLS = { rejectUnauthorized: false };

/** Sockets the server opened, in order, for assertions on their protocol. */
export interface EchoServer {
  readonly server: WebSocketServer;
  readonly port: number;
  readonly opened: Socket[];
}

/** A wsx server with an echo route at /echo, listening with `http2` (TLS unless `cleartext`). */
export async function echoServer(
  options: ServerOptions = {},
  listen: { cleartext?: boolean; http2?: boolean } = {},
): Promise<EchoServer> {
  const server = createServer(options);
  const opened: Socket[] = [];
  server.route('/echo', {
    protocols: ['chat'],
    open: (socket) => {
      opened.push(socket);
    },
    message: (socket, data, isBinary) => {
      socket.send(data, { binary: isBinary });
    },
  });
  const { port } = await server.listen({
    tls: listen.cleartext === true ? undefined : TLS,
    http2: listen.http2 ?? true,
    request: (request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end(`plain ${request.httpVersion}`);
    },
  });
  return { server, port, opened };
}

/** A raw HTTP/2 session, once the server's first SETTINGS have arrived. */
export async function rawSession(port: number, secure = true): Promise<ClientHttp2Session> {
  const session = http2Connect(`${secure ? 'https' : 'http'}://localhost:${port}`, CLIENT_TLS);
  session.on('error', () => {});
  await within(
    5_000,
    'the server SETTINGS',
    new Promise((resolve) => session.once('remoteSettings', resolve)),
  );
  return session;
}

/** Sends an extended CONNECT (or whatever `headers` say) and waits for the response headers. */
export async function request(
  session: ClientHttp2Session,
  headers: OutgoingHttpHeaders,
): Promise<{ status: number; headers: IncomingHttpHeaders; stream: ClientHttp2Stream }> {
  const stream = session.request(headers, { endStream: false });
  stream.on('error', () => {});
  const response = await within(
    5_000,
    'the response headers',
    new Promise<IncomingHttpHeaders>((resolve, reject) => {
      stream.once('response', resolve);
      stream.once('close', () => reject(new Error(`stream closed, RST code ${stream.rstCode}`)));
    }),
  );
  return { status: Number(response[':status']), headers: response, stream };
}

/** The headers of an extended CONNECT for a WebSocket on `path`. */
export function websocketConnect(
  port: number,
  path: string,
  extra: OutgoingHttpHeaders = {},
): OutgoingHttpHeaders {
  return {
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': 'https',
    ':authority': `localhost:${port}`,
    ':path': path,
    'sec-websocket-version': '13',
    ...extra,
  };
}

/** Reads a stream's body to its end. */
export async function body(stream: ClientHttp2Stream): Promise<string> {
  let text = '';
  stream.setEncoding('utf8');
  for await (const chunk of stream) text += chunk;
  return text;
}
