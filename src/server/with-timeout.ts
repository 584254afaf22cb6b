/** What `withTimeout` resolves with when the time ran out first. */
export const TIMED_OUT = Symbol('timed out');

/** `value`, or TIMED_OUT after `ms` (the timer does not keep the process alive). */
export function withTimeout<T>(value: T | Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  return new Promise<T | typeof TIMED_OUT>((resolve, reject) => {
    const timer = setTimeout(resolve, ms, TIMED_OUT);
    timer.unref();
    Promise.resolve(value).then(
      (result) => {
        clearTimeout(timer);
        resolve(result);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
