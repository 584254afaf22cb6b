import { createServer, type ServerOptions, type Socket } from '../index.js';
import { chatRequests, chatRoute } from './chat.js';
import { readTlsPair } from './files.js';
import { resolveServeOptions, SERVE_HELP } from './serve-options.js';

export { SERVE_HELP };

function echo(socket: Socket, data: Buffer, isBinary: boolean): void {
  if (isBinary) socket.sendBinary(data);
  else socket.sendText(data);
}

export async function serve(argv: string[]): Promise<void> {
  const options = resolveServeOptions(argv);
  if (options.help) {
    process.stdout.write(SERVE_HELP);
    return;
  }
  const tls =
    options.cert !== undefined && options.key !== undefined
      ? readTlsPair(options.cert, options.key)
      : undefined;

  const serverOptions: ServerOptions = {
    maxMessageSize: options.maxPayload,
    protocols: options.subprotocols,
    perMessageDeflate: options.deflate,
    maxConnections: options.maxConnections,
    maxConnectionsPerAddress: options.maxConnectionsPerAddress,
    maxBackpressure: options.maxBackpressure,
    backpressurePolicy: options.backpressurePolicy,
    heartbeat:
      options.heartbeatInterval > 0
        ? { interval: options.heartbeatInterval, timeout: options.heartbeatTimeout }
        : false,
    idleTimeout: options.idleTimeout,
  };
  const server = createServer(serverOptions);
  const chat = {
    maxTopics: options.maxTopics,
    maxPayload: options.maxPayload,
    publishToken: options.publishToken,
  };
  if (!options.echo) server.route('/chat', chatRoute(server, chat));
  server.route('/*', { message: echo });
  const request = options.echo ? undefined : chatRequests(server, chat);

  // Signal handlers go in before the URL is printed: whoever reads it may signal at once.
  const stop = (signal: string) => {
    process.stderr.write(`wsx: ${signal}, closing ${server.connections} connection(s) with 1001\n`);
    server.close({ code: 1001, reason: 'server shutting down' }).then((report) => {
      if (report.terminated > 0 || report.closedUncleanly > 0) {
        process.stderr.write(
          `wsx: ${report.closedCleanly} closed cleanly, ${report.closedUncleanly} dropped by the peer, ` +
            `${report.terminated} terminated; ${report.undelivered.bytes} bytes undelivered to ` +
            `${report.undelivered.sockets} socket(s)\n`,
        );
      }
      process.exit(0);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const address = await server.listen({ port: options.port, host: options.host, tls, request });
  const scheme = tls ? 'wss' : 'ws';
  const shownHost = address.host.includes(':') ? `[${address.host}]` : address.host;
  process.stdout.write(`wsx listening on ${scheme}://${shownHost}:${address.port}/\n`);
  if (!options.echo && options.publishToken === undefined && !isLoopback(address.host)) {
    process.stderr.write(
      'wsx: POST /publish/:topic is open to anyone who can reach this address; set --publish-token\n',
    );
  }
}

function isLoopback(host: string): boolean {
  return host === '::1' || host.startsWith('127.') || host === '::ffff:127.0.0.1';
}
