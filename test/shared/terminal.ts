// What a terminal shows for a program's output, for testing what a user sees under a
// pseudo-terminal (`script`): the program's cursor moves and line clearing applied.
import { spawnSync } from 'node:child_process';

/** Whether util-linux `script` is here to run a command under a pseudo-terminal. */
export const HAS_SCRIPT = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

/** `script` arguments that run `argv` under a pseudo-terminal, quietly, passing its exit status on. */
export function underTerminal(argv: readonly string[]): string[] {
  const quoted = argv.map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(' ');
  return ['script', '-qec', quoted, '/dev/null'];
}

/**
 * The lines on screen after `output`, for the controls readline uses: CR, LF, erase line
 * (ESC [2K), cursor to column (ESC [nG) and erase to the end (ESC [0J, ESC [K).
 */
export function screenLines(output: string): string[] {
  const lines: string[] = [];
  let line = '';
  let cursor = 0;
  const controls = /\x1b\[(\d*)([A-Za-z])|([\s\S])/g;
  for (const [, count, code, char] of output.matchAll(controls)) {
    if (char === '\n') {
      lines.push(line);
      line = '';
      cursor = 0;
    } else if (char === '\r') {
      cursor = 0;
    } else if (char !== undefined) {
      line = line.slice(0, cursor).padEnd(cursor) + char + line.slice(cursor + 1);
      cursor++;
    } else if (code === 'G') {
      cursor = Math.max(0, Number(count || '1') - 1);
    } else if (code === 'K' && count === '2') {
      line = '';
    } else if (code === 'J' || code === 'K') {
      line = line.slice(0, cursor);
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}
