import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { Histogram } from './histogram.js';
import { Waiter } from './mode.js';
import type { BenchOptions } from './options.js';
import { type ProcessSample, sampleProcess } from './proc.js';
import { Publisher } from './publisher.js';
import type { PrimaryMessage, Tick, WorkerMessage, WorkerPlan } from './worker-messages.js';

/**
 * The primary of `wsx bench`: forks the workers (one Node process cannot load a fast server),
 * gives each its share, steps them through the run together (ready, warm-up, measure, stop),
 * adds up what they report, and (broadcast) publishes. Every wait is bounded.
 */

const WORKER = new URL('./worker.js', import.meta.url);
/** One round of opening connections: a handshake (10 s at most) and, for chat, its subscribe (10 s). */
const OPEN_ROUND_MS = 20_000;
/** After `stop`: drain (10 s), close (5 s), with room to spare. */
const DONE_MS = 30_000;
/** Broadcast: how long deliveries still on their way may take once publishing has stopped. */
const DELIVERY_DRAIN_MS = 10_000;
const MAX_SAMPLES = 5;
/** How long a worker that is done may take to exit. */
const EXIT_MS = 5_000;

export type Phase = 'connecting' | 'warmup' | 'measuring' | 'draining';

/** What the progress line shows, every `progressMs`. */
export interface ProgressSnapshot {
  readonly phase: Phase;
  /** Seconds since measuring began (0 before). */
  readonly elapsed: number;
  readonly open: number;
  /** Operations and latency since the previous snapshot. */
  readonly recentOperations: number;
  readonly recentSeconds: number;
  readonly recentLatency: Histogram;
  readonly errors: number;
}

export interface RunResult {
  readonly workers: number;
  /** Connections open when traffic began. */
  readonly opened: number;
  /** Echoes verified, handshakes completed, or deliveries received, while measuring. */
  readonly operations: number;
  /** From the start of measuring to the last operation counted, the slowest worker's (idle: the time held). */
  readonly seconds: number;
  readonly latency: Histogram;
  readonly errors: Record<string, number>;
  readonly samples: string[];
  /** CPU time of the workers while measuring, seconds. */
  readonly clientCpuSeconds: number;
  /** The --pid process before connecting, when measuring began, and when it ended. */
  readonly server: { before: ProcessSample; start: ProcessSample; end: ProcessSample } | null;
  /** Broadcast: publishes counted, and the deliveries they should have made. */
  readonly publishes: number | null;
  readonly expectedDeliveries: number | null;
  /** Ctrl-C cut the run short. */
  readonly interrupted: boolean;
}

interface Worker {
  readonly index: number;
  readonly child: ChildProcess;
  open: number;
  ready: boolean;
  finished: boolean;
  done: Extract<WorkerMessage, { type: 'done' }> | null;
}

