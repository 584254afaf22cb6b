// The implementation under test, driven as a black box through its command line:
// `wsx serve --echo ...` and `wsx connect URL --echo`, or, with WSX_CONFORMANCE_TARGET=ws,
// the reference fixtures built on the `ws` package that follow the same contract.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type TargetName = 'wsx' | 'ws';

export const TARGET: TargetName = process.env.WSX_CONFORMANCE_TARGET === 'ws' ? 'ws' : 'wsx';

const NODE = process.env.WSX_NODE ?? process.execPath;
// Compiled to .build/test/conformance/target.js: the repo root is three levels up.
const CLI = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));
const FIXTURES = new URL('../../../test/conformance/fixtures/', import.meta.url);
const WS_SERVER = fileURLToPath(new URL('ws-echo-server.mjs', FIXTURES));
const WS_CLIENT = fileURLToPath(new URL('ws-echo-client.mjs', FIXTURES));

const LISTEN_LINE = /^wsx listening on (ws:\/\/127\.0\.0\.1:(\d+)\/)$/;
const OUTPUT_LIMIT = 64 * 1024;

function entry(): string {
  const file = TARGET === 'ws' ? WS_SERVER : CLI;
  if (!existsSync(file))
    throw new Error(
      `${file} does not exist${TARGET === 'wsx' ? ' (run `npx tsc -p tsconfig.json` first)' : ''}`,
    );
  return file;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

function collect(proc: ChildProcess): { stderr: () => string } {
  let err = '';
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (d: string) => {
    if (err.length < OUTPUT_LIMIT) err += d;
  });
  return { stderr: () => err };
}

function exitPromise(proc: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null)
      resolve({ code: proc.exitCode, signal: proc.signalCode });
    else proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** Waits for `p` at most `ms`; resolves to undefined on timeout. */
export function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

export interface ServerProcess {
  url: string;
  host: string;
  port: number;
  proc: ChildProcess;
  exited: Promise<Exit>;
  stdoutAfterFirstLine: () => string;
  stderr: () => string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit status. */
  stop(graceMs?: number): Promise<Exit>;
}

/** Starts `serve --echo --port 0 --host 127.0.0.1 ...extraArgs` and waits for its listening line. */
export async function startServer(extraArgs: string[] = [], timeoutMs = 10_000): Promise<ServerProcess> {
  const script = entry();
  const args = [
    script,
    ...(TARGET === 'wsx' ? ['serve'] : []),
    '--echo',
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    ...extraArgs,
  ];
  const proc = spawn(NODE, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const { stderr } = collect(proc);
  const exited = exitPromise(proc);
  let out = '';
  let rest = '';
  proc.stdout?.setEncoding('utf8');
  const first = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `no listening line within ${timeoutMs} ms; stdout=${JSON.stringify(out)} stderr=${stderr()}`,
          ),
        ),
      timeoutMs,
    );
    proc.stdout?.on('data', (d: string) => {
      if (out.includes('\n')) {
        if (rest.length < OUTPUT_LIMIT) rest += d;
        return;
      }
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        rest = out.slice(nl + 1);
        resolve(out.slice(0, nl).replace(/\r$/, ''));
      }
    });
    void exited.then((e) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${e.code ?? e.signal}) before listening; stderr=${stderr()}`));
    });
  });
  let line: string;
  try {
    line = await first;
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }
  const m = LISTEN_LINE.exec(line);
  if (!m) {
    proc.kill('SIGKILL');
    throw new Error(
      `first stdout line is ${JSON.stringify(line)}, expected "wsx listening on ws://127.0.0.1:PORT/"`,
    );
  }
  return {
    url: m[1],
    host: '127.0.0.1',
    port: Number(m[2]),
    proc,
    exited,
    stdoutAfterFirstLine: () => rest,
    stderr,
    async stop(graceMs = 5000) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const e = await within(exited, graceMs);
      if (e) return e;
      proc.kill('SIGKILL');
      return exited;
    },
  };
}

export interface ClientProcess {
  proc: ChildProcess;
  exited: Promise<Exit>;
  stdout: () => string;
  stderr: () => string;
  kill(): void;
}

/** Starts `connect URL --echo`. */
export function spawnClient(url: string, extraArgs: string[] = []): ClientProcess {
  const args =
    TARGET === 'ws' ? [WS_CLIENT, url, ...extraArgs] : [CLI, 'connect', url, '--echo', ...extraArgs];
  if (!existsSync(args[0])) throw new Error(`${args[0]} does not exist`);
  const proc = spawn(NODE, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const { stderr } = collect(proc);
  let out = '';
  proc.stdout?.setEncoding('utf8');
  proc.stdout?.on('data', (d: string) => {
    if (out.length < OUTPUT_LIMIT) out += d;
  });
  return {
    proc,
    exited: exitPromise(proc),
    stdout: () => out,
    stderr,
    kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}
