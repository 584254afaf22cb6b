import type { IncomingMessage } from 'node:http';
import type { Socket as NetSocket } from 'node:net';
import type { Duplex } from 'node:stream';
import { publishHandshakeRejected } from '../node/diagnostics.js';
import type { SocketPolicies } from '../node/socket.js';
import { HandshakeError } from '../protocol/errors.js';
import { acceptOffer, type PerMessageDeflateOptions } from '../protocol/extensions/negotiation.js';
import { validateExtendedConnect } from '../protocol/handshake/extended-connect.js';
import { formatExtensions, HeaderMap } from '../protocol/handshake/headers.js';
import { type RequestHead, upgradeBodyRefusal } from '../protocol/handshake/request-head.js';
import { type UpgradeRequest, validateUpgradeRequest } from '../protocol/handshake/server.js';
import type { RemoteEndpoint } from './client-address.js';
import { asError, pathOf } from './errors.js';
import { incomingMessageFor } from './incoming-message.js';
import type { RouteMatch } from './router.js';
import type { WebSocketServer } from './server.js';
import type { RouteOptions } from './server-options.js';
import { ServerSocket } from './server-socket.js';
import {
  selectProtocol,
  type UpgradeAcceptance,
  type UpgradeContext,
  type UpgradeHook,
  UpgradeRejection,
} from './upgrade.js';
import { Http1Peer, type UpgradePeer } from './upgrade-peer.js';
import { TIMED_OUT, withTimeout } from './with-timeout.js';

// The server side of each handshake, from the request to the 101 (or the refusal): run once
// per upgrade request, so nothing here allocates more than the handshake itself needs.

/** An upgrade request, as Node's HTTP server or wsx's own reader read it, or an HTTP/2 extended CONNECT. */
export interface UpgradeInput {
  readonly method: string;
  readonly target: string;
  readonly httpVersion: string;
  /** The fields: Node's `rawHeaders` (its HTTP parser, HTTP/2), or the head wsx's reader read (fields indexed by name). */
  readonly fields: readonly string[] | RequestHead;
  /** Node's request object; made on demand for heads wsx read itself. */
  readonly request: IncomingMessage | (() => IncomingMessage);
  /** Refuse a body: after a head read by wsx, the bytes that follow are taken as frames. */
  readonly noBody: boolean;
}

/** A route as the server keeps it in its router. */
export interface ResolvedRoute {
  readonly options: RouteOptions<unknown>;
  readonly policies: SocketPolicies;
  /** permessage-deflate as this route answers offers, resolved once. */
  readonly deflate: PerMessageDeflateOptions;
}

/** An upgrade request Node's HTTP parser read (`handleUpgrade`, `attach`). */
export function upgradeParsed(
  server: WebSocketServer,
  request: IncomingMessage,
  transport: Duplex,
  head: Buffer,
): void {
  const input: UpgradeInput = {
    method: request.method ?? '',
    target: request.url ?? '/',
    httpVersion: request.httpVersion,
    fields: request.rawHeaders,
    request,
    noBody: false,
  };
  upgrade(server, input, new Http1Peer(transport as NetSocket), head);
}

/** An upgrade request read by the listener of `listen()`; the socket is still being read. */
export function upgradeRead(
  server: WebSocketServer,
  head: RequestHead,
  socket: NetSocket,
  rest: Buffer,
): void {
  const input: UpgradeInput = {
    method: head.method,
    target: head.target,
    httpVersion: head.httpVersion,
    fields: head,
    request: () => incomingMessageFor(head, socket),
    noBody: true,
  };
  upgrade(server, input, new Http1Peer(socket, true), rest);
}

/** Takes an upgrade request (HTTP/1.1) or an extended CONNECT (HTTP/2), answered through `socket`. */
export function upgrade(
  server: WebSocketServer,
  input: UpgradeInput,
  socket: UpgradePeer,
  head: Buffer,
): void {
  try {
    const hook = upgradeOrHook(server, input, socket, head);
    if (hook !== undefined) hook.catch((error: unknown) => upgradeFailed(server, input, socket, error));
  } catch (error) {
    upgradeFailed(server, input, socket, error);
  }
}

/** The hook's own exceptions are reported in runHook; what reaches here is unexpected. */
function upgradeFailed(
  server: WebSocketServer,
  input: UpgradeInput,
  socket: UpgradePeer,
  error: unknown,
): void {
  server.reportError(asError(error), { kind: 'server', path: pathOf(input.target) });
  refuse(socket, new HandshakeError(500, 'upgrade failed', { cause: error }));
}