/** Runs the benchmark that `options` describe; rejects with a one-line message when it cannot. */
export async function runBench(
  options: BenchOptions,
  progressMs: number,
  onProgress: (snapshot: ProgressSnapshot) => void,
): Promise<RunResult> {
  const latency = new Histogram();
  const recentLatency = new Histogram();
  const errors: Record<string, number> = {};
  const samples: string[] = [];
  let operations = 0;
  let recentOperations = 0;
  let phase: Phase = 'connecting';
  let measureStart = 0;
  let interrupted = false;
  let publisher: Publisher | null = null;

  let failed!: (error: Error) => void;
  const failure = new Promise<never>((_, reject) => (failed = reject));
  failure.catch(() => {});
  const error = (kind: string, message: string) => {
    errors[kind] = (errors[kind] ?? 0) + 1;
    if (samples.length < MAX_SAMPLES) samples.push(message);
  };
  const take = (worker: Worker, tick: Tick) => {
    operations += tick.operations;
    recentOperations += tick.operations;
    const histogram = Histogram.fromJSON(tick.latency);
    latency.merge(histogram);
    recentLatency.merge(histogram);
    for (const [kind, count] of Object.entries(tick.errors)) errors[kind] = (errors[kind] ?? 0) + count;
    for (const sample of tick.samples) if (samples.length < MAX_SAMPLES) samples.push(sample);
    worker.open = tick.open;
    if (publisher !== null && worker.open === 0 && worker.done === null) publisher.forget(worker.index);
  };

  const changed = new Set<Waiter>();
  const poke = () => {
    for (const waiter of changed) waiter.poke();
  };
  const waitUntil = async (condition: () => boolean, ms: number) => {
    const waiter = new Waiter(condition);
    changed.add(waiter);
    try {
      await Promise.race([waiter.wait(ms), failure]);
    } finally {
      changed.delete(waiter);
    }
  };

  const workers: Worker[] = [];
  for (let index = 0; index < options.workers; index++) {
    workers.push(spawnWorker(index));
  }
  const onMessage = (worker: Worker, message: WorkerMessage) => {
    switch (message.type) {
      case 'ready':
        worker.ready = true;
        take(worker, message.tick);
        break;
      case 'tick':
        take(worker, message.tick);
        break;
      case 'watermark':
        publisher?.watermark(worker.index, message.seq);
        break;
      case 'finished':
        worker.finished = true;
        break;
      case 'done':
        take(worker, message.tick);
        worker.done = message;
        break;
      case 'fatal':
        failed(new Error(`worker ${worker.index} failed: ${message.message}`));
        break;
    }
    poke();
  };
  for (const worker of workers) {
    worker.child.on('message', (message: WorkerMessage) => onMessage(worker, message));
    worker.child.on('exit', (code, signal) => {
      if (worker.done === null)
        failed(new Error(`worker ${worker.index} exited (${signal ?? code}) before the end`));
    });
    worker.child.on('error', (cause) => failed(new Error(`worker ${worker.index}: ${cause.message}`)));
  }
  const broadcastAll = (message: PrimaryMessage) => {
    for (const worker of workers) if (worker.child.connected) worker.child.send(message);
  };

  let lastProgress = performance.now();
  const progressTimer = setInterval(() => {
    const now = performance.now();
    onProgress({
      phase,
      elapsed: measureStart === 0 ? 0 : (now - measureStart) / 1000,
      open: workers.reduce((sum, worker) => sum + worker.open, 0),
      recentOperations,
      recentSeconds: (now - lastProgress) / 1000,
      recentLatency,
      errors: Object.values(errors).reduce((sum, count) => sum + count, 0),
    });
    lastProgress = now;
    recentOperations = 0;
    recentLatency.reset();
  }, progressMs);
  const interrupt = () => {
    interrupted = true;
    poke();
  };
  process.once('SIGINT', interrupt);

  try {
    const before = options.pid === null ? null : sampleProcess(options.pid);
    workers.forEach((worker, index) => {
      worker.child.send({ type: 'plan', plan: planFor(options, index) } satisfies PrimaryMessage);
    });
    const rounds = Math.ceil(options.connections / options.concurrency);
    await waitUntil(
      () => interrupted || workers.every((worker) => worker.ready),
      10_000 + OPEN_ROUND_MS * rounds,
    );
    if (!workers.every((worker) => worker.ready) && !interrupted) {
      throw new Error('the connections were not all open in time');
    }
    const opened = workers.reduce((sum, worker) => sum + worker.open, 0);
    if (opened === 0 && options.mode !== 'connect') {
      throw new Error(`no connection could be opened${samples.length > 0 ? `: ${samples[0]}` : ''}`);
    }
    if (options.mode === 'broadcast') {
      const subscribed = workers.filter((worker) => worker.open > 0).map((worker) => worker.index);
      publisher = new Publisher(options, error, subscribed);
      await publisher.open();
    }

    let start: ProcessSample | null = null;
    const measure = () => {
      phase = 'measuring';
      measureStart = performance.now();
      start = options.pid === null ? null : sampleProcess(options.pid);
      broadcastAll({ type: 'measure' });
      if (publisher !== null) publisher.measuring = true;
    };
    if (options.warmup === 0 || options.mode === 'idle') measure();
    else phase = 'warmup';
    broadcastAll({ type: 'start' });
    publisher?.start();
    if (phase === 'warmup') {
      await waitUntil(() => interrupted, options.warmup * 1000);
      if (!interrupted) measure();
    }
    const limitReached = () =>
      publisher === null
        ? options.limit !== null && workers.every((worker) => worker.finished)
        : publisher.done && publisher.delivered;
    await waitUntil(() => interrupted || limitReached(), options.duration * 1000);
    const end = options.pid === null ? null : sampleProcess(options.pid);
    const measuredSeconds = measureStart === 0 ? 0 : (performance.now() - measureStart) / 1000;

    phase = 'draining';
    if (publisher !== null) {
      publisher.stop();
      const sent = publisher;
      await waitUntil(() => sent.delivered, DELIVERY_DRAIN_MS);
    }
    broadcastAll({ type: 'stop' });
    await waitUntil(() => workers.every((worker) => worker.done !== null), DONE_MS);
    if (!workers.every((worker) => worker.done !== null))
      throw new Error('the workers did not finish in time');
    await publisher?.close();

    const publishes = publisher === null ? null : publisher.counted;
    return {
      workers: workers.length,
      opened,
      operations,
      // Idle counts no operations while measuring: its time is the time held.
      seconds:
        options.mode === 'idle'
          ? measuredSeconds
          : Math.max(...workers.map((worker) => worker.done!.activeSeconds)),
      latency,
      errors: finalErrors(errors, operations, publishes === null ? null : publishes * opened),
      samples,
      clientCpuSeconds: workers.reduce((sum, worker) => sum + worker.done!.cpuSeconds, 0),
      server: before === null || start === null || end === null ? null : { before, start, end },
      publishes,
      expectedDeliveries: publishes === null ? null : publishes * opened,
      interrupted,
    };
  } finally {
    clearInterval(progressTimer);
    process.off('SIGINT', interrupt);
    await publisher?.close();
    // A worker that said `done` exits by itself: give it a moment before it is killed.
    const exits = workers
      .filter((worker) => worker.done !== null && worker.child.exitCode === null)
      .map((worker) => once(worker.child, 'exit'));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(exits),
      new Promise((resolve) => (timer = setTimeout(resolve, EXIT_MS))),
    ]);
    clearTimeout(timer);
    for (const worker of workers) {
      if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    }
  }
}

