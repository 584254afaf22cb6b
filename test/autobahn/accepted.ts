// Outcomes short of OK that a testee has by design, each with the reason. They still count in
// the table and print with the reason; only they, with exactly that outcome, let the run pass.
import type { Testee } from './options.js';
import type { AcceptedOutcome } from './summary.js';

/**
 * The WHATWG WebSocket fires `message` as a task, as the standard says (browsers do the same).
 * In these cases one read carries a valid message followed by a protocol violation: the socket
 * fails the connection at once (close 1002) while the message event still waits for its task,
 * so its echo is never sent. The suite names that NON-STRICT (it prefers the echo first);
 * connect() and the CLI, whose handlers run as the message is parsed, echo it and get OK.
 */
const WHATWG_MESSAGE_TASKS: AcceptedOutcome = {
  outcome: 'NON-STRICT',
  reason:
    'the WHATWG WebSocket fires message events as tasks: the protocol violation read with the ' +
    'message fails the connection (1002) before the echo can be sent',
};

const WEBSOCKET_IDS = ['3.2', '3.3', '3.4', '4.1.3', '4.1.4', '4.1.5', '4.2.3', '4.2.4', '5.15'];

export const ACCEPTED: Readonly<Record<Testee, ReadonlyMap<string, AcceptedOutcome>>> = {
  server: new Map(),
  cli: new Map(),
  connect: new Map(),
  websocket: new Map(WEBSOCKET_IDS.map((id) => [id, WHATWG_MESSAGE_TASKS])),
};
