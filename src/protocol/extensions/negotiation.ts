import { HandshakeError } from '../errors.js';
import type { ExtensionOffer } from '../handshake/headers.js';

/**
 * permessage-deflate negotiation (RFC 7692 §7.1). Pure functions: an offer or response in,
 * agreed parameters out. A malformed offer is skipped (the server tries the next one); a
 * malformed or unrequested response fails the client's handshake.
 */

export const EXTENSION_NAME = 'permessage-deflate';

/** What one side wants of the extension. Every field has a default. */
export interface PerMessageDeflateOptions {
  /** Negotiate at all. Default true. */
  readonly enabled?: boolean;
  /**
   * The server compresses each message on its own (server_no_context_takeover). On a server
   * the default is true: one compressor then serves every socket (reset after each message),
   * so a socket holds no compressor, and a published message is compressed once for all its
   * subscribers. False keeps a compressor per socket (about 256 KiB at the defaults; freed
   * while the socket is quiet, see `releaseAfter`) for better ratios on similar messages.
   * On a client: ask the server for it (default false).
   */
  readonly serverNoContextTakeover?: boolean;
  /** Ask the client not to keep context between messages. */
  readonly clientNoContextTakeover?: boolean;
  /** Largest LZ77 window for what the server sends, 8-15. Default 15 (no limit asked). */
  readonly serverMaxWindowBits?: number;
  /** Largest LZ77 window for what the client sends, 8-15; on a client `true` offers the parameter without a value. */
  readonly clientMaxWindowBits?: number | true;
  /** zlib memLevel (1-9) of this side's compressor: memory is about 2^(memLevel+9) bytes plus the window. Default 8. */
  readonly memLevel?: number;
  /** zlib compression level (0-9). Default 6 (zlib's default trade-off). */
  readonly level?: number;
  /**
   * Messages smaller than this many bytes are not compressed. Default 1024. A side without
   * context takeover sends them as stored deflate blocks (RSV1 set, no zlib work); one with
   * it sends them plain (RSV1 clear).
   */
  readonly threshold?: number;
  /**
   * Server: milliseconds without a message either way after which a socket's zlib contexts
   * (about 300 KiB with the defaults) are freed. Context takeover carries on: the socket keeps
   * the history it needs (at most one window per direction) and its next message rebuilds
   * the contexts from it. 0 keeps them until the socket closes. Default 10,000.
   */
  readonly releaseAfter?: number;
}

/** How long a quiet socket keeps its zlib contexts, by default. */
export const DEFAULT_RELEASE_AFTER = 10_000;

/** `releaseAfter` of these options, checked; 0 when compression is off. */
export function releaseAfterOf(options: PerMessageDeflateOptions): number {
  if (options.enabled === false) return 0;
  const value = options.releaseAfter ?? DEFAULT_RELEASE_AFTER;
  if (!(value >= 0) || !Number.isFinite(value)) {
    throw new RangeError(`perMessageDeflate.releaseAfter must be >= 0 ms, got ${value}`);
  }
  return value;
}

/** The parameters both sides agreed on, seen from one side. */
export interface DeflateParams {
  /** This side resets its compressor after each message. */
  readonly localNoContextTakeover: boolean;
  /** The peer resets its compressor after each message, so our decompressor must too. */
  readonly remoteNoContextTakeover: boolean;
  /** Window this side may compress with. */
  readonly localMaxWindowBits: number;
  /** Window the peer compresses with: our decompressor needs at least this. */
  readonly remoteMaxWindowBits: number;
  readonly memLevel: number;
  readonly level: number;
  readonly threshold: number;
}

interface RawParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  /** `true` when present without a value. */
  clientMaxWindowBits: number | true | undefined;
}

class BadParameters extends Error {}

