import type { BenchMode } from './options.js';

/** Numbers and units as the progress line and the summary show them. */

/** 1234567 → "1,234,567". */
export function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** Microseconds as milliseconds: three significant digits, down to the microsecond. */
export function ms(microseconds: number): string {
  const value = microseconds / 1000;
  return value.toFixed(value < 1 ? 3 : value < 10 ? 2 : value < 100 ? 1 : 0);
}

/** What one operation of each mode is called, per second. */
export const RATE_UNIT: Record<BenchMode, string> = {
  echo: 'msg/s',
  connect: 'handshakes/s',
  idle: 'handshakes/s',
  broadcast: 'deliveries/s',
};
