import { performance } from 'node:perf_hooks';
import { connect } from '../../client/connect.js';
import type { Socket, SocketHandlers } from '../../node/socket.js';
import { Connections, clientOptions } from './connections.js';
import type { ModeContext, ModeRun } from './mode.js';
import { Waiter } from './mode.js';
import { EchoPayloads } from './payloads.js';

/** How long echoes still in flight when the time is up may take to come back. */
const DRAIN_MS = 10_000;

/** Per connection: its id, and the send time of each message in flight (a ring of `depth`). */
interface EchoState {
  readonly id: number;
  sent: number;
  answered: number;
  readonly sentAt: Float64Array;
  /** 1 where the message in that slot was sent while measuring. */
  readonly counted: Uint8Array;
}

/**
 * Echo mode: every connection keeps `depth` messages in flight; each echo is checked against
 * what was sent (in order, byte for byte) and its round trip recorded, then the next is sent.
 */
export function echoMode(context: ModeContext): ModeRun {
  const { plan, tally } = context;
  const payloads = new EchoPayloads(plan.size, plan.text);
  const connections = new Connections<EchoState>();
  let sending = false;
  /** Counted sends left (--messages); warm-up sends do not use it. */
  let budget = plan.limit ?? Number.POSITIVE_INFINITY;
  let inFlight = 0;
  let finished = false;
  const drained = new Waiter(() => inFlight === 0);

  const send = (socket: Socket<EchoState>) => {
    const state = socket.data;
    const seq = state.sent++;
    const slot = seq % plan.depth;
    const counted = tally.measuring;
    if (counted) budget--;
    state.counted[slot] = counted ? 1 : 0;
    const message = payloads.message(state.id, seq);
    state.sentAt[slot] = performance.now();
    if (plan.text) socket.sendText(message);
    else socket.sendBinary(message);
    inFlight++;
  };

  const settled = () => {
    drained.poke();
    if (!finished && budget <= 0 && inFlight === 0) {
      finished = true;
      context.finished();
    }
  };

  const handlers: SocketHandlers<EchoState> = {
    message(socket, data, isBinary) {
      const state = socket.data;
      if (state.answered === state.sent) {
        tally.error('unexpected', `connection ${state.id}: a message that echoes nothing sent`);
        return;
      }
      const seq = state.answered++;
      inFlight--;
      const slot = seq % plan.depth;
      const microseconds = (performance.now() - state.sentAt[slot]) * 1000;
      const problem = payloads.check(data, isBinary, state.id, seq);
      if (problem !== null) tally.error('mismatch', `connection ${state.id}: echo ${seq} ${problem}`);
      else if (state.counted[slot] === 1) tally.operation(microseconds);
      if (sending && budget > 0) send(socket);
      else settled();
    },
    error(socket, error) {
      if (!connections.closing) tally.error('socket', `connection ${socket.data.id}: ${error.message}`);
    },
    close(socket, code, reason) {
      const state = socket.data;
      connections.remove(socket);
      const lost = state.sent - state.answered;
      inFlight -= lost;
      state.answered = state.sent;
      if (!connections.closing) {
        tally.error(
          'closed',
          `connection ${state.id} closed by the server (${code}${reason ? ` ${reason}` : ''}) with ${lost} echo(es) outstanding`,
        );
      }
      settled();
    },
  };

  const options = clientOptions<EchoState>(plan);
  const dial = (i: number) => {
    const id = plan.index * 1_000_000 + i;
    const data: EchoState = {
      id,
      sent: 0,
      answered: 0,
      sentAt: new Float64Array(plan.depth),
      counted: new Uint8Array(plan.depth),
    };
    return connect<EchoState>(plan.url, { ...options, handlers, data });
  };

  return {
    prepare: () => connections.openAll(plan.connections, plan.concurrency, dial, tally, plan.url),
    start() {
      sending = true;
      for (const socket of connections.open) {
        for (let i = 0; i < plan.depth && budget > 0; i++) send(socket);
      }
      settled();
    },
    async stop() {
      sending = false;
      await drained.wait(DRAIN_MS);
      if (inFlight > 0) {
        tally.error(
          'unanswered',
          `${inFlight} echo(es) had not come back ${DRAIN_MS / 1000} s after the end`,
          inFlight,
        );
      }
      await connections.closeAll();
    },
    get open() {
      return connections.open.size;
    },
  };
}
