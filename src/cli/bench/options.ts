import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { ClientTarget } from '../../client/url.js';
import {
  formatHelpOption,
  type HelpOption,
  headerOptions,
  parse,
  parserOptions,
  usageError,
} from '../args.js';
import { parseTarget, tlsOptions } from '../client-options.js';

/**
 * The options of `wsx bench`, in one table that drives the parser, the checks of which mode
 * takes which option, and `--help`. Every count and time has a default and a ceiling.
 */

export const MODES = ['echo', 'connect', 'idle', 'broadcast'] as const;
export type BenchMode = (typeof MODES)[number];

type Kind = 'count' | 'seconds' | 'boolean' | 'string' | 'strings';

interface OptionSpec extends HelpOption {
  readonly kind: Kind;
  /** The modes that take it; all when absent. */
  readonly modes?: readonly BenchMode[];
  /** Least and greatest value of a number. */
  readonly min?: number;
  readonly max?: number;
}

/** Most connections of one run: one client address reaches one server port through ~28,000 ephemeral ports. */
export const MAX_CONNECTIONS = 50_000;
/** Bytes of echo messages in flight at once, all connections together. */
const MAX_BYTES_IN_FLIGHT = 1024 ** 3;
const MAX_WORKERS = 64;

const OPTIONS: readonly OptionSpec[] = [
  {
    name: 'connections',
    kind: 'count',
    arg: 'N',
    modes: ['echo', 'idle', 'broadcast'],
    min: 1,
    max: MAX_CONNECTIONS,
    help: 'connections (broadcast: subscribers)',
    shownDefault: 'echo 100, idle 1000, broadcast 100',
  },
  {
    name: 'depth',
    kind: 'count',
    arg: 'D',
    modes: ['echo', 'broadcast'],
    min: 1,
    max: 10_000,
    help: 'echo: messages in flight per connection; broadcast: publishes not yet delivered to every subscriber',
    shownDefault: 'echo 8, broadcast 1',
  },
  {
    name: 'size',
    kind: 'count',
    arg: 'BYTES',
    modes: ['echo', 'broadcast'],
    min: 1,
    max: 16 * 1024 * 1024,
    help: 'message size (broadcast: the payload, at least its ~40-byte marker)',
    shownDefault: '32',
  },
  { name: 'text', kind: 'boolean', modes: ['echo'], help: 'send text (multi-byte UTF-8) instead of binary' },
  {
    name: 'messages',
    kind: 'count',
    arg: 'N',
    modes: ['echo', 'broadcast'],
    min: 1,
    max: 1e12,
    help: 'stop after N echoes (broadcast: publishes), or at --duration if sooner',
  },
  {
    name: 'handshakes',
    kind: 'count',
    arg: 'N',
    modes: ['connect'],
    min: 1,
    max: 1e12,
    help: 'stop after N handshakes, or at --duration if sooner',
  },
  {
    name: 'duration',
    kind: 'seconds',
    arg: 'S',
    min: 0.1,
    max: 3600,
    help: 'measured time (idle: how long connections are held)',
    shownDefault: '10',
  },
  {
    name: 'warmup',
    kind: 'seconds',
    arg: 'S',
    modes: ['echo', 'connect', 'broadcast'],
    min: 0,
    max: 600,
    help: 'traffic before the measured time, checked but not counted',
    shownDefault: '0',
  },
  {
    name: 'concurrency',
    kind: 'count',
    arg: 'N',
    min: 1,
    max: 10_000,
    help: 'connections being opened at once (connect: handshakes in progress)',
    shownDefault: '100',
  },
  {
    name: 'workers',
    kind: 'count',
    arg: 'N',
    min: 1,
    max: MAX_WORKERS,
    help: 'processes sharing the connections',
    shownDefault: 'one per CPU',
  },
  {
    name: 'pid',
    kind: 'count',
    arg: 'PID',
    min: 1,
    max: 2 ** 22,
    help: "the server's process: its memory (VmRSS) and CPU before and after",
  },
  {
    name: 'topic',
    kind: 'string',
    arg: 'T',
    modes: ['broadcast'],
    help: 'the chat topic subscribed to and published on',
    shownDefault: 'bench',
  },
  {
    name: 'format',
    kind: 'string',
    arg: 'chat|raw',
    modes: ['broadcast'],
    help: "chat: wsx serve's JSON protocol on /chat; raw: no protocol, subscribers count every message that carries the marker",
    shownDefault: 'chat',
  },
  {
    name: 'publish-url',
    kind: 'string',
    arg: 'URL',
    modes: ['broadcast'],
    help: 'publish by HTTP POST of the payload to URL instead of over a WebSocket connection',
  },
  {
    name: 'publish-template',
    kind: 'string',
    arg: 'TEXT',
    modes: ['broadcast'],
    help: 'raw: what the publisher sends, {payload} replaced by the marked payload',
    shownDefault: '{payload}',
  },
  {
    name: 'subscribe-message',
    kind: 'string',
    arg: 'TEXT',
    modes: ['broadcast'],
    help: 'raw: a text message every subscriber sends once connected',
  },
  {
    name: 'rate',
    kind: 'count',
    arg: 'R',
    modes: ['broadcast'],
    min: 0,
    max: 1_000_000,
    help: 'publishes per second; 0: as fast as --depth allows',
    shownDefault: '0',
  },
  {
    name: 'header',
    short: 'H',
    kind: 'strings',
    arg: "'N: V'",
    help: 'an extra request header (repeatable)',
  },
  { name: 'subprotocol', kind: 'strings', arg: 'NAME', help: 'a subprotocol to offer (repeatable)' },
  { name: 'deflate', kind: 'boolean', help: 'offer permessage-deflate (off by default)' },
  { name: 'no-deflate', kind: 'boolean', help: 'do not offer permessage-deflate (the default)' },
  { name: 'ca', kind: 'string', arg: 'FILE', help: 'trust this CA certificate (PEM) for wss://' },
  { name: 'cert', kind: 'string', arg: 'FILE', help: 'client certificate (PEM) for wss:// (needs --key)' },
  { name: 'key', kind: 'string', arg: 'FILE', help: 'client private key (PEM)' },
  { name: 'insecure', kind: 'boolean', help: "do not verify the server's certificate" },
  { name: 'json', kind: 'boolean', help: 'print the result as one JSON object (the only output on stdout)' },
  {
    name: 'allow-remote',
    kind: 'boolean',
    help: 'allow a target that is not this machine (loopback only by default)',
  },
];

