import { loadavg } from 'node:os';
import { count, ms, RATE_UNIT } from './format.js';
import type { Histogram } from './histogram.js';
import type { BenchMode, BenchOptions } from './options.js';
import type { RunResult } from './primary.js';

/**
 * The result of a run: one JSON object for machines (`--json`), or a summary with a latency
 * histogram drawn in text for people.
 */

/** What the latency of each mode measures. */
const LATENCY_OF: Record<BenchMode, string> = {
  echo: 'round trip: send to its echo',
  connect: 'TCP connect to the 101 response',
  idle: 'TCP connect to the 101 response',
  broadcast: 'publish to delivery',
};

/** Rows of the drawn histogram at most; wider ranges take bigger steps. */
const MAX_ROWS = 24;
const BAR_WIDTH = 40;

export function totalErrors(result: RunResult): number {
  return Object.values(result.errors).reduce((sum, value) => sum + value, 0);
}

function rate(result: RunResult): number {
  return result.seconds > 0 ? result.operations / result.seconds : 0;
}

/** Milliseconds, rounded to the microsecond, as JSON numbers. */
function jsonMs(microseconds: number): number {
  return Math.round(microseconds) / 1000;
}

function latencyJson(histogram: Histogram, mode: BenchMode): Record<string, unknown> {
  return {
    of: LATENCY_OF[mode],
    unit: 'ms',
    count: histogram.count,
    min: jsonMs(histogram.min),
    mean: jsonMs(histogram.mean),
    p50: jsonMs(histogram.percentile(50)),
    p90: jsonMs(histogram.percentile(90)),
    p99: jsonMs(histogram.percentile(99)),
    'p99.9': jsonMs(histogram.percentile(99.9)),
    max: jsonMs(histogram.max),
  };
}

interface ServerFigures {
  readonly pid: number;
  readonly rssBeforeKiB: number | null;
  readonly rssEndKiB: number | null;
  readonly perConnectionKiB: number | null;
  readonly cpuPercent: number | null;
}

function serverFigures(options: BenchOptions, result: RunResult): ServerFigures | null {
  const server = result.server;
  if (server === null || options.pid === null) return null;
  const { before, start, end } = server;
  const grown = before.rssKiB === null || end.rssKiB === null ? null : end.rssKiB - before.rssKiB;
  const cpu = start.cpuSeconds === null || end.cpuSeconds === null ? null : end.cpuSeconds - start.cpuSeconds;
  const wall = (end.at - start.at) / 1000;
  return {
    pid: options.pid,
    rssBeforeKiB: before.rssKiB,
    rssEndKiB: end.rssKiB,
    perConnectionKiB: grown === null || result.opened === 0 ? null : round(grown / result.opened, 2),
    cpuPercent: cpu === null || wall <= 0 ? null : round((cpu / wall) * 100, 1),
  };
}

function round(value: number, decimals: number): number {
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale;
}

/** The result as one JSON object. */
export function reportJson(options: BenchOptions, result: RunResult): Record<string, unknown> {
  const perSecond = round(rate(result), 1);
  const byMode: Record<BenchMode, Record<string, unknown>> = {
    echo: {
      connections: result.opened,
      depth: options.depth,
      size: options.size,
      text: options.text,
      messages: result.operations,
      messagesPerSecond: perSecond,
      bytesPerSecond: Math.round(perSecond * options.size),
    },
    connect: {
      concurrency: options.concurrency,
      handshakes: result.operations,
      handshakesPerSecond: perSecond,
    },
    idle: { connections: result.opened, held: options.duration },
    broadcast: {
      format: options.format,
      topic: options.topic,
      publishedBy: options.publishUrl ?? 'websocket',
      subscribers: result.opened,
      size: options.size,
      publishes: result.publishes,
      deliveries: result.operations,
      expectedDeliveries: result.expectedDeliveries,
      deliveriesPerSecond: perSecond,
      messagesPerSecond: perSecond,
    },
  };
  return {
    mode: options.mode,
    url: options.url,
    workers: result.workers,
    ...byMode[options.mode],
    seconds: round(result.seconds, 3),
    latency: latencyJson(result.latency, options.mode),
    errors: totalErrors(result),
    errorKinds: result.errors,
    errorSamples: result.samples,
    deflate: options.deflate,
    clientCpuPercent: result.seconds > 0 ? round((result.clientCpuSeconds / result.seconds) * 100, 1) : null,
    server: serverFigures(options, result),
    loadAverage: loadavg().map((value) => round(value, 2)),
    interrupted: result.interrupted,
  };
}