/** Broadcast: deliveries that never came are errors too. */
function finalErrors(
  errors: Record<string, number>,
  delivered: number,
  expected: number | null,
): Record<string, number> {
  if (expected === null || delivered >= expected) return errors;
  return { ...errors, missed: expected - delivered };
}

function spawnWorker(index: number): Worker {
  // A worker's errors go to our stderr; stdout is the report's alone.
  const child = fork(WORKER, [], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return { index, child, open: 0, ready: false, finished: false, done: null };
}

/** `total` shared among `parts`: the first ones get one more of what is left over. */
function share(total: number, parts: number, index: number): number {
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}

function planFor(options: BenchOptions, index: number): WorkerPlan {
  const workers = options.workers;
  const counts = options.mode === 'echo' || options.mode === 'connect';
  return {
    mode: options.mode,
    url: options.url,
    index,
    connections: share(options.connections, workers, index),
    concurrency: Math.max(1, share(options.concurrency, workers, index)),
    depth: options.depth,
    size: options.size,
    text: options.text,
    limit: counts && options.limit !== null ? share(options.limit, workers, index) : null,
    protocols: options.subprotocols,
    headers: options.headers,
    deflate: options.deflate,
    tls: options.tls,
    format: options.format,
    topic: options.topic,
    subscribeMessage: options.subscribeMessage,
  };
}
