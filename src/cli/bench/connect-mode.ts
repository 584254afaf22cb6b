import { performance } from 'node:perf_hooks';
import { connect } from '../../client/connect.js';
import type { SocketHandlers } from '../../node/socket.js';
import { clientOptions, describeConnectFailure } from './connections.js';
import type { ModeContext, ModeRun } from './mode.js';
import { Waiter } from './mode.js';

/** Bound on one closing handshake: past it the connection is dropped and counted as an error. */
const CLOSE_MS = 5_000;

interface Cycle {
  /** Called by the close handler with how the connection ended. */
  closed: ((clean: boolean, code: number) => void) | null;
}

/**
 * Connect mode: `concurrency` lanes, each opening a connection (TCP, TLS, upgrade), recording
 * the time to the 101, closing it with 1000 and waiting for the server's close, then again.
 * A handshake counts once its connection has closed cleanly.
 */
export function connectMode(context: ModeContext): ModeRun {
  const { plan, tally } = context;
  const options = clientOptions<Cycle>(plan);
  const handlers: SocketHandlers<Cycle> = {
    close(socket, code) {
      socket.data.closed?.(socket.wasClean, code);
    },
  };
  let running = false;
  let budget = plan.limit ?? Number.POSITIVE_INFINITY;
  let lanes = 0;
  let open = 0;
  const idle = new Waiter(() => lanes === 0);

  const cycle = async (): Promise<void> => {
    const counted = tally.measuring;
    if (counted) budget--;
    const data: Cycle = { closed: null };
    const started = performance.now();
    let socket: Awaited<ReturnType<typeof connect<Cycle>>>;
    try {
      socket = await connect<Cycle>(plan.url, { ...options, handlers, data });
    } catch (error) {
      tally.error('connect', describeConnectFailure(error, plan.url));
      return;
    }
    const microseconds = (performance.now() - started) * 1000;
    open++;
    const closed = new Promise<{ clean: boolean; code: number }>((resolve) => {
      data.closed = (clean, code) => resolve({ clean, code });
    });
    socket.close(1000);
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      closed,
      new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), CLOSE_MS))),
    ]);
    clearTimeout(timer);
    open--;
    if (result === null) {
      socket.terminate();
      tally.error('close', `the server did not complete the closing handshake within ${CLOSE_MS / 1000} s`);
    } else if (!result.clean || result.code !== 1000) {
      tally.error(
        'close',
        `the closing handshake ended with ${result.code}${result.clean ? '' : ', not cleanly'}`,
      );
    } else if (counted) {
      tally.operation(microseconds);
    }
  };

  const lane = async () => {
    lanes++;
    while (running && budget > 0) await cycle();
    lanes--;
    idle.poke();
    if (lanes === 0 && budget <= 0) context.finished();
  };

  return {
    prepare: async () => {},
    start() {
      running = true;
      for (let i = 0; i < plan.concurrency; i++) void lane();
    },
    async stop() {
      running = false;
      // Each lane finishes its cycle: a handshake (10 s at most) and a close (5 s).
      await idle.wait(20_000);
    },
    get open() {
      return open;
    },
  };
}
