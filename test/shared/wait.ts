// Waiting in tests, with a bound on every wait so that no test can hang.
//
// A bound is a hang guard, never a measurement: it only has to end a test that would otherwise
// wait forever. Each is stretched by WAIT_SCALE (WSX_TEST_WAIT_SCALE, 3 by default) so that a
// 2-core machine running something else beside the suite does not trip a guard written with a
// quiet machine in mind.
import { connect as netConnect } from 'node:net';

const WAIT_SCALE = Math.max(1, Number(process.env.WSX_TEST_WAIT_SCALE ?? 3) || 3);

/** Resolves with what `promise` gives, or rejects after `ms`. */
export function within<T>(guard: number, what: string, promise: Promise<T>): Promise<T> {
  const ms = guard * WAIT_SCALE;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Polls `condition` every few ms until it holds; rejects after `ms`. */
export async function until(guard: number, what: string, condition: () => boolean): Promise<void> {
  const ms = guard * WAIT_SCALE;
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One turn of the event loop. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Whether something listens on 127.0.0.1:`port` now (a process started by a test, say). */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = netConnect(port, '127.0.0.1');
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
