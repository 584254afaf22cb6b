import { type ParseArgsConfig, parseArgs } from 'node:util';

/** Reads a whole, non-negative number option, or exits with a clear message. */
export function integerOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 0)
    usageError(`--${name} expects a whole number, got ${JSON.stringify(value)}`);
  return number;
}

export function usageError(message: string): never {
  process.stderr.write(`wsx: ${message}\nRun 'wsx --help' for usage.\n`);
  process.exit(2);
}

/** `parseArgs` with errors reported as usage errors rather than stack traces. */
export function parse<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    usageError((error as Error).message);
  }
}

/** Parses `-H 'Name: value'` options into a header record. */
export function headerOptions(values: readonly string[] | undefined): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  for (const line of values ?? []) {
    const colon = line.indexOf(':');
    if (colon <= 0) usageError(`-H expects 'Name: value', got ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).trim();
    (headers[name] ??= []).push(line.slice(colon + 1).trim());
  }
  return headers;
}
