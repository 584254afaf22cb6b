import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { createServer, type ProxyHeader } from '../index.js';
import { formatHelpOption, parse, parserOptions, usageError } from './args.js';
import { readOptionFile } from './files.js';

/**
 * The options of `wsx serve`, in one table: it drives the command-line parser, the `--config`
 * file (a JSON object with the same keys, without the dashes), and `--help`.
 */
type Kind = 'integer' | 'port' | 'host' | 'string' | 'strings' | 'boolean' | 'policy' | 'workers';

interface OptionSpec {
  readonly name: string;
  readonly kind: Kind;
  /** What the help shows after the name (`P`, `BYTES`...). */
  readonly arg?: string;
  readonly help: string;
  /** Shown as "(default ...)". */
  readonly shownDefault?: string;
}

/** More processes than this on one machine is a typo, not a plan. */
const MAX_WORKERS = 1024;

const OPTIONS: readonly OptionSpec[] = [
  {
    name: 'port',
    kind: 'port',
    arg: 'P',
    help: 'port to listen on; 0 picks a free one',
    shownDefault: '8080',
  },
  { name: 'host', kind: 'host', arg: 'H', help: 'address to bind', shownDefault: '127.0.0.1' },
  { name: 'echo', kind: 'boolean', help: 'echo only: no page, every path echoes each message with its type' },
  {
    name: 'max-payload',
    kind: 'integer',
    arg: 'BYTES',
    help: 'largest message accepted; larger ones close with 1009',
    shownDefault: '16777216',
  },
  {
    name: 'subprotocol',
    kind: 'strings',
    arg: 'NAME',
    help: 'a subprotocol to accept (repeatable); the first one the client offers wins',
  },
  { name: 'no-deflate', kind: 'boolean', help: 'decline permessage-deflate (accepted by default)' },
  { name: 'cert', kind: 'string', arg: 'FILE', help: 'TLS certificate (PEM): serve wss:// (needs --key)' },
  { name: 'key', kind: 'string', arg: 'FILE', help: 'TLS private key (PEM)' },
  {
    name: 'http2',
    kind: 'boolean',
    help: 'serve WebSockets over HTTP/2 too (RFC 8441): with --cert, h2 and HTTP/1.1 on one port; without, h2c only',
  },
  {
    name: 'heartbeat-interval',
    kind: 'integer',
    arg: 'MS',
    help: 'ping a peer silent this long; 0 turns heartbeats off',
    shownDefault: '30000; off with --echo unless given',
  },
  {
    name: 'heartbeat-timeout',
    kind: 'integer',
    arg: 'MS',
    help: 'drop a peer still silent this long after the ping',
    shownDefault: '10000',
  },
  {
    name: 'idle-timeout',
    kind: 'integer',
    arg: 'MS',
    help: 'close with 1001 a socket with no message either way this long; 0: never',
    shownDefault: '0',
  },
  {
    name: 'max-connections',
    kind: 'integer',
    arg: 'N',
    help: 'most open connections; more get HTTP 503; 0: no limit',
    shownDefault: '10000',
  },
  {
    name: 'max-connections-per-address',
    kind: 'integer',
    arg: 'N',
    help: 'most open connections from one IP address; more get 503; 0: no limit',
    shownDefault: '0',
  },
  {
    name: 'trust-proxy',
    kind: 'strings',
    arg: 'ADDR[,ADDR]',
    help:
      'reverse proxies (addresses, CIDR ranges, loopback, private) whose --proxy-header names ' +
      'the client, as --max-connections-per-address counts it (repeatable)',
  },
  {
    name: 'proxy-header',
    kind: 'string',
    arg: 'x-forwarded-for|forwarded',
    help: 'the header those proxies set',
    shownDefault: 'x-forwarded-for',
  },
  {
    name: 'max-backpressure',
    kind: 'integer',
    arg: 'BYTES',
    help: 'bytes buffered for a slow client past which --backpressure-policy applies; 0: no limit',
    shownDefault: '4194304; none with --echo unless given',
  },
  {
    name: 'backpressure-policy',
    kind: 'policy',
    arg: 'close|drop',
    help: 'close a slow client with 1013, or drop its messages while it is over the limit',
    shownDefault: 'close',
  },
  {
    name: 'max-topics',
    kind: 'integer',
    arg: 'N',
    help: 'most topics one chat socket may subscribe to',
    shownDefault: '100',
  },
  {
    name: 'publish-token',
    kind: 'string',
    arg: 'TOKEN',
    help: 'require "Authorization: Bearer TOKEN" on POST /publish/:topic (else 401)',
  },
  {
    name: 'redis',
    kind: 'string',
    arg: 'URL',
    help: 'join topics with every other wsx serve on this Redis (redis://HOST:PORT); needs the redis package',
  },
  {
    name: 'redis-mode',
    kind: 'string',
    arg: 'pubsub|stream',
    help: 'pubsub: at most once; stream: offsets, history and recovery (subscribe with "since")',
    shownDefault: 'pubsub',
  },
  {
    name: 'workers',
    kind: 'workers',
    arg: 'N|auto',
    help:
      'run N processes on the one port (auto: one per CPU), topics joined through the primary; ' +
      'a worker that dies is restarted; /stats is per worker',
    shownDefault: '1',
  },
  {
    name: 'config',
    kind: 'string',
    arg: 'FILE',
    help: 'read options from a JSON file (same keys); flags win',
  },
];

