import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { within } from './wait.js';

/** The node binary that runs wsx: the runner sets WSX_NODE so CI can test under another Node. */
export const NODE = process.env.WSX_NODE ?? process.execPath;
/** The built command-line tool. */
export const WSX_CLI = new URL('../../../dist/cli/main.js', import.meta.url).pathname;

/** The URL `wsx serve` prints as its first line once it listens; rejects if it exits first or after `ms`. */
export function listeningUrl(child: ChildProcess, ms: number): Promise<string> {
  return within(
    ms,
    'wsx serve to print its URL',
    new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /^wsx listening on (wss?:\/\/\S+)\n/.exec(out);
        if (match) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`wsx serve exited with ${code}`)));
    }),
  );
}

/** The port of a `ws://host:port/` URL. */
export function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** A `wsx` child process with its output collected. */
export interface CliRun {
  readonly child: ChildProcess;
  out(): string;
  err(): string;
  /** Resolves with the exit status once the process has exited (and its output is all read). */
  exit(): Promise<number | null>;
}

/** Runs `wsx ...args` (or, with `command`, another program) with every stream piped. */
export function runCli(args: readonly string[], command: readonly string[] = [NODE, WSX_CLI]): CliRun {
  const child = spawn(command[0], [...command.slice(1), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  // 'close' rather than 'exit': it comes after the output streams have ended.
  const closed = once(child, 'close').then(([code]) => code as number | null);
  return {
    child,
    out: () => out,
    err: () => err,
    exit: () => within(10_000, `wsx ${args.join(' ')} to exit (stderr: ${err})`, closed),
  };
}
