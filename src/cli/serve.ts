import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Socket } from '../index.js';
import { integerOption, parse, usageError } from './args.js';
import { PAGE } from './page.js';

export const SERVE_HELP = `Usage: wsx serve [options]

Runs a WebSocket server: an echo service on every path, and a page at / that
connects to it and shows what comes back.

Options:
  --port P             port to listen on (default 8080; 0 picks a free one)
  --host H             address to bind (default 127.0.0.1)
  --echo               echo only: no page, every path echoes each message with its type
  --max-payload BYTES  largest message accepted (default 16777216); larger ones close with 1009
  --subprotocol NAME   a subprotocol to accept (repeatable); the first one the client offers wins
  --no-deflate         decline permessage-deflate (accepted by default)
  --cert FILE          TLS certificate (PEM): serve wss:// (needs --key)
  --key FILE           TLS private key (PEM)
  -h, --help           show this help
`;

function echo(socket: Socket, data: Buffer, isBinary: boolean): void {
  if (isBinary) socket.sendBinary(data);
  else socket.sendText(data);
}

export async function serve(argv: string[]): Promise<void> {
  const { values } = parse({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      echo: { type: 'boolean' },
      'max-payload': { type: 'string' },
      subprotocol: { type: 'string', multiple: true },
      'no-deflate': { type: 'boolean' },
      cert: { type: 'string' },
      key: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return;
  }
  const port = integerOption('port', values.port, 8080);
  const host = values.host ?? '127.0.0.1';
  const maxMessageSize = integerOption('max-payload', values['max-payload'], 16 * 1024 * 1024);
  if (maxMessageSize < 1) usageError('--max-payload must be at least 1');
  if ((values.cert === undefined) !== (values.key === undefined)) usageError('--cert and --key go together');
  const tls =
    values.cert !== undefined && values.key !== undefined
      ? { cert: readFileSync(values.cert), key: readFileSync(values.key) }
      : undefined;

  const server = createServer({
    maxMessageSize,
    protocols: values.subprotocol ?? [],
    perMessageDeflate: values['no-deflate'] !== true,
  });
  server.route('/*', { message: echo });
  const request = values.echo ? undefined : servePage;
  // Signal handlers go in before the URL is printed: whoever reads it may signal at once.
  const stop = (signal: string) => {
    process.stderr.write(`wsx: ${signal}, closing ${server.connections} connection(s) with 1001\n`);
    server.close({ code: 1001, reason: 'server shutting down' }).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const address = await server.listen({ port, host, tls, request });
  const scheme = tls ? 'wss' : 'ws';
  const shownHost = address.host.includes(':') ? `[${address.host}]` : address.host;
  process.stdout.write(`wsx listening on ${scheme}://${shownHost}:${address.port}/\n`);
}

function servePage(request: IncomingMessage, response: ServerResponse): void {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return;
  }
  if (request.url !== '/' && !request.url?.startsWith('/?')) {
    response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
    return;
  }
  response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  response.end(request.method === 'HEAD' ? undefined : PAGE);
}
