/**
 * How a WebSocket opens: a client's constructor arguments start its handshake, and the transport
 * the server (or that handshake) hands over becomes wsx's socket.
 */
import type { ClientRequestArgs } from 'node:http';
import type { Socket as NetSocket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Socket as WsxSocket } from '../node/socket.js';
import type { DeflateParams } from '../protocol/extensions/negotiation.js';
import { type ClientOptions, startClientHandshake } from './client-handshake.js';
import { WS_CLOSE_TIMEOUT } from './constants.js';
import { SOCKET_HANDLERS } from './socket-handlers.js';
import type { WebSocket } from './websocket.js';

/**
 * What the server (or the client's handshake) hands a WebSocket with its transport. Code written
 * for ws calls `setSocket` with ws's options (`{ maxPayload }`, as @fastify/websocket's
 * `injectWS` does): then there is no subprotocol and no extension.
 */
export interface SocketSetup {
  readonly maxPayload: number;
  readonly maxFragments?: number | undefined;
  readonly protocol?: string | undefined;
  /** Names of the extensions in use, as ws lists them ('permessage-deflate' or ''). */
  readonly extensions?: string | undefined;
  readonly deflate?: DeflateParams | null | undefined;
  readonly closeTimeout?: number | undefined;
}

/** A client's arguments as ws takes them (the protocols may be left out, the options coming second). */
export function connectClient(
  ws: WebSocket,
  address: string | URL,
  protocols: string | readonly string[] | ClientOptions | ClientRequestArgs | undefined,
  options: ClientOptions | ClientRequestArgs | undefined,
): void {
  let offered: readonly string[];
  if (protocols === undefined) offered = [];
  else if (Array.isArray(protocols)) offered = protocols;
  else if (typeof protocols === 'object' && protocols !== null) {
    options = protocols as ClientOptions;
    offered = [];
  } else offered = [protocols as string];
  startClientHandshake(ws, address, offered, (options ?? {}) as ClientOptions);
}

/**
 * wsx's socket over the transport of `ws`, whose subprotocol and extensions are already set.
 * Bytes that came with the handshake are put back on the transport, so that they are read after
 * the `connection` (server) or `open` (client) listeners ran.
 */
export function bindTransport(
  ws: WebSocket,
  socket: Duplex,
  head: Buffer,
  setup: SocketSetup,
): WsxSocket<WebSocket> {
  const maxPayload = setup.maxPayload > 0 ? setup.maxPayload : Number.MAX_SAFE_INTEGER;
  if (head.length > 0) socket.unshift(head);
  const transport = socket as NetSocket;
  if (typeof transport.setTimeout === 'function') transport.setTimeout(0);
  if (typeof transport.setNoDelay !== 'function')
    (transport as { setNoDelay?: () => void }).setNoDelay = noop;
  return new WsxSocket<WebSocket>({
    role: ws._isServer ? 'server' : 'client',
    transport,
    handlers: SOCKET_HANDLERS,
    data: ws,
    protocol: ws.protocol,
    extensions: ws.extensions,
    url: ws._url ?? '',
    settings: { closeTimeout: setup.closeTimeout ?? WS_CLOSE_TIMEOUT, backpressureLimit: 1024 * 1024 },
    limits: {
      maxMessageSize: maxPayload,
      maxFrameSize: maxPayload,
      // ws reads 0 as "no limit"; wsx keeps its default then (a limit is never lifted by accident).
      ...(setup.maxFragments ? { maxFragments: setup.maxFragments } : {}),
    },
    deflate: setup.deflate ?? null,
  });
}

function noop(): void {}
