import { constants, createDeflateRaw } from 'node:zlib';
import { deflateWith } from './deflate-output.js';
import type { DeflateParams } from './negotiation.js';
import type { SharedCompression } from './shared-compression.js';
import { storedBlocks } from './stored-blocks.js';
import { ignoreError, UNUSED_CHUNK, type ZlibStream } from './sync-zlib.js';

/** The zlib settings a compressor without context takeover is made with. */
export type DeflateSettings = Pick<DeflateParams, 'localMaxWindowBits' | 'memLevel' | 'level'>;

/**
 * The one compressor for every message sent without context takeover with given settings:
 * each message is compressed with no context before or after it, so the result depends only
 * on the payload and the settings, and one result can be sent to every socket that agreed to
 * the same window, memLevel and level (the broadcast path). Each message ends with a full
 * flush, which clears zlib's match table, so the next message cannot refer back into this one
 * (RFC 7692 §7.1.1.1) without a reset call per message. Sockets hold a reference to theirs,
 * so sending looks nothing up; sockets that agreed to server_no_context_takeover hold no
 * zlib context of their own.
 */
export class SharedDeflater {
  private stream: ZlibStream | null = null;
  private readonly settings: DeflateSettings;

  constructor(settings: DeflateSettings) {
    this.settings = settings;
  }

  compress(payload: Uint8Array): Buffer {
    const stream = this.stream ?? this.open();
    try {
      return deflateWith(stream, payload, constants.Z_FULL_FLUSH);
    } catch (error) {
      // A run cut short still resets, so no half-flushed state reaches the next message.
      if (!stream.destroyed) stream.reset();
      throw error;
    } finally {
      if (stream.destroyed) this.stream = null;
    }
  }

  private open(): ZlibStream {
    const stream = createDeflateRaw({
      windowBits: this.settings.localMaxWindowBits,
      memLevel: this.settings.memLevel,
      level: this.settings.level,
      chunkSize: UNUSED_CHUNK,
    }) as unknown as ZlibStream;
    stream.on('error', ignoreError);
    this.stream = stream;
    return stream;
  }
}

const deflaters = new Map<string, SharedDeflater>();

/** The shared compressor for these settings (made on first use, kept for the process). */
export function sharedDeflaterFor(settings: DeflateSettings): SharedDeflater {
  const key = `${settings.localMaxWindowBits}/${settings.memLevel}/${settings.level}`;
  let deflater = deflaters.get(key);
  if (deflater === undefined) {
    deflater = new SharedDeflater({
      localMaxWindowBits: settings.localMaxWindowBits,
      memLevel: settings.memLevel,
      level: settings.level,
    });
    deflaters.set(key, deflater);
  }
  return deflater;
}

/**
 * A group of sockets that compress identically (see `SharedCompression`): payloads under the
 * threshold go as stored blocks, the rest through the group's shared compressor.
 */
export class SharedCompressionGroup implements SharedCompression {
  readonly key: string;
  /** The compressor every socket of the group sends through. */
  readonly deflater: SharedDeflater;
  private readonly threshold: number;

  constructor(key: string, deflater: SharedDeflater, threshold: number) {
    this.key = key;
    this.deflater = deflater;
    this.threshold = threshold;
  }

  compress(payload: Uint8Array): Uint8Array {
    return payload.length < this.threshold ? storedBlocks(payload, true) : this.deflater.compress(payload);
  }
}

/** One per parameter set, so that sockets with equal parameters share their compressed frames. */
const groups = new Map<string, SharedCompressionGroup>();

/**
 * The group of sockets with these parameters: payloads under `threshold` go as stored blocks
 * (Infinity: every one, for a window too small to compress with).
 */
export function sharedCompressionFor(settings: DeflateSettings, threshold: number): SharedCompressionGroup {
  const key = `w${settings.localMaxWindowBits}.m${settings.memLevel}.l${settings.level}.t${threshold}`;
  let group = groups.get(key);
  if (group === undefined) {
    group = new SharedCompressionGroup(key, sharedDeflaterFor(settings), threshold);
    groups.set(key, group);
  }
  return group;
}