export const BENCH_HELP = `Usage: wsx bench MODE URL [options]

Loads a WebSocket server (ws:// or wss://) from several processes and reports rates,
latency percentiles and errors. Modes:
  echo       connections keep messages in flight; every echo is checked byte for byte
  connect    opening handshakes per second (connect, upgrade, close handshake)
  idle       hold connections open; with --pid, the server's memory per connection
  broadcast  subscribers of a topic, a publisher, delivery rate and publish-to-delivery
             latency (wsx serve's chat protocol, or --format raw for any server that fans out)

Options:
${OPTIONS.map(formatHelpOption).join('')}  -h, --help               show this help

Only loopback targets (127.0.0.0/8, ::1, names resolving to them) unless --allow-remote.
HTTP/2 (RFC 8441) is not supported. Exit status: 0 when no error was seen, 1 when the
server made errors (a wrong echo, a failed handshake, a lost delivery) or could not be
reached, 2 for bad arguments.
`;

/** TLS settings as text, so that they cross to the worker processes as JSON. */
export interface BenchTls {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly rejectUnauthorized?: boolean;
}

/** The resolved options of `wsx bench`. */
export interface BenchOptions {
  readonly mode: BenchMode;
  readonly url: string;
  readonly target: ClientTarget;
  readonly connections: number;
  readonly depth: number;
  readonly size: number;
  readonly text: boolean;
  /** Echoes, handshakes or publishes to stop after; null: until --duration. */
  readonly limit: number | null;
  readonly duration: number;
  readonly warmup: number;
  readonly concurrency: number;
  readonly workers: number;
  readonly pid: number | null;
  readonly topic: string;
  readonly format: 'chat' | 'raw';
  readonly publishUrl: string | null;
  readonly publishTemplate: string;
  readonly subscribeMessage: string | null;
  readonly rate: number;
  readonly headers: Record<string, string[]>;
  readonly subprotocols: string[];
  readonly deflate: boolean;
  readonly tls: BenchTls | undefined;
  readonly json: boolean;
  readonly allowRemote: boolean;
}

type Values = Record<string, string | boolean | string[] | undefined>;

