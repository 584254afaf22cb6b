import type { ServerStats } from './stats.js';
import type { AdapterStats } from './topic-adapter.js';

/** The content type of the Prometheus text exposition format (version 0.0.4). */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Sample = readonly [labels: Readonly<Record<string, string>> | null, value: number];

/**
 * Renders server stats in the Prometheus text exposition format, metric names starting with
 * `prefix` (default `wsx`). Counters end in `_total`; gauges do not.
 *
 * @example
 * ```ts
 * import { createServer, PROMETHEUS_CONTENT_TYPE, prometheusText } from 'wsx';
 * const server = createServer();
 * await server.listen({
 *   port: 8080,
 *   request: (request, response) => {
 *     if (request.url !== '/metrics') return void response.writeHead(404).end();
 *     response.writeHead(200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE }).end(prometheusText(server.stats()));
 *   },
 * });
 * ```
 */
export function prometheusText(stats: ServerStats, prefix = 'wsx'): string {
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) throw new RangeError(`invalid metric prefix ${prefix}`);
  let text = '';
  const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: readonly Sample[]) => {
    const full = `${prefix}_${name}`;
    text += `# HELP ${full} ${help}\n# TYPE ${full} ${type}\n`;
    for (const [labels, value] of samples) text += `${full}${formatLabels(labels)} ${formatValue(value)}\n`;
  };
  const one = (value: number): Sample[] => [[null, value]];

  metric('connections', 'gauge', 'Open WebSocket connections.', one(stats.connections.open));
  metric(
    'connections_accepted_total',
    'counter',
    'WebSocket connections opened.',
    one(stats.connections.accepted),
  );
  metric('connections_rejected_total', 'counter', 'Upgrades refused with 503 by a connection limit.', [
    [{ limit: 'max_connections' }, stats.connections.rejected.maxConnections],
    [{ limit: 'max_connections_per_address' }, stats.connections.rejected.maxConnectionsPerAddress],
  ]);
  metric('messages_received_total', 'counter', 'Messages received.', one(stats.messages.in));
  metric('messages_sent_total', 'counter', 'Messages written to sockets.', one(stats.messages.out));
  metric('messages_dropped_total', 'counter', 'Messages not written.', [
    [{ reason: 'backpressure' }, stats.messages.dropped.backpressure],
    [{ reason: 'closing' }, stats.messages.dropped.closing],
  ]);
  metric('bytes_received_total', 'counter', 'Bytes received after the handshake.', one(stats.bytes.in));
  metric('bytes_sent_total', 'counter', 'Bytes written after the handshake.', one(stats.bytes.out));
  metric(
    'slow_consumer_closes_total',
    'counter',
    'Sockets closed with 1013 for exceeding maxBackpressure.',
    one(stats.slowConsumerCloses),
  );
  metric('heartbeat_pings_total', 'counter', 'Heartbeat pings sent.', one(stats.heartbeats.pings));
  metric(
    'heartbeat_timeouts_total',
    'counter',
    'Sockets terminated for not answering heartbeats.',
    one(stats.heartbeats.timeouts),
  );
  metric('idle_closes_total', 'counter', 'Sockets closed by the idle timeout.', one(stats.idleCloses));
  metric(
    'compression_releases_total',
    'counter',
    "Times a quiet socket's zlib contexts were freed.",
    one(stats.compressionReleases),
  );
  metric('topics', 'gauge', 'Topics with at least one subscriber.', one(stats.topics.count));
  metric('subscriptions', 'gauge', 'Topic subscriptions.', one(stats.topics.subscriptions));
  metric('published_total', 'counter', 'Messages published to topics.', one(stats.topics.published));
  metric(
    'publish_failures_total',
    'counter',
    'Publishes the topic adapter refused or could not carry.',
    one(stats.topics.publishFailures),
  );
  metric('recoveries_total', 'counter', 'Topic subscriptions with `since`, by outcome.', [
    [{ outcome: 'recovered' }, stats.topics.recovery.hits],
    [{ outcome: 'not_recovered' }, stats.topics.recovery.misses],
  ]);
  if (stats.adapter !== null) adapterMetrics(stats.adapter, metric);
  metric(
    'closes_total',
    'counter',
    'Closed sockets by close code (1006: no close frame).',
    Object.entries(stats.closes).map(([code, count]): Sample => [{ code }, count]),
  );
  metric('uptime_seconds', 'gauge', 'Seconds since the server started.', one(stats.uptime));
  return text;
}

/**
 * The adapter's numbers, as `adapter_NAME` gauges labelled with its kind (booleans as 0/1);
 * names ending in `Total` become counters.
 */
function adapterMetrics(
  adapter: AdapterStats,
  metric: (name: string, type: 'counter' | 'gauge', help: string, samples: readonly Sample[]) => void,
): void {
  for (const [key, value] of Object.entries(adapter)) {
    if (typeof value !== 'number' && typeof value !== 'boolean') continue;
    const snake = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    const counter = snake.endsWith('_total');
    metric(`adapter_${snake}`, counter ? 'counter' : 'gauge', `Topic adapter: ${key}.`, [
      [{ kind: adapter.kind }, typeof value === 'boolean' ? Number(value) : value],
    ]);
  }
}

function formatLabels(labels: Readonly<Record<string, string>> | null): string {
  if (labels === null) return '';
  const parts = Object.entries(labels).map(
    ([name, value]) => `${name}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
  );
  return `{${parts.join(',')}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}
