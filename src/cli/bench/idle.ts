import { performance } from 'node:perf_hooks';
import { connect } from '../../client/connect.js';
import type { SocketHandlers } from '../../node/socket.js';
import { Connections, clientOptions } from './connections.js';
import type { ModeContext, ModeRun } from './mode.js';

interface IdleState {
  readonly id: number;
}

/**
 * Idle mode: opens the connections (each handshake's time is its latency) and holds them,
 * sending nothing (pings from the server are answered). A connection the server closes or
 * drops before the end is an error.
 */
export function idleMode(context: ModeContext): ModeRun {
  const { plan, tally } = context;
  const connections = new Connections<IdleState>();
  const handlers: SocketHandlers<IdleState> = {
    message(socket) {
      tally.error('unexpected', `connection ${socket.data.id}: a message arrived on an idle connection`);
    },
    close(socket, code, reason) {
      connections.remove(socket);
      if (!connections.closing) {
        tally.error(
          'closed',
          `connection ${socket.data.id} closed by the server (${code}${reason ? ` ${reason}` : ''})`,
        );
      }
    },
  };
  const options = clientOptions<IdleState>(plan);
  const dial = async (i: number) => {
    const started = performance.now();
    const socket = await connect<IdleState>(plan.url, {
      ...options,
      handlers,
      data: { id: plan.index * 1_000_000 + i },
    });
    tally.operation((performance.now() - started) * 1000);
    return socket;
  };
  return {
    prepare() {
      // What is measured here is the opening itself.
      tally.startMeasuring();
      return connections.openAll(plan.connections, plan.concurrency, dial, tally, plan.url);
    },
    start() {},
    stop: () => connections.closeAll(),
    get open() {
      return connections.open.size;
    },
  };
}
