/**
 * The payload of broadcast mode: `wsxbench:SEQ:MICROS:COUNTED:` then padding to the size asked
 * for. SEQ numbers the publishes from 0, MICROS is when it was published on CLOCK_MONOTONIC
 * (`process.hrtime`, one clock for every process of the machine), COUNTED is 0 during the
 * warm-up. Subscribers find the marker anywhere in a text message, so a server may wrap the
 * payload in an envelope of its own (wsx serve's chat puts it in a JSON string).
 */

const MARKER = Buffer.from('wsxbench:');

/** Microseconds on the monotonic clock shared by the processes of this machine. */
export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export function markedPayload(seq: number, counted: boolean, size: number): string {
  const marker = `wsxbench:${seq}:${monotonicMicros()}:${counted ? 1 : 0}:`;
  return marker.length >= size ? marker : marker + 'x'.repeat(size - marker.length);
}

export interface Marked {
  readonly seq: number;
  readonly micros: number;
  readonly counted: boolean;
}

/** The marker in `data`, or null when it has none (other messages of the server's protocol). */
export function readMarker(data: Buffer): Marked | null {
  const at = data.indexOf(MARKER);
  if (at === -1) return null;
  let i = at + MARKER.length;
  const fields = [0, 0, 0];
  for (let field = 0; field < 3; field++) {
    const start = i;
    let value = 0;
    while (i < data.length && data[i] >= 0x30 && data[i] <= 0x39) value = value * 10 + data[i++] - 0x30;
    if (i === start || data[i] !== 0x3a) return null;
    fields[field] = value;
    i++;
  }
  return { seq: fields[0], micros: fields[1], counted: fields[2] === 1 };
}

/** wsx serve's chat endpoint for `name`: /chat when the URL names no path, with `?name=`. */
export function chatUrl(url: string, name: string): string {
  const parsed = new URL(url);
  if (parsed.pathname === '/') parsed.pathname = '/chat';
  parsed.searchParams.set('name', name);
  return parsed.href;
}