export const SERVE_HELP = `Usage: wsx serve [options]

Runs a WebSocket server. Without --echo: a chat page at /, the JSON pub/sub
protocol on ws://HOST:PORT/chat (topics, presence), POST /publish/:topic,
GET /stats (JSON), GET /metrics (Prometheus) and a live dashboard at
/dashboard; every other path echoes.
Exit status 2 for bad arguments, 1 when it cannot listen (a port in use...).

Options:
${OPTIONS.map(formatHelpOption).join('')}  -h, --help               show this help

SIGINT or SIGTERM closes every socket with 1001, waits up to 5 s, and exits 0
(with --workers, every worker does so, and the primary exits once they have).
`;

/** The resolved options of `wsx serve`. */
export interface ServeOptions {
  readonly help: boolean;
  readonly port: number;
  readonly host: string;
  readonly echo: boolean;
  readonly maxPayload: number;
  readonly subprotocols: readonly string[];
  readonly deflate: boolean;
  readonly cert: string | undefined;
  readonly key: string | undefined;
  /** HTTP/2 as well (with TLS) or instead (h2c, without). */
  readonly http2: boolean;
  /** 0: off. */
  readonly heartbeatInterval: number;
  readonly heartbeatTimeout: number;
  readonly idleTimeout: number;
  /** Infinity: no limit. */
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
  /** Proxies whose `proxyHeader` names the client; none by default. */
  readonly trustProxy: readonly string[];
  readonly proxyHeader: ProxyHeader;
  /** Infinity: no limit. */
  readonly maxBackpressure: number;
  readonly backpressurePolicy: 'close' | 'drop';
  readonly maxTopics: number;
  readonly publishToken: string | undefined;
  readonly redis: string | undefined;
  readonly redisMode: 'pubsub' | 'stream';
  /** Processes serving the port; 1: this process alone. */
  readonly workers: number;
}

type Value = string | number | boolean | string[];

/** Parses the command line (and the `--config` file it names); exits with a usage error on bad input. */
export function resolveServeOptions(argv: string[]): ServeOptions {
  const { values: flags } = parse({ args: argv, options: parserOptions(OPTIONS) });
  const given = new Map<string, Value>();
  const configFile = flags.config;
  if (typeof configFile === 'string') {
    for (const [name, value] of Object.entries(readConfig(configFile))) given.set(name, value);
  }
  for (const option of OPTIONS) {
    const raw = (flags as Record<string, string | boolean | string[] | undefined>)[option.name];
    if (raw !== undefined && option.name !== 'config')
      given.set(option.name, convert(option, raw, `--${option.name}`));
  }

  const integer = (name: string, fallback: number) => (given.get(name) as number | undefined) ?? fallback;
  const echo = given.get('echo') === true;
  const maxPayload = integer('max-payload', 16 * 1024 * 1024);
  if (maxPayload < 1) usageError('--max-payload must be at least 1');
  const cert = given.get('cert') as string | undefined;
  const key = given.get('key') as string | undefined;
  if ((cert === undefined) !== (key === undefined)) usageError('--cert and --key go together');
  const heartbeatTimeout = integer('heartbeat-timeout', 10_000);
  if (heartbeatTimeout < 1) usageError('--heartbeat-timeout must be at least 1 ms');
  const maxConnections = integer('max-connections', 10_000);
  const perAddress = integer('max-connections-per-address', 0);
  const { trustProxy, proxyHeader } = proxyTrust(given);
  const maxBackpressure = integer('max-backpressure', echo ? 0 : 4 * 1024 * 1024);
  const maxTopics = integer('max-topics', 100);
  if (maxTopics < 1) usageError('--max-topics must be at least 1');
  const redis = given.get('redis') as string | undefined;
  if (redis !== undefined && !/^rediss?:\/\/./.test(redis)) {
    usageError(`--redis expects a redis:// or rediss:// URL, got ${JSON.stringify(redis)}`);
  }
  const redisMode = (given.get('redis-mode') as string | undefined) ?? 'pubsub';
  if (redisMode !== 'pubsub' && redisMode !== 'stream') {
    usageError(`--redis-mode expects pubsub or stream, got ${JSON.stringify(redisMode)}`);
  }
  if (given.has('redis-mode') && redis === undefined) usageError('--redis-mode needs --redis');
  return {
    help: flags.help === true,
    port: integer('port', 8080),
    host: (given.get('host') as string | undefined) ?? '127.0.0.1',
    echo,
    maxPayload,
    subprotocols: (given.get('subprotocol') as string[] | undefined) ?? [],
    deflate: given.get('no-deflate') !== true,
    cert,
    key,
    http2: given.get('http2') === true,
    heartbeatInterval: integer('heartbeat-interval', echo ? 0 : 30_000),
    heartbeatTimeout,
    idleTimeout: integer('idle-timeout', 0),
    maxConnections: maxConnections === 0 ? Number.POSITIVE_INFINITY : maxConnections,
    maxConnectionsPerAddress: perAddress === 0 ? Number.POSITIVE_INFINITY : perAddress,
    trustProxy,
    proxyHeader,
    maxBackpressure: maxBackpressure === 0 ? Number.POSITIVE_INFINITY : maxBackpressure,
    backpressurePolicy: (given.get('backpressure-policy') as 'close' | 'drop' | undefined) ?? 'close',
    maxTopics,
    publishToken: given.get('publish-token') as string | undefined,
    redis,
    redisMode,
    workers: (given.get('workers') as number | undefined) ?? 1,
  };
}

