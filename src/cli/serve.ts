import cluster from 'node:cluster';
import {
  createServer,
  IpcTopicAdapter,
  type ServerOptions,
  type Socket,
  type TopicAdapter,
  type TopicMessage,
} from '../index.js';
import { chatRequests, chatRoute, type WorkerIdentity } from './chat.js';
import { StatsFeed } from './dashboard.js';
import { readTlsPair } from './files.js';
import {
  announce,
  isShutdownRequest,
  type ListeningReport,
  PORT_ENV,
  servePrimary,
} from './serve-cluster.js';
import { resolveServeOptions, SERVE_HELP, type ServeOptions } from './serve-options.js';

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
  // The primary only forks and watches; the workers run the same command and serve.
  if (options.workers > 1 && cluster.isPrimary) return servePrimary(options);
  const topics = await topicAdapterFor(options);
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
    trustProxy: options.trustProxy,
    proxyHeader: options.proxyHeader,
    maxBackpressure: options.maxBackpressure,
    backpressurePolicy: options.backpressurePolicy,
    heartbeat:
      options.heartbeatInterval > 0
        ? { interval: options.heartbeatInterval, timeout: options.heartbeatTimeout }
        : false,
    idleTimeout: options.idleTimeout,
    topicAdapter: topics?.adapter,
    topicEnvelope: topics?.envelope,
  };
  const server = createServer(serverOptions);
  const worker: WorkerIdentity | undefined =
    cluster.worker === undefined ? undefined : { worker: cluster.worker.id, pid: process.pid };
  const chat = {
    maxTopics: options.maxTopics,
    maxPayload: options.maxPayload,
    publishToken: options.publishToken,
    worker,
  };
  if (!options.echo) {
    server.route('/chat', chatRoute(server, chat));
    server.route('/dashboard/live', new StatsFeed(server, { worker }).route);
  }
  server.route('/*', { message: echo });
  const request = options.echo ? undefined : chatRequests(server, chat);

  // Signal handlers go in before the URL is printed: whoever reads it may signal at once.
  const who = worker === undefined ? 'wsx' : `wsx worker ${worker.worker} (pid ${worker.pid})`;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${who}: ${signal}, closing ${server.connections} connection(s) with 1001\n`);
    server.close({ code: 1001, reason: 'server shutting down' }).then((report) => {
      if (report.terminated > 0 || report.closedUncleanly > 0) {
        process.stderr.write(
          `${who}: ${report.closedCleanly} closed cleanly, ${report.closedUncleanly} dropped by the peer, ` +
            `${report.terminated} terminated; ${report.undelivered.bytes} bytes undelivered to ` +
            `${report.undelivered.sockets} socket(s)\n`,
        );
      }
      process.exit(0);
    });
  };
  if (worker === undefined) {
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } else {
    // The primary stops the workers: a Ctrl-C reaches the whole process group, and a worker
    // that stopped on its own would look to the primary like one that crashed.
    process.on('SIGINT', () => {});
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.on('message', (message) => {
      if (isShutdownRequest(message)) stop(message.signal);
    });
  }
  const sharedPort = worker === undefined ? undefined : process.env[PORT_ENV];
  const port = sharedPort === undefined ? options.port : Number(sharedPort);
  const address = await server.listen({ port, host: options.host, tls, request, http2: options.http2 });
  const scheme = tls ? 'wss' : 'ws';
  const shownHost = address.host.includes(':') ? `[${address.host}]` : address.host;
  const url = `${scheme}://${shownHost}:${address.port}/`;
  if (worker !== undefined) {
    // The primary prints the one URL line once every worker listens.
    process.send?.({
      wsx: 'listening',
      url,
      host: address.host,
    } satisfies ListeningReport);
    return;
  }
  announce(url, address.host, options);
}

/**
/**
 * How this process's topics reach the other processes: over Redis with `--redis` (each worker
 * its own adapter, and the primary relays nothing); through the primary (IPC) in a worker;
 * none for a single process.
 */
async function topicAdapterFor(
  options: ServeOptions,
): Promise<{ adapter: TopicAdapter; envelope?: (message: TopicMessage) => string } | undefined> {
  if (options.redis !== undefined && !options.echo) {
    const adapter = await redisAdapter(options.redis, options.redisMode, options.maxPayload);
    const envelope = options.redisMode === 'stream' ? positionedJson : undefined;
    return { adapter, envelope };
  }
  if (!cluster.isWorker) return undefined;
  const adapter = new IpcTopicAdapter();
  return { adapter };
}

/** The Redis adapter; a bad URL or a missing `redis` package is a one-line error. */
async function redisAdapter(
  url: string,
  mode: 'pubsub' | 'stream',
  maxPayload: number,
): Promise<TopicAdapter> {
  try {
    const { createRedisAdapter } = await import('../redis/index.js');
    // A chat message's JSON wraps the client's data, so Redis may carry a little more than a frame.
    return await createRedisAdapter({ url, mode, maxPayload: maxPayload + 64 * 1024 });
  } catch (error) {
    process.stderr.write(`wsx: --redis: ${(error as Error).message}\n`);
    process.exit(2);
  }
}

/**
 * Stream mode: `{"offset":N,"epoch":E,...}` in front of each chat message's own fields (its JSON
 * is an object), so a client can resubscribe with `since` after a reconnect, to any node.
 */
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