/** Parses the command line; exits with a usage error on bad input; null for --help. */
export function resolveBenchOptions(argv: string[]): BenchOptions | null {
  const { values, positionals } = parse({
    args: argv,
    allowPositionals: true,
    options: parserOptions(OPTIONS),
  });
  const flags = values as Values;
  if (flags.help === true) return null;
  const [mode, url, ...extra] = positionals;
  if (mode === undefined) usageError(`bench expects a mode (${MODES.join(', ')}) and a URL`);
  if (!(MODES as readonly string[]).includes(mode)) {
    usageError(`unknown mode ${JSON.stringify(mode)}: ${MODES.join(', ')}`);
  }
  const benchMode = mode as BenchMode;
  if (url === undefined) usageError(`bench ${mode} expects a URL`);
  if (extra.length > 0) usageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  const target = parseTarget(url);
  if (target.socketPath !== undefined) usageError('wsx bench connects over TCP: ws:// or wss://');

  const number = (name: string, fallback: number): number => {
    const option = OPTIONS.find((o) => o.name === name)!;
    const raw = flags[name];
    return raw === undefined ? fallback : checkedNumber(option, raw as string);
  };
  for (const option of OPTIONS) {
    if (flags[option.name] !== undefined && option.modes !== undefined && !option.modes.includes(benchMode)) {
      usageError(`--${option.name} is for ${option.modes.join(' and ')}, not ${benchMode}`);
    }
  }
  if (flags.deflate === true && flags['no-deflate'] === true)
    usageError('--deflate and --no-deflate conflict');

  const connections = number('connections', benchMode === 'idle' ? 1000 : 100);
  const depth = number('depth', benchMode === 'echo' ? 8 : 1);
  const size = number('size', 32);
  const limit = benchMode === 'connect' ? number('handshakes', 0) : number('messages', 0);
  const concurrency = number('concurrency', 100);
  if (benchMode === 'echo' && connections * depth * size > MAX_BYTES_IN_FLIGHT) {
    usageError(`--connections × --depth × --size is over ${MAX_BYTES_IN_FLIGHT} bytes in flight`);
  }
  // No more processes than there are connections (or handshakes at once), or echoes or
  // handshakes to make, to share.
  const shares = Math.min(
    benchMode === 'connect' ? concurrency : connections,
    benchMode === 'broadcast' || limit === 0 ? Number.POSITIVE_INFINITY : limit,
  );
  const workers = Math.min(number('workers', availableParallelism()), shares);
  const pid = flags.pid === undefined ? null : number('pid', 0);
  if (pid !== null && !existsSync(`/proc/${pid}/status`)) usageError(`--pid ${pid}: no such process`);

  const format = (flags.format as string | undefined) ?? 'chat';
  if (format !== 'chat' && format !== 'raw')
    usageError(`--format expects chat or raw, got ${JSON.stringify(format)}`);
  const publishTemplate = (flags['publish-template'] as string | undefined) ?? '{payload}';
  if (!publishTemplate.includes('{payload}')) usageError('--publish-template must contain {payload}');
  if (format === 'chat') {
    for (const name of ['publish-template', 'subscribe-message']) {
      if (flags[name] !== undefined) usageError(`--${name} is for --format raw`);
    }
  }
  const publishUrl = (flags['publish-url'] as string | undefined) ?? null;
  if (publishUrl !== null && !/^https?:\/\/./i.test(publishUrl)) {
    usageError(`--publish-url expects an http:// or https:// URL, got ${JSON.stringify(publishUrl)}`);
  }
  const tls = tlsOptions(flags as Parameters<typeof tlsOptions>[0]);
  return {
    mode: benchMode,
    url,
    target,
    connections,
    depth,
    size,
    text: flags.text === true,
    limit: limit === 0 ? null : limit,
    duration: number('duration', 10),
    warmup: number('warmup', 0),
    concurrency,
    workers,
    pid,
    topic: (flags.topic as string | undefined) ?? 'bench',
    format,
    publishUrl,
    publishTemplate,
    subscribeMessage: (flags['subscribe-message'] as string | undefined) ?? null,
    rate: number('rate', 0),
    headers: headerOptions(flags.header as string[] | undefined),
    subprotocols: (flags.subprotocol as string[] | undefined) ?? [],
    deflate: flags.deflate === true,
    tls:
      tls === undefined
        ? undefined
        : {
            ...(tls.ca === undefined ? {} : { ca: String(tls.ca) }),
            ...(tls.cert === undefined ? {} : { cert: String(tls.cert) }),
            ...(tls.key === undefined ? {} : { key: String(tls.key) }),
            ...(tls.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
          },
    json: flags.json === true,
    allowRemote: flags['allow-remote'] === true,
  };
}

function checkedNumber(option: OptionSpec, raw: string): number {
  const value = raw.trim() === '' ? Number.NaN : Number(raw);
  const min = option.min ?? 0;
  const max = option.max ?? Number.MAX_SAFE_INTEGER;
  const whole = option.kind === 'count';
  if (!Number.isFinite(value) || (whole && !Number.isInteger(value)) || value < min || value > max) {
    usageError(
      `--${option.name} expects ${whole ? 'a whole number' : 'a number of seconds'} from ${min} to ${max}, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}