/** Reads the parameters of one offer or response; throws BadParameters on any RFC 7692 §7.1 violation. */
function readParams(extension: ExtensionOffer): RawParams {
  const params: RawParams = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined,
  };
  const seen = new Set<string>();
  for (const [name, value] of extension.params) {
    // RFC 7692 §7: an offer or response with duplicate parameters is invalid.
    if (seen.has(name)) throw new BadParameters(`duplicate ${name}`);
    seen.add(name);
    switch (name) {
      case 'server_no_context_takeover':
      case 'client_no_context_takeover':
        if (value !== true) throw new BadParameters(`${name} takes no value`);
        if (name === 'server_no_context_takeover') params.serverNoContextTakeover = true;
        else params.clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits':
        if (value === true) throw new BadParameters('server_max_window_bits needs a value');
        params.serverMaxWindowBits = windowBits(value);
        break;
      case 'client_max_window_bits':
        params.clientMaxWindowBits = value === true ? true : windowBits(value);
        break;
      default:
        throw new BadParameters(`unknown parameter ${name}`);
    }
  }
  return params;
}

/** RFC 7692 §7.1.2.1: a decimal integer from 8 to 15, without leading zeros. */
function windowBits(value: string): number {
  if (!/^(?:8|9|1[0-5])$/.test(value))
    throw new BadParameters(`window bits must be 8-15, got ${JSON.stringify(value.slice(0, 20))}`);
  return Number(value);
}

/** Options from the `boolean | options` shorthand that servers and clients take. */
export function deflateOptions(
  setting: boolean | PerMessageDeflateOptions | undefined,
): PerMessageDeflateOptions {
  if (setting === undefined || setting === true) return {};
  if (setting === false) return { enabled: false };
  return setting;
}

/**
 * A server's options: as `deflateOptions`, with the server's own default of no context
 * takeover on its side. Throws a RangeError for out-of-range settings, so that a route is
 * refused when it is added rather than failing each upgrade.
 */
export function serverDeflateOptions(
  setting: boolean | PerMessageDeflateOptions | undefined,
): PerMessageDeflateOptions {
  const options = deflateOptions(setting);
  if (options.enabled !== false) checkOptions(options);
  return { ...options, serverNoContextTakeover: options.serverNoContextTakeover ?? true };
}

function checkOptions(options: PerMessageDeflateOptions): void {
  const bits = [
    options.serverMaxWindowBits,
    options.clientMaxWindowBits === true ? undefined : options.clientMaxWindowBits,
  ];
  for (const value of bits) {
    if (value !== undefined && (!Number.isInteger(value) || value < 8 || value > 15)) {
      throw new RangeError(`window bits must be 8-15, got ${value}`);
    }
  }
  if (
    options.memLevel !== undefined &&
    !(Number.isInteger(options.memLevel) && options.memLevel >= 1 && options.memLevel <= 9)
  ) {
    throw new RangeError(`memLevel must be 1-9, got ${options.memLevel}`);
  }
  if (
    options.level !== undefined &&
    !(Number.isInteger(options.level) && options.level >= 0 && options.level <= 9)
  ) {
    throw new RangeError(`level must be 0-9, got ${options.level}`);
  }
}

function codecSettings(
  options: PerMessageDeflateOptions,
): Pick<DeflateParams, 'memLevel' | 'level' | 'threshold'> {
  return { memLevel: options.memLevel ?? 8, level: options.level ?? 6, threshold: options.threshold ?? 1024 };
}

/**
 * Server side: picks the first offer it can honour and builds the response. Returns null
 * when none can be accepted (the connection then goes on without the extension).
 */
