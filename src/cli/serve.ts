import { readFileSync } from 'node:fs';
import { createServer, type ServerOptions, type Socket, type TopicMessage } from '../index.js';
import { chatRequests, chatRoute } from './chat.js';
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
      ? { cert: readFileSync(options.cert), key: readFileSync(options.key) }
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
  const topics =
    options.redis === undefined || options.echo
      ? null
      : await redisTopics(options.redis, options.redisMode, options.maxPayload);
  const server = createServer({ ...serverOptions, ...topics });
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

/**
 * The Redis adapter and, in stream mode, the envelope that puts each chat message's offset and
 * epoch into its JSON, so a client can resubscribe with `since` after a reconnect (to any node).
 */
async function redisTopics(
  url: string,
  mode: 'pubsub' | 'stream',
  maxPayload: number,
): Promise<Pick<ServerOptions, 'topicAdapter' | 'topicEnvelope'>> {
  let adapter: ServerOptions['topicAdapter'];
  try {
    const { createRedisAdapter } = await import('../redis/index.js');
    // A chat message's JSON wraps the client's data, so Redis may carry a little more than a frame.
    adapter = await createRedisAdapter({ url, mode, maxPayload: maxPayload + 64 * 1024 });
  } catch (error) {
    process.stderr.write(`wsx: --redis: ${(error as Error).message}\n`);
    process.exit(2);
  }
  if (mode === 'pubsub') return { topicAdapter: adapter };
  return { topicAdapter: adapter, topicEnvelope: positionedJson };
}

/** `{"offset":N,"epoch":E,...}` in front of the chat message's own fields (its JSON is an object). */
function positionedJson(message: TopicMessage): string {
  const json = Buffer.from(
    message.payload.buffer,
    message.payload.byteOffset,
    message.payload.length,
  ).toString('utf8');
  const position = message.position;
  if (position === null || !json.startsWith('{')) return json;
  const rest = json.length > 2 ? `,${json.slice(1)}` : '}';
  return `{"offset":${position.offset},"epoch":${JSON.stringify(position.epoch)}${rest}`;
}

function isLoopback(host: string): boolean {
  return host === '::1' || host.startsWith('127.') || host === '::ffff:127.0.0.1';
}
