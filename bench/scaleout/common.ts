/**
 * What the scale-out benchmark's runner, nodes and load processes share: the message format,
 * the clock, the latency histogram, and the IPC messages between them.
 *
 * Every process runs on the same machine, so `process.hrtime` (CLOCK_MONOTONIC) is one clock
 * for all of them: the publisher writes its reading into the payload and a subscriber
 * subtracts it from its own.
 */
import { readFileSync } from 'node:fs';

/** The one topic (socket.io: room) every subscriber joins. */
export const TOPIC = 'bench';

/** Microseconds on the machine-wide monotonic clock. */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** A published payload: `seq,publishTimeUs` (about 20 bytes of text). */
export function payload(seq: number): string {
  return `${seq},${nowUs()}`;
}

/** Latency histogram: 10 µs buckets up to 5 s, the last bucket holds everything slower. */
const BUCKET_US = 10;
const BUCKETS = 500_000;

export class Histogram {
  readonly counts = new Uint32Array(BUCKETS);
  total = 0;

  add(us: number): void {
    const b = us <= 0 ? 0 : Math.min(BUCKETS - 1, Math.floor(us / BUCKET_US));
    this.counts[b]!++;
    this.total++;
  }

  /** Non-empty buckets as [bucket, count] pairs, for sending over IPC. */
  sparse(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i] !== 0) out.push([i, this.counts[i]!]);
    return out;
  }

  merge(pairs: [number, number][]): void {
    for (const [b, c] of pairs) {
      this.counts[b]! += c;
      this.total += c;
    }
  }

  /** The q-quantile in milliseconds (upper edge of its bucket); NaN when empty. */
  quantileMs(q: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.ceil(q * this.total);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return ((i + 1) * BUCKET_US) / 1000;
    }
    return Number.NaN;
  }
}

/** utime + stime of a process, in clock ticks (100 per second on Linux). */
export function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return Number.NaN; // the process is gone (the killed node)
  }
}

export const TICKS_PER_SECOND = 100;

/** Write system calls a process has made (`syscw` of /proc/PID/io); NaN once it is gone. */
export function writeCalls(pid: number): number {
  try {
    return Number(/syscw: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}

export function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** Runner -> node. */
export type NodeCommand =
  | { cmd: 'rss' }
  | { cmd: 'publish'; rate: number; ms: number; window: number }
  | { cmd: 'delivered'; messages: number }
  | { cmd: 'stats' };

/** Node -> runner. */
export type NodeReply =
  | { kind: 'ready'; port: number }
  | { kind: 'rss'; rss: number; heap: number }
  | { kind: 'published'; count: number; ms: number }
  | { kind: 'stats'; stats: unknown };

/** Runner -> load process. */
export type LoadCommand =
  | { cmd: 'connect'; ports: [number, number]; first: number; count: number }
  | { cmd: 'window'; on: boolean }
  | { cmd: 'kill'; atUs: number }
  | { cmd: 'recovery' }
  | { cmd: 'close' };

/** What a load process tells about a recovery. */
export interface RecoveryReport {
  /** Per subscriber that lost its node: ms from the kill to its first message published after it. */
  readonly recoverMs: number[];
  /** Per subscriber: messages skipped (gaps in offsets) and received twice, and its last offset. */
  readonly lost: number[];
  readonly duplicated: number[];
  readonly last: number[];
  /** `recovery` handler results seen: recovered true / false. */
  readonly recovered: number;
  readonly notRecovered: number;
  readonly reconnected: number;
}

/** Load process -> runner. */
export type LoadReply =
  | { kind: 'connected'; count: number }
  | { kind: 'progress'; received: number }
  | { kind: 'window'; received: number; histogram: [number, number][] }
  | { kind: 'recovery'; report: RecoveryReport };
