import type { Socket as NetSocket } from 'node:net';
import { HandshakeError } from '../protocol/errors.js';
import {
  DEFAULT_HEAD_LIMITS,
  type ResponseHead,
  ResponseHeadReader,
} from '../protocol/handshake/http-head.js';

/**
 * Runs `start` with a settle function, rejecting on the deadline, on abort, on a transport
 * error or close. On failure the transport is destroyed; listeners are removed either way.
 */
function watch<T>(
  transport: NetSocket,
  deadline: number,
  signal: AbortSignal | undefined,
  what: string,
  start: (settle: (error: unknown, value?: T) => void) => () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) {
      transport.destroy();
      reject(signal.reason);
      return;
    }
    let stop: () => void = () => {};
    const timer = setTimeout(
      () => settle(new HandshakeError(0, `${what} timed out`)),
      Math.max(0, deadline - Date.now()),
    );
    const onAbort = () => settle(signal!.reason);
    const onError = (error: Error) => settle(error);
    const onClose = () => settle(new HandshakeError(0, `connection closed during ${what}`));
    function settle(error: unknown, value?: T): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      transport.off('error', onError);
      transport.off('close', onClose);
      stop();
      if (error !== null) {
        transport.destroy();
        reject(error);
      } else {
        resolve(value as T);
      }
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    transport.on('error', onError);
    transport.on('close', onClose);
    stop = start(settle);
  });
}

/** Waits until a transport is connected (`connect`, or `secureConnect` for TLS). */
export function waitConnected(
  transport: NetSocket,
  event: 'connect' | 'secureConnect',
  deadline: number,
  signal: AbortSignal | undefined,
  what: string,
): Promise<void> {
  return watch<void>(transport, deadline, signal, what, (settle) => {
    const onConnect = () => settle(null);
    transport.once(event, onConnect);
    return () => transport.off(event, onConnect);
  });
}

/**
 * Reads one HTTP response head from a transport, then pauses it so that no byte after the
 * head is lost before the next reader attaches.
 */
export function readResponseHead(
  transport: NetSocket,
  deadline: number,
  signal: AbortSignal | undefined,
  what: string,
): Promise<ResponseHead> {
  const reader = new ResponseHeadReader(DEFAULT_HEAD_LIMITS);
  return watch<ResponseHead>(transport, deadline, signal, what, (settle) => {
    const onData = (chunk: Buffer) => {
      let head: ResponseHead | null;
      try {
        head = reader.push(chunk);
      } catch (error) {
        settle(error);
        return;
      }
      if (head === null) return;
      transport.pause();
      settle(null, head);
    };
    transport.on('data', onData);
    return () => transport.off('data', onData);
  });
}

export function isIpAddress(hostname: string): boolean {
  return hostname.includes(':') || /^\d+\.\d+\.\d+\.\d+$/.test(hostname);
}
