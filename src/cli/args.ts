import { type ParseArgsConfig, parseArgs } from 'node:util';

/** The help a usage error points to: main names the command being run. */
let helpCommand = 'wsx --help';

/** Makes usage errors point to `wsx <command> --help`. */
export function usageFor(command: string): void {
  helpCommand = `wsx ${command} --help`;
}

/** A bad argument: one line on standard error, exit status 2. */
export function usageError(message: string): never {
  fail(2, `${message} (see '${helpCommand}')`);
}

/**
 * Ends the command with one line on standard error: 2 for bad arguments, 1 for a failure at
 * run time. Everyday mistakes get this rather than a stack trace.
 */
export function fail(status: 1 | 2, message: string): never {
  process.stderr.write(`wsx: ${message}\n`);
  process.exit(status);
}

/** Reads a whole, non-negative number option, or exits with a clear message. */
export function integerOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 0)
    usageError(`--${name} expects a whole number, got ${JSON.stringify(value)}`);
  return number;
}

/** `parseArgs` with errors reported as usage errors rather than stack traces. */
export function parse<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    // Node's messages run over several lines and explain `--`; one line says it.
    const message = (error as Error).message;
    const unknown = /^Unknown option '([^']+)'/.exec(message);
    usageError(unknown === null ? message.replace(/\s*\n\s*/g, ' ') : `unknown option ${unknown[1]}`);
  }
}

/** An option of a command's table, as the parser needs it. */
interface TableOption {
  readonly name: string;
  /** 'boolean' takes no value; 'strings' may be given again; any other kind takes one value. */
  readonly kind: string;
  readonly short?: string;
}

/** `parseArgs` options for a command's table of options, with -h/--help. */
export function parserOptions(
  table: readonly TableOption[],
): Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const option of table) {
    options[option.name] = {
      type: option.kind === 'boolean' ? 'boolean' : 'string',
      ...(option.kind === 'strings' ? { multiple: true } : {}),
      ...(option.short === undefined ? {} : { short: option.short }),
    };
  }
  return options;
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

/** An option as a command's help shows it. */
export interface HelpOption {
  readonly name: string;
  /** A one-letter form (`H` for `-H`). */
  readonly short?: string;
  /** What the help shows after the name (`N`, `BYTES`...). */
  readonly arg?: string;
  readonly help: string;
  /** Shown as "(default ...)". */
  readonly shownDefault?: string;
}

const HELP_COLUMN = 27;
const HELP_WIDTH = 80;

/** One line (or a few, wrapped at 80 columns) of a command's help for `option`. */
export function formatHelpOption(option: HelpOption): string {
  const left = `  ${option.short === undefined ? '' : `-${option.short}, `}--${option.name}${option.arg === undefined ? '' : ` ${option.arg}`}`;
  const help =
    option.shownDefault === undefined ? option.help : `${option.help} (default ${option.shownDefault})`;
  const indent = ' '.repeat(HELP_COLUMN);
  const lines: string[] = [];
  let current = '';
  for (const word of help.split(' ')) {
    if (current !== '' && HELP_COLUMN + current.length + 1 + word.length > HELP_WIDTH) {
      lines.push(current);
      current = word;
    } else {
      current = current === '' ? word : `${current} ${word}`;
    }
  }
  lines.push(current);
  const first = left.length >= HELP_COLUMN ? `${left}\n${indent}` : left.padEnd(HELP_COLUMN);
  return `${first}${lines.join(`\n${indent}`)}\n`;
}