/** The summary for people: what ran, the figures, the errors, the latency histogram. */
export function reportText(options: BenchOptions, result: RunResult): string {
  const lines: string[] = [`wsx bench ${options.mode} ${options.url}: ${whatRan(options, result)}`];
  const add = (label: string, text: string) => lines.push(`  ${label.padEnd(13)}${text}`);
  const perSecond = `${count(rate(result))} ${RATE_UNIT[options.mode]}`;
  const seconds = `${result.seconds.toFixed(2)} s`;
  switch (options.mode) {
    case 'echo':
      add('messages', `${count(result.operations)} echoes in ${seconds}: ${perSecond}`);
      break;
    case 'connect':
      add('handshakes', `${count(result.operations)} in ${seconds}: ${perSecond}`);
      break;
    case 'idle':
      add('connections', `${count(result.opened)} held for ${options.duration} s`);
      break;
    case 'broadcast':
      add('publishes', count(result.publishes ?? 0));
      add(
        'deliveries',
        `${count(result.operations)} of ${count(result.expectedDeliveries ?? 0)} in ${seconds}: ${perSecond}`,
      );
      break;
  }
  const latency = result.latency;
  add(
    'latency (ms)',
    latency.count === 0
      ? 'none recorded'
      : `min ${ms(latency.min)}  p50 ${ms(latency.percentile(50))}  p90 ${ms(latency.percentile(90))}  ` +
          `p99 ${ms(latency.percentile(99))}  p99.9 ${ms(latency.percentile(99.9))}  max ${ms(latency.max)}`,
  );
  const errors = totalErrors(result);
  const kinds = Object.entries(result.errors).map(([kind, value]) => `${kind} ${count(value)}`);
  add('errors', errors === 0 ? '0' : `${count(errors)} (${kinds.join(', ')})`);
  for (const sample of result.samples) add('', sample);
  if (result.seconds > 0) {
    const percent = (result.clientCpuSeconds / result.seconds) * 100;
    add(
      'client CPU',
      `${percent.toFixed(0)}% of a core (${result.workers} worker${result.workers === 1 ? '' : 's'})`,
    );
  }
  const server = serverFigures(options, result);
  if (server !== null) {
    const cpu = server.cpuPercent === null ? '' : `CPU ${server.cpuPercent.toFixed(0)}% of a core; `;
    const rss =
      server.rssBeforeKiB === null || server.rssEndKiB === null
        ? 'RSS unknown'
        : `RSS ${count(server.rssBeforeKiB)} KiB before connecting, ${count(server.rssEndKiB)} KiB at the end` +
          (server.perConnectionKiB === null
            ? ''
            : ` (${server.perConnectionKiB.toFixed(2)} KiB per connection)`);
    add('server', `pid ${server.pid}: ${cpu}${rss}`);
  }
  add(
    'load average',
    loadavg()
      .map((value) => value.toFixed(2))
      .join(' '),
  );
  if (result.interrupted) add('', 'interrupted: the figures cover the time until ^C');
  if (latency.count > 0) {
    lines.push('', `  latency histogram (${LATENCY_OF[options.mode]}), ms:`);
    lines.push(...drawHistogram(latency));
  }
  return `${lines.join('\n')}\n`;
}

function whatRan(options: BenchOptions, result: RunResult): string {
  const workers = `${result.workers} worker${result.workers === 1 ? '' : 's'}`;
  const deflate = options.deflate ? ', deflate offered' : '';
  switch (options.mode) {
    case 'echo':
      return (
        `${count(result.opened)} connections × ${options.depth} in flight, ${count(options.size)}-byte ` +
        `${options.text ? 'text' : 'binary'} messages, ${workers}${deflate}`
      );
    case 'connect':
      return `${options.concurrency} handshakes at a time, ${workers}${deflate}`;
    case 'idle':
      return `${count(result.opened)} idle connections, ${workers}${deflate}`;
    case 'broadcast':
      return (
        `${count(result.opened)} subscribers (${options.format}), ` +
        `${options.rate > 0 ? `${options.rate} publishes/s` : `${options.depth} publish(es) in flight`}, ${workers}`
      );
  }
}

/**
 * Text bars of the latency distribution: rows of equal ratio (half an octave, or a whole one
 * when the range is wide), from the lowest value to the highest.
 */
export function drawHistogram(histogram: Histogram): string[] {
  const low = Math.max(1, histogram.min);
  const high = Math.max(low, histogram.max);
  const octaves = Math.log2(high / low) + 1;
  const step = octaves * 2 <= MAX_ROWS ? Math.SQRT2 : 2 ** Math.ceil(octaves / MAX_ROWS);
  // A row holds what lies from its edge up to the next one; the first starts at the lowest value.
  const edges: number[] = [low, low * step];
  while (edges.at(-1)! <= high) edges.push(edges.at(-1)! * step);
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (const bucket of histogram.buckets()) {
    const middle = (bucket.low + bucket.high) / 2;
    let row = 0;
    while (row < counts.length - 1 && middle >= edges[row + 1]) row++;
    counts[row] += bucket.count;
  }
  // The last edge may lie past the highest value's bucket.
  while (counts.length > 1 && counts.at(-1) === 0) counts.pop();
  const most = Math.max(...counts);
  const lows = counts.map((_, row) => ms(edges[row]));
  const highs = counts.map((_, row) => ms(edges[row + 1]));
  const lowWidth = Math.max(...lows.map((label) => label.length));
  const highWidth = Math.max(...highs.map((label) => label.length));
  const labels = lows.map((low, row) => `${low.padStart(lowWidth)} - ${highs[row].padStart(highWidth)}`);
  return counts.map((value, row) => {
    const width = Math.round((value / most) * BAR_WIDTH);
    const bar = width === 0 && value > 0 ? '▏' : '█'.repeat(width);
    const percent = ((value / histogram.count) * 100).toFixed(1);
    return `  ${labels[row]}  ${bar.padEnd(BAR_WIDTH)} ${count(value).padStart(10)} ${percent.padStart(5)}%`;
  });
}
