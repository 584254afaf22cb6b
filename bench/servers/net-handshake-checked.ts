/**
 * The handshake floor of a server that checks what RFC 6455 asks it to check: `net-handshake`
 * (node:net, one listener, no library) plus wsx's sans-I/O functions for the work a conforming
 * server cannot skip. It reads the request head with a strict HTTP/1.1 grammar and wsx's limits
 * on its size and field count, in however many reads it comes. It validates the upgrade
 * (§4.2.1: GET, HTTP/1.1, Host, Upgrade, Connection, a 16-byte key, version 13) and refuses a
 * body. It unmasks the client's close frame and checks its code and reason (§5.5.1, §7.4)
 * before answering it.
 *
 * What it still leaves out, and wsx does: the peer's address, routes, origins, subprotocols and
 * extensions, connection limits and statistics, timeouts, a socket object per connection with
 * its events, and every frame other than the close that the handshake workload sends. Its
 * distance from `net-handshake` is the price of the checks; wsx's distance from it is the rest.
 */
import net from 'node:net';
import { parseClosePayload } from '../../src/protocol/close.js';
import { HandshakeError } from '../../src/protocol/errors.js';
import { DEFAULT_HEAD_LIMITS } from '../../src/protocol/handshake/http-head.js';
import {
  asksForUpgrade,
  RequestHeadReader,
  upgradeBodyRefusal,
} from '../../src/protocol/handshake/request-head.js';
import {
  buildAcceptResponse,
  buildRejectResponse,
  validateUpgradeRequest,
} from '../../src/protocol/handshake/server.js';
import { unmaskInPlace } from '../../src/protocol/mask.js';
import { Opcode } from '../../src/protocol/opcodes.js';
import { HOST, installHooks, portFromArgs, ready } from './common.js';

/** The first byte's FIN bit: every frame here is a whole message. */
const FIN = 0x80;

installHooks();
const server = net.createServer({ noDelay: true }, (socket) => {
  const reader = new RequestHeadReader();
  let open = false;
  let refused = false;
  socket.on('error', () => {});
  socket.on('data', (chunk: Buffer) => {
    if (open) {
      closeFrame(socket, chunk);
      return;
    }
    // After a refusal, whatever the client still sends is dropped.
    if (refused) return;
    try {
      const head = reader.push(chunk);
      if (head === null) return;
      if (head.fieldCount > DEFAULT_HEAD_LIMITS.maxHeaders) {
        throw new HandshakeError(431, `more than ${DEFAULT_HEAD_LIMITS.maxHeaders} header fields`);
      }
      if (!asksForUpgrade(head)) throw new HandshakeError(426, 'upgrade required');
      const offer = validateUpgradeRequest(head);
      const body = upgradeBodyRefusal(head.headers);
      if (body !== null) throw body;
      socket.write(buildAcceptResponse({ key: offer.key }), 'latin1');
      open = true;
      if (head.headLength < head.received.length) closeFrame(socket, head.received.subarray(head.headLength));
    } catch (error) {
      if (!(error instanceof HandshakeError)) throw error;
      refused = true;
      socket.end(buildRejectResponse(error.status, `${error.message}\n`, error.headers));
    }
  });
});

/**
 * Answers a masked close frame of up to 125 bytes that arrives in one read (the generator's),
 * echoing its code as §5.5.1 suggests, then closes TCP. Anything else fails with 1002.
 */
function closeFrame(socket: net.Socket, frame: Buffer): void {
  const length = frame[1] & 0x7f;
  let code = 1002;
  if (
    frame[0] === (FIN | Opcode.Close) &&
    (frame[1] & 0x80) !== 0 &&
    length <= 125 &&
    frame.length === 6 + length
  ) {
    unmaskInPlace(frame, 6, 6 + length, frame.subarray(2, 6), 0);
    try {
      const info = parseClosePayload(frame.subarray(6));
      code = info.code === 1005 ? 1000 : info.code;
    } catch {
      code = 1002;
    }
  }
  socket.write(Buffer.from([FIN | Opcode.Close, 0x02, code >> 8, code & 0xff]));
  socket.destroy();
}

server.listen(portFromArgs(), HOST, () => {
  const addr = server.address();
  ready(typeof addr === 'object' && addr ? addr.port : 0);
});