export function acceptOffer(
  offers: readonly ExtensionOffer[],
  options: PerMessageDeflateOptions,
): { response: ExtensionOffer; params: DeflateParams } | null {
  if (options.enabled === false) return null;
  checkOptions(options);
  for (const offer of offers) {
    if (offer.name !== EXTENSION_NAME) continue;
    let raw: RawParams;
    try {
      raw = readParams(offer);
    } catch {
      continue; // RFC 7692 §5: a server declines offers it cannot parse and tries the next one
    }
    const wantedServerBits = options.serverMaxWindowBits ?? 15;
    const serverBits = Math.min(raw.serverMaxWindowBits ?? 15, wantedServerBits);
    const wantedClientBits = options.clientMaxWindowBits === true ? 15 : (options.clientMaxWindowBits ?? 15);
    let clientBits = 15;
    if (raw.clientMaxWindowBits !== undefined) {
      clientBits = Math.min(
        raw.clientMaxWindowBits === true ? 15 : raw.clientMaxWindowBits,
        wantedClientBits,
      );
    } else if (wantedClientBits < 15) {
      continue; // §7.1.2.2: the server cannot limit a client that did not offer client_max_window_bits
    }
    const response: Array<readonly [string, string | true]> = [];
    // RFC 7692 §7.1.1.1 lets a server declare server_no_context_takeover unasked.
    const serverNoContext = raw.serverNoContextTakeover || options.serverNoContextTakeover === true;
    const clientNoContext = raw.clientNoContextTakeover || options.clientNoContextTakeover === true;
    if (serverNoContext) response.push(['server_no_context_takeover', true]);
    if (clientNoContext) response.push(['client_no_context_takeover', true]);
    if (raw.serverMaxWindowBits !== undefined || serverBits < 15)
      response.push(['server_max_window_bits', String(serverBits)]);
    if (raw.clientMaxWindowBits !== undefined && (raw.clientMaxWindowBits !== true || clientBits < 15)) {
      response.push(['client_max_window_bits', String(clientBits)]);
    }
    return {
      response: { name: EXTENSION_NAME, params: response },
      params: {
        localNoContextTakeover: serverNoContext,
        remoteNoContextTakeover: clientNoContext,
        localMaxWindowBits: serverBits,
        remoteMaxWindowBits: clientBits,
        ...codecSettings(options),
      },
    };
  }
  return null;
}

/** Client side: the offer to send. Default: `permessage-deflate; client_max_window_bits`, as browsers send. */
export function buildOffer(options: PerMessageDeflateOptions): ExtensionOffer | null {
  if (options.enabled === false) return null;
  checkOptions(options);
  const params: Array<readonly [string, string | true]> = [];
  if (options.serverNoContextTakeover) params.push(['server_no_context_takeover', true]);
  if (options.clientNoContextTakeover) params.push(['client_no_context_takeover', true]);
  if (options.serverMaxWindowBits !== undefined)
    params.push(['server_max_window_bits', String(options.serverMaxWindowBits)]);
  const clientBits = options.clientMaxWindowBits ?? true;
  params.push(['client_max_window_bits', clientBits === true ? true : String(clientBits)]);
  return { name: EXTENSION_NAME, params };
}

/**
 * Client side: checks the server's response against what was offered (RFC 7692 §7.1) and
 * returns the agreed parameters. Anything not asked for fails the handshake.
 */
export function acceptResponse(
  responses: readonly ExtensionOffer[],
  options: PerMessageDeflateOptions,
  status: number,
): DeflateParams | null {
  const mine = responses.filter((extension) => extension.name === EXTENSION_NAME);
  if (mine.length === 0) return null;
  const fail = (message: string): never => {
    throw new HandshakeError(status, `permessage-deflate response: ${message}`);
  };
  if (mine.length > 1) fail('accepted more than once');
  let raw: RawParams;
  try {
    raw = readParams(mine[0]);
  } catch (error) {
    return fail((error as Error).message);
  }
  const offeredClientBits = options.clientMaxWindowBits ?? true;
  if (raw.clientMaxWindowBits === true) fail('client_max_window_bits needs a value in a response');
  const grantedClientBits = raw.clientMaxWindowBits as number | undefined;
  if (
    grantedClientBits !== undefined &&
    offeredClientBits !== true &&
    grantedClientBits > offeredClientBits
  ) {
    fail('client_max_window_bits above the offered value');
  }
  if (
    options.serverMaxWindowBits !== undefined &&
    (raw.serverMaxWindowBits ?? 15) > options.serverMaxWindowBits
  ) {
    fail('server_max_window_bits above the offered value');
  }
  return {
    localNoContextTakeover: raw.clientNoContextTakeover,
    remoteNoContextTakeover: raw.serverNoContextTakeover,
    // Without a granted value the server takes any window; a smaller one of our own is always fine.
    localMaxWindowBits: Math.min(
      grantedClientBits ?? 15,
      offeredClientBits === true ? 15 : offeredClientBits,
    ),
    remoteMaxWindowBits: raw.serverMaxWindowBits ?? 15,
    ...codecSettings(options),
  };
}
