import type { ChildProcess } from 'node:child_process';
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
        const match = /^wsx listening on (ws:\/\/\S+)\n/.exec(out);
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
