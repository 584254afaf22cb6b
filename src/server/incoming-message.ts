import { IncomingMessage } from 'node:http';
import type { Socket as NetSocket } from 'node:net';
import type { RequestHead } from '../protocol/handshake/request-head.js';

/** The internal method Node's HTTP parser uses to give a request its header fields. */
type WithHeaderLines = IncomingMessage & {
  upgrade: boolean;
  _addHeaderLines(raw: string[], count: number): void;
};

/**
 * An IncomingMessage for a request head read by wsx's own reader, as Node's HTTP server
 * would have made it for an upgrade request (no body). Made only when an upgrade hook asks
 * for `context.request`.
 */
export function incomingMessageFor(
  head: Pick<RequestHead, 'method' | 'target' | 'httpVersion' | 'rawHeaders'>,
  socket: NetSocket,
): IncomingMessage {
  const request = new IncomingMessage(socket) as WithHeaderLines;
  request.method = head.method;
  request.url = head.target;
  request.httpVersion = head.httpVersion;
  request.httpVersionMajor = head.httpVersion === '2.0' ? 2 : 1;
  request.httpVersionMinor = head.httpVersion === '1.1' ? 1 : 0;
  request._addHeaderLines(head.rawHeaders, head.rawHeaders.length);
  request.upgrade = true;
  request.complete = true;
  request.push(null);
  return request;
}
