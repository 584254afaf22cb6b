import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  acceptOffer,
  type DeflateParams,
  type PerMessageDeflateOptions,
} from '../protocol/extensions/negotiation.js';
import { type ExtensionOffer, isToken, parseExtensions } from '../protocol/handshake/headers.js';
import { formatHeaderLines } from '../protocol/handshake/server.js';

/** A request that may be upgraded, and what it asked for. */
export interface CheckedUpgrade {
  readonly key: string;
  readonly version: number;
  readonly protocols: Set<string>;
  /** The agreed permessage-deflate parameters and the response for them; null without. */
  readonly deflate: { readonly response: ExtensionOffer; readonly params: DeflateParams } | null;
}

/** Why a request is refused: the status, the body, extra headers. */
export interface Refusal {
  readonly status: number;
  readonly message: string;
  readonly headers?: Record<string, string | number>;
}

const KEY = /^[+/0-9A-Za-z]{22}==$/;

/** Checks an upgrade request as ws does (version 13, or 8 from old clients); a Refusal says why not. */
export function checkUpgradeRequest(
  req: IncomingMessage,
  deflate: PerMessageDeflateOptions,
): CheckedUpgrade | Refusal {
  const key = req.headers['sec-websocket-key'];
  const upgrade = req.headers.upgrade;
  const version = Number(req.headers['sec-websocket-version']);
  if (req.method !== 'GET') return { status: 405, message: 'Invalid HTTP method' };
  if (upgrade === undefined || upgrade.toLowerCase() !== 'websocket') {
    return { status: 400, message: 'Invalid Upgrade header' };
  }
  if (key === undefined || !KEY.test(key))
    return { status: 400, message: 'Missing or invalid Sec-WebSocket-Key header' };
  if (version !== 13 && version !== 8) {
    return {
      status: 400,
      message: 'Missing or invalid Sec-WebSocket-Version header',
      headers: { 'Sec-WebSocket-Version': '13, 8' },
    };
  }
  const protocolHeader = req.headers['sec-websocket-protocol'];
  let protocols = new Set<string>();
  if (protocolHeader !== undefined) {
    const parsed = parseProtocols(protocolHeader);
    if (parsed === null) return { status: 400, message: 'Invalid Sec-WebSocket-Protocol header' };
    protocols = parsed;
  }
  let accepted: CheckedUpgrade['deflate'] = null;
  const extensionHeader = req.headers['sec-websocket-extensions'];
  if (deflate.enabled !== false && extensionHeader !== undefined) {
    try {
      accepted = acceptOffer(parseExtensions(extensionHeader), deflate);
    } catch {
      return { status: 400, message: 'Invalid or unacceptable Sec-WebSocket-Extensions header' };
    }
  }
  return { key, version, protocols, deflate: accepted };
}

/** The subprotocols of a Sec-WebSocket-Protocol value; null when one is not a token or comes twice. */
function parseProtocols(value: string): Set<string> | null {
  const protocols = new Set<string>();
  for (const item of value.split(',')) {
    const name = item.trim();
    if (!isToken(name) || protocols.has(name)) return null;
    protocols.add(name);
  }
  return protocols;
}

/** Answers the request with an error status and closes the connection. */
export function refuse(
  socket: Duplex,
  status: number,
  message?: string,
  headers?: Record<string, string | number>,
): void {
  const body = message || STATUS_CODES[status] || '';
  let lines: string;
  try {
    lines = formatHeaderLines({
      Connection: 'close',
      'Content-Type': 'text/html',
      'Content-Length': String(Buffer.byteLength(body)),
      ...Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name, String(value)])),
    });
  } catch {
    // A header the application gave cannot be written: refuse without it.
    lines = `Connection: close\r\nContent-Type: text/html\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
  }
  socket.once('finish', socket.destroy);
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${lines}\r\n${body}`);
}
