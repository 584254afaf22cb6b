import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import type { TopicDelivery } from '../server/topic-adapter.js';

/**
 * What travels on a Redis channel (and is kept in a topic's stream): a one-line text header,
 * then the payload as it was published.
 *
 *   wsx1 MODE FLAGS NODE SEQ TIME EPOCH OFFSET\n PAYLOAD
 *
 * MODE is `p` (pub/sub) or `s` (stream); FLAGS 1 for binary, 0 for text; NODE the publishing
 * adapter's id and SEQ its publish counter (so a node knows its own messages); TIME the publish
 * time in ms (for the lag figure); EPOCH and OFFSET the message's place in the topic's history
 * (`-` and 0 in pub/sub mode), filled in by Redis itself in stream mode. Text, so the stream
 * script can finish it with string concatenation.
 */
export interface Envelope {
  readonly mode: 'p' | 's';
  readonly isBinary: boolean;
  readonly node: string;
  readonly seq: number;
  readonly time: number;
  readonly epoch: string;
  readonly offset: number;
  readonly payload: Buffer;
}

const MAGIC = 'wsx1';
/** A header is far shorter than this; past it the message is not ours. */
const MAX_HEADER = 160;
const NEWLINE = 0x0a;
const ID = /^[0-9a-z]{1,24}$/;
const EPOCH = /^([0-9a-z]{1,24}|-)$/;
const DIGITS = /^[0-9]{1,15}$/;

/** One id per adapter: it tells a node its own messages among those coming back from Redis. */
export function newNodeId(): string {
  return BigInt(`0x${randomBytes(8).toString('hex')}`).toString(36);
}

/** The header of a message, up to (pub/sub) or without (stream: Redis appends) epoch and offset. */
export function headerOf(
  mode: 'p' | 's',
  isBinary: boolean,
  node: string,
  seq: number,
  time: number,
): string {
  const head = `${MAGIC} ${mode} ${isBinary ? 1 : 0} ${node} ${seq} ${time} `;
  return mode === 'p' ? `${head}- 0\n` : head;
}

/** Why a message from Redis was refused: it is another application's, or over a limit. */
export class EnvelopeError extends Error {
  /** Always `EnvelopeError`. */
  override readonly name = 'EnvelopeError';
}

/**
 * Reads a message from Redis. Anything published on wsx's channels by something else (another
 * app, a typo in redis-cli) is refused with an error saying why, never passed on half-read.
 */
export function decodeEnvelope(message: Buffer, maxPayload: number): Envelope {
  const end = message.indexOf(NEWLINE, 0);
  if (end < 0 || end > MAX_HEADER) throw new EnvelopeError('not a wsx message (no header line)');
  const fields = message.toString('latin1', 0, end).split(' ');
  const [magic, mode, flags, node, seq, time, epoch, offset] = fields;
  if (fields.length !== 8 || magic !== MAGIC) throw new EnvelopeError('not a wsx message (bad header)');
  if ((mode !== 'p' && mode !== 's') || (flags !== '0' && flags !== '1')) {
    throw new EnvelopeError('not a wsx message (bad mode or flags)');
  }
  if (
    !ID.test(node!) ||
    !EPOCH.test(epoch!) ||
    !DIGITS.test(seq!) ||
    !DIGITS.test(time!) ||
    !DIGITS.test(offset!)
  ) {
    throw new EnvelopeError('not a wsx message (bad header field)');
  }
  const payload = message.subarray(end + 1);
  if (payload.length > maxPayload) {
    throw new EnvelopeError(`message of ${payload.length} bytes is over the limit of ${maxPayload}`);
  }
  const isBinary = flags === '1';
  if (!isBinary && !isUtf8(payload)) throw new EnvelopeError('text message is not valid UTF-8');
  return {
    mode,
    isBinary,
    node: node!,
    seq: Number(seq),
    time: Number(time),
    epoch: epoch!,
    offset: Number(offset),
    payload,
  };
}

/** A stream-mode message as the topic registry takes it: with its position, and no origin. */
export function toDelivery(topic: string, envelope: Envelope): TopicDelivery {
  return {
    topic,
    payload: envelope.payload,
    isBinary: envelope.isBinary,
    position: { offset: envelope.offset, epoch: envelope.epoch },
    origin: null,
  };
}
