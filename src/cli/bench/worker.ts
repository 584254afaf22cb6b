import { broadcastMode } from './broadcast.js';
import { connectMode } from './connect-mode.js';
import { echoMode } from './echo.js';
import { idleMode } from './idle.js';
import type { ModeContext, ModeRun } from './mode.js';
import { Tally } from './tally.js';
import type { PrimaryMessage, WorkerMessage, WorkerPlan } from './worker-messages.js';

/**
 * A worker process of `wsx bench` (forked by the primary): runs its share of the connections
 * as the primary's messages say, and reports what it counted every tick.
 */

/** How often counts go to the primary. */
const TICK_MS = 250;

const MODES: Record<WorkerPlan['mode'], (context: ModeContext) => ModeRun> = {
  echo: echoMode,
  connect: connectMode,
  idle: idleMode,
  broadcast: broadcastMode,
};

function send(message: WorkerMessage): void {
  process.send?.(message);
}

// A Ctrl-C reaches the whole process group: the primary decides when to stop.
process.on('SIGINT', () => {});
process.on('uncaughtException', fatal);

function fatal(error: unknown): void {
  send({ type: 'fatal', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
}
// The primary is gone: nobody is left to report to.
process.on('disconnect', () => process.exit(1));

let run: ModeRun | null = null;
const tally = new Tally();
let ticker: NodeJS.Timeout | null = null;
let cpuAtMeasure: NodeJS.CpuUsage | null = null;

process.on('message', (message: PrimaryMessage) => {
  switch (message.type) {
    case 'plan':
      begin(message.plan).catch(fatal);
      break;
    case 'start':
      run?.start();
      break;
    case 'measure':
      cpuAtMeasure = process.cpuUsage();
      tally.startMeasuring();
      break;
    case 'stop':
      end().catch(fatal);
      break;
  }
});

async function begin(plan: WorkerPlan): Promise<void> {
  const context: ModeContext = {
    plan,
    tally,
    finished: () => send({ type: 'finished' }),
    watermark: (seq) => send({ type: 'watermark', seq }),
  };
  run = MODES[plan.mode](context);
  await run.prepare();
  send({ type: 'ready', open: run.open, tick: tally.tick(run.open) });
  ticker = setInterval(() => send({ type: 'tick', tick: tally.tick(run!.open) }), TICK_MS);
}

async function end(): Promise<void> {
  const cpu = process.cpuUsage(cpuAtMeasure ?? undefined);
  await run?.stop();
  if (ticker !== null) clearInterval(ticker);
  const done: WorkerMessage = {
    type: 'done',
    tick: tally.tick(0),
    // After the drain: echoes that came back after the time was up are counted, and so is their time.
    activeSeconds: tally.activeSeconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
  process.send?.(done, () => process.exit(0));
}