/** Validates and routes; answers at once, or returns the promise of the route's upgrade hook. */
function upgradeOrHook(
  server: WebSocketServer,
  input: UpgradeInput,
  socket: UpgradePeer,
  head: Buffer,
): Promise<void> | undefined {
  if (server.closing !== null) return refuse(socket, new HandshakeError(503, 'server is shutting down'));
  const fields = input.fields;
  const raw = Array.isArray(fields) ? (fields as readonly string[]) : null;
  if ((raw === null ? (fields as RequestHead).fieldCount : raw.length / 2) > server.maxHeaders) {
    return refuse(socket, new HandshakeError(431, `more than ${server.maxHeaders} header fields`));
  }
  const headers = raw === null ? (fields as RequestHead).headers : HeaderMap.fromRaw(raw);
  const peer = { address: socket.remoteAddress, port: socket.remotePort };
  const remote = server.clientAddress === null ? peer : server.clientAddress(peer, headers);
  const limited = server.realtime.refusal(remote.address);
  if (limited !== null) return refuse(socket, limited);
  const target = input.target;
  const queryStart = target.indexOf('?');
  const path = queryStart === -1 ? target : target.slice(0, queryStart);
  let offer: ReturnType<typeof validateUpgradeRequest>;
  try {
    offer =
      socket.httpVersion === '2'
        ? validateExtendedConnect(headers)
        : validateUpgradeRequest({ method: input.method, httpVersion: input.httpVersion, headers });
  } catch (error) {
    if (error instanceof HandshakeError) return refuse(socket, error);
    throw error;
  }
  if (input.noBody) {
    const body = upgradeBodyRefusal(headers);
    if (body !== null) return refuse(socket, body);
  }
  const match = server.router.match(path);
  if (match === null) return refuse(socket, new HandshakeError(404, `no WebSocket route for ${path}`));
  if (!server.originAllowed(offer.origin))
    return refuse(socket, new HandshakeError(403, 'origin not allowed'));
  if (match.value.options.upgrade === undefined) {
    open(server, socket, remote, head, target, offer, match, undefined);
    return undefined;
  }
  return runHook(server, input, socket, remote, head, headers, path, queryStart, offer, match);
}

async function runHook(
  server: WebSocketServer,
  input: UpgradeInput,
  socket: UpgradePeer,
  remote: RemoteEndpoint,
  head: Buffer,
  headers: HeaderMap,
  path: string,
  queryStart: number,
  offer: UpgradeRequest,
  match: RouteMatch<ResolvedRoute>,
): Promise<void> {
  const target = input.target;
  const made = input.request;
  let request = typeof made === 'function' ? null : made;
  const context: UpgradeContext = {
    get request(): IncomingMessage {
      request ??= (made as () => IncomingMessage)();
      return request;
    },
    path,
    query: new URLSearchParams(queryStart === -1 ? '' : target.slice(queryStart + 1)),
    params: match.params,
    headers,
    origin: offer.origin,
    protocols: offer.protocols,
    remoteAddress: remote.address,
  };
  let decision: Awaited<ReturnType<UpgradeHook<unknown>>> | typeof TIMED_OUT;
  socket.hold();
  try {
    decision = await withTimeout(match.value.options.upgrade!(context), server.handshakeTimeout);
    const chosen =
      decision === TIMED_OUT || decision instanceof UpgradeRejection ? undefined : decision?.protocol;
    if (chosen != null && !offer.protocols.includes(chosen)) {
      throw new Error(`the upgrade hook chose subprotocol ${chosen}, which the client did not offer`);
    }
  } catch (error) {
    server.reportError(asError(error), { kind: 'handler', handler: 'upgrade', path });
    return refuse(socket, new HandshakeError(500, 'upgrade failed', { cause: error }));
  }
  if (decision === TIMED_OUT) return refuse(socket, new HandshakeError(503, 'upgrade hook timed out'));
  if (decision instanceof UpgradeRejection) {
    return refuse(
      socket,
      new HandshakeError(decision.status, decision.body, {
        headers: decision.headers as Record<string, string>,
      }),
      decision.body,
    );
  }
  if (socket.destroyed) return;
  // Checked again now that the hook has run: from here to the 101 nothing waits.
  const overLimit = server.realtime.refusal(remote.address);
  if (overLimit !== null) return refuse(socket, overLimit);
  open(server, socket, remote, head, target, offer, match, decision);
}

/** Answers 101 and opens the socket. */
function open(
  server: WebSocketServer,
  socket: UpgradePeer,
  remote: RemoteEndpoint,
  head: Buffer,
  target: string,
  offer: UpgradeRequest,
  match: RouteMatch<ResolvedRoute>,
  acceptance: UpgradeAcceptance<unknown> | undefined,
): void {
  const route = match.value.options;
  let protocol: string | null;
  // runHook has checked that a subprotocol the hook chose is one the client offered.
  if (acceptance?.protocol !== undefined) {
    protocol = acceptance.protocol;
  } else {
    protocol = selectProtocol(offer.protocols, route.protocols ?? server.defaultProtocols);
  }

  const deflate = offer.extensions.length === 0 ? null : acceptOffer(offer.extensions, match.value.deflate);
  const extensions = deflate === null ? [] : [deflate.response];
  const transport = socket.accept({
    key: offer.key,
    protocol: protocol ?? undefined,
    extensions,
    headers: acceptance?.headers,
  });
  const ws = new ServerSocket<unknown>({
    role: 'server',
    transport,
    httpVersion: socket.httpVersion,
    remote,
    handlers: route,
    data: acceptance?.data,
    protocol: protocol ?? '',
    extensions: deflate === null ? '' : formatExtensions(extensions),
    deflate: deflate?.params,
    url: server.sharedUrl(target),
    settings: server.settings,
    limits: server.limits,
    owner: server,
    policies: match.value.policies,
  });
  server.realtime.opened(ws);
  server.sockets.add(ws);
  // Reads again after a hook held the peer back (a socket handed over by Node's HTTP
  // server is neither paused nor flowing). Not on a socket already flowing: `resume` would
  // still schedule a tick of stream work for it.
  if (transport.readableFlowing !== true) transport.resume();
  ws.start(head);
}

function refuse(peer: UpgradePeer, error: HandshakeError, body = error.message): undefined {
  publishHandshakeRejected(error.status, error.message, peer.remoteAddress);
  peer.refuse(error, body);
}
