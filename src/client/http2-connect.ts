import type { ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import type { Socket as NetSocket } from 'node:net';
import { handshakeFailedChannel } from '../node/diagnostics.js';
import { Socket, type SocketHandlers } from '../node/socket.js';
import { HandshakeError, UsageError } from '../protocol/errors.js';
import {
  acceptResponse,
  buildOffer,
  deflateOptions,
  EXTENSION_NAME,
} from '../protocol/extensions/negotiation.js';
import { validateAgreement } from '../protocol/handshake/client.js';
import { buildExtendedConnectRequest } from '../protocol/handshake/extended-connect.js';
import { formatExtensions, HeaderMap } from '../protocol/handshake/headers.js';
import { resolveLimits } from '../protocol/limits.js';
import type { ConnectOptions, Target } from './connect.js';
import { acquireSession, type PooledSession } from './http2-pool.js';
import { clientSettings, NO_HANDLERS } from './socket-settings.js';

/**
 * Opens a WebSocket as one stream of a pooled HTTP/2 session (RFC 8441), or, under
 * `http2: 'auto'` when the server does not offer that, hands over to `http1` (with the TLS
 * socket already open, if one is). Bad arguments throw at once, as they do in `connect`.
 */
export function connectHttp2<Data>(
  target: Target,
  options: ConnectOptions<Data>,
  timeout: number,
  http1: (transport: NetSocket | undefined, timeLeft: number) => Promise<Socket<Data>>,
): Promise<Socket<Data>> {
  const mode = options.http2 === 'auto' ? 'auto' : true;
  if (options.transport !== undefined) {
    // A proxy tunnel or unix socket was opened for HTTP/1.1.
    if (mode === 'auto') return http1(options.transport, timeout);
    throw new UsageError('http2: true cannot run over a given transport (proxy, unix socket)');
  }
  const deflate = deflateOptions(options.perMessageDeflate);
  const deflateOffer = buildOffer(deflate);
  const request = buildExtendedConnectRequest({
    scheme: target.secure ? 'https' : 'http',
    authority: target.hostHeader,
    path: target.path,
    protocols: options.protocols,
    extensions: deflateOffer === null ? [] : [deflateOffer],
    origin: options.origin,
    headers: options.headers,
  });
  const opening: Opening<Data> = {
    target,
    options,
    mode,
    request,
    deflate,
    offeredDeflate: deflateOffer !== null,
  };
  return open(opening, Date.now() + timeout, http1);
}

/** What was checked and built before anything is opened. */
interface Opening<Data> {
  readonly target: Target;
  readonly options: ConnectOptions<Data>;
  readonly mode: true | 'auto';
  readonly request: ReturnType<typeof buildExtendedConnectRequest>;
  readonly deflate: ReturnType<typeof deflateOptions>;
  readonly offeredDeflate: boolean;
}

async function open<Data>(
  opening: Opening<Data>,
  deadline: number,
  http1: (transport: NetSocket | undefined, timeLeft: number) => Promise<Socket<Data>>,
): Promise<Socket<Data>> {
  const { target, options, mode } = opening;
  let choice: Awaited<ReturnType<typeof acquireSession>>;
  try {
    choice = await acquireSession({ ...target, tls: options.tls }, mode, deadline, options.signal);
  } catch (error) {
    if (handshakeFailedChannel.hasSubscribers) handshakeFailedChannel.publish({ url: target.href, error });
    throw error;
  }
  if ('http1' in choice) {
    if (mode === 'auto') return http1(choice.transport, Math.max(1, deadline - Date.now()));
    // Another WebSocket's 'auto' attempt, shared with this one, found no HTTP/2.
    choice.transport?.destroy();
    throw new HandshakeError(0, `${target.hostHeader} does not offer WebSockets over HTTP/2`);
  }
  return openStream(
    target,
    options,
    choice.session,
    opening.request,
    deadline,
    opening.deflate,
    opening.offeredDeflate,
  );
}

function openStream<Data>(
  target: Target,
  options: ConnectOptions<Data>,
  pooled: PooledSession,
  request: ReturnType<typeof buildExtendedConnectRequest>,
  deadline: number,
  deflate: ReturnType<typeof deflateOptions>,
  offeredDeflate: boolean,
): Promise<Socket<Data>> {
  const session = pooled.session;
  const signal = options.signal;
  return new Promise<Socket<Data>>((resolve, reject) => {
    let stream: ClientHttp2Stream;
    try {
      stream = session.request(request, { endStream: false });
    } catch (error) {
      reject(error);
      return;
    }
    pooled.use();
    stream.once('close', () => pooled.release());
    const timer = setTimeout(
      () => fail(new HandshakeError(0, 'opening handshake timed out')),
      Math.max(0, deadline - Date.now()),
    );
    const onAbort = () => fail(signal!.reason);
    const onError = (error: Error) => fail(error);
    const onClose = () => fail(new HandshakeError(0, 'the stream closed during the opening handshake'));
    function cleanup(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      stream.off('response', onResponse);
      stream.off('error', onError);
      stream.off('close', onClose);
    }
    function fail(error: unknown): void {
      cleanup();
      stream.on('error', ignoreError);
      stream.destroy();
      if (handshakeFailedChannel.hasSubscribers) handshakeFailedChannel.publish({ url: target.href, error });
      reject(error);
    }
    function onResponse(headers: IncomingHttpHeaders): void {
      const status = Number(headers[':status']);
      let socket: Socket<Data>;
      try {
        const fields = headerMap(headers);
        // RFC 8441 §5: any 2xx accepts the WebSocket.
        if (!(status >= 200 && status < 300)) {
          throw new HandshakeError(status, `server answered ${status}`, { headers: fields.toRecord() });
        }
        const agreed = validateAgreement(
          status,
          fields,
          options.protocols ?? [],
          offeredDeflate ? [EXTENSION_NAME] : [],
          { requireProtocol: options.requireProtocol },
        );
        const deflateParams = acceptResponse(agreed.extensions, deflate, status);
        const endpoint = session.socket;
        socket = new Socket<Data>({
          role: 'client',
          transport: stream,
          httpVersion: '2',
          remote: { address: endpoint?.remoteAddress ?? '', port: endpoint?.remotePort ?? 0 },
          handlers: options.handlers ?? (NO_HANDLERS as SocketHandlers<Data>),
          data: options.data as Data,
          protocol: agreed.protocol,
          extensions: formatExtensions(agreed.extensions),
          deflate: deflateParams,
          url: target.href,
          settings: clientSettings(options),
          limits: resolveLimits(options),
        });
      } catch (error) {
        fail(error);
        return;
      }
      cleanup();
      resolve(socket);
      socket.start(undefined);
    }
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.once('response', onResponse);
    stream.on('error', onError);
    stream.once('close', onClose);
  });
}

function headerMap(headers: IncomingHttpHeaders): HeaderMap {
  const map = new HeaderMap();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    if (Array.isArray(value)) for (const item of value) map.add(name, item);
    else map.add(name, String(value));
  }
  return map;
}

function ignoreError(): void {}