/** `--trust-proxy` (comma-separated, repeatable) and `--proxy-header`, checked as the server checks them. */
function proxyTrust(given: ReadonlyMap<string, Value>): { trustProxy: string[]; proxyHeader: ProxyHeader } {
  const trustProxy = ((given.get('trust-proxy') as string[] | undefined) ?? [])
    .flatMap((value) => value.split(','))
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const proxyHeader = (given.get('proxy-header') as string | undefined) ?? 'x-forwarded-for';
  if (proxyHeader !== 'x-forwarded-for' && proxyHeader !== 'forwarded') {
    usageError(`--proxy-header expects x-forwarded-for or forwarded, got ${JSON.stringify(proxyHeader)}`);
  }
  if (given.has('proxy-header') && trustProxy.length === 0) usageError('--proxy-header needs --trust-proxy');
  try {
    // An unused server (it starts nothing): the library's own check of every entry.
    createServer({ trustProxy, proxyHeader });
  } catch (error) {
    usageError(`--trust-proxy: ${(error as Error).message.replace(/^trustProxy: /, '')}`);
  }
  return { trustProxy, proxyHeader };
}

function readConfig(file: string): Record<string, Value> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readOptionFile('--config', file).toString('utf8'));
  } catch (error) {
    usageError(`--config ${file}: not JSON: ${(error as Error).message.replace(/\s+/g, ' ')}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    usageError(`--config ${file}: expected a JSON object of options`);
  }
  const result: Record<string, Value> = {};
  for (const [name, value] of Object.entries(parsed)) {
    const option = OPTIONS.find((o) => o.name === name && o.name !== 'config');
    if (option === undefined) {
      const known = OPTIONS.filter((o) => o.name !== 'config').map((o) => o.name);
      usageError(`--config ${file}: unknown option ${JSON.stringify(name)} (known: ${known.join(', ')})`);
    }
    result[name] = convert(option, value, `${name} in ${file}`);
  }
  return result;
}

/** Checks and converts one option's value, from a flag (strings) or the config file (JSON). */
function convert(option: OptionSpec, value: unknown, where: string): Value {
  switch (option.kind) {
    case 'boolean':
      if (typeof value !== 'boolean') usageError(`${where} expects true or false`);
      return value;
    case 'integer': {
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 0) {
        usageError(`${where} expects a whole number, got ${JSON.stringify(value)}`);
      }
      return number;
    }
    case 'port': {
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof number !== 'number' || !Number.isInteger(number) || number < 0 || number > 65_535) {
        usageError(`${where} expects a port number from 0 to 65535, got ${JSON.stringify(value)}`);
      }
      return number;
    }
    case 'host': {
      // `[::1]`, as in a URL, is taken for `::1`.
      const host = typeof value === 'string' ? value.replace(/^\[(.*:.*)\]$/, '$1') : value;
      if (typeof host !== 'string' || !plausibleHost(host)) {
        usageError(`${where} expects an IP address or a host name, got ${JSON.stringify(value)}`);
      }
      return host;
    }
    case 'string':
      if (typeof value !== 'string' || value === '') usageError(`${where} expects a non-empty string`);
      return value;
    case 'strings': {
      const list = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(list) || !list.every((item) => typeof item === 'string' && item !== '')) {
        usageError(`${where} expects a string or a list of strings`);
      }
      return list as string[];
    }
    case 'policy':
      if (value !== 'close' && value !== 'drop')
        usageError(`${where} expects close or drop, got ${JSON.stringify(value)}`);
      return value;
    case 'workers': {
      if (value === 'auto') return availableParallelism();
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 1 || number > MAX_WORKERS) {
        usageError(
          `${where} expects auto or a whole number from 1 to ${MAX_WORKERS}, got ${JSON.stringify(value)}`,
        );
      }
      return number;
    }
  }
}

/**
 * Whether `host` can be an address to bind: an IP address, or a name that is not a malformed
 * address (`999.1.1.1`, a URL). Whether a name resolves is found out when listening.
 */
function plausibleHost(host: string): boolean {
  if (isIP(host) !== 0) return true;
  if (/^[\d.]+$/.test(host) || host.includes(':')) return false;
  return /^[a-z\d]([a-z\d-]*[a-z\d])?(\.[a-z\d]([a-z\d-]*[a-z\d])?)*\.?$/i.test(host);
}
