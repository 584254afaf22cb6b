/**
 * Child processes of the scale-out runner: redis-server on a free port, and node / load
 * processes forked with an IPC channel, each answered by the kind of its next reply.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * Set by the runner's `--cpu-prof=DIR`: every forked process writes a V8 CPU profile there when
 * it exits, named `<n>.<name>.<args>.cpuprofile` (n counts the forks of the run).
 */
export const profiling = { dir: '', forks: 0 };

export class Peer<Reply extends { kind: string }> {
  private readonly waiting = new Map<string, ((reply: Reply) => void)[]>();
  onReply: (reply: Reply) => void = () => {};
  private exited = false;

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    proc.on('message', (reply: Reply) => {
      const queue = this.waiting.get(reply.kind);
      const resolve = queue?.shift();
      if (resolve !== undefined) resolve(reply);
      else this.onReply(reply);
    });
    proc.on('exit', () => {
      this.exited = true;
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  static fork<R extends { kind: string }>(name: string, script: string, args: string[]): Peer<R> {
    const label = `${++profiling.forks}.${name.replace(' ', '')}.${args
      .filter((a) => !a.startsWith('--redis='))
      .map((a) => a.replace(/^--\w+=/, ''))
      .join('-')}`;
    const profile =
      profiling.dir === ''
        ? []
        : ['--cpu-prof', `--cpu-prof-dir=${profiling.dir}`, `--cpu-prof-name=${label}.cpuprofile`];
    const proc = fork(script, args, {
      execArgv: ['--expose-gc', ...profile],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Peer<R>(name, proc);
  }

  send(command: object): void {
    if (!this.exited) this.proc.send(command);
  }

  /** The next reply of `kind`, or an error after `ms`. */
  next<K extends Reply['kind']>(kind: K, ms = 30_000): Promise<Extract<Reply, { kind: K }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no '${kind}' within ${ms} ms`)), ms);
      const queue = this.waiting.get(kind) ?? [];
      this.waiting.set(kind, queue);
      queue.push((reply) => {
        clearTimeout(timer);
        resolve(reply as Extract<Reply, { kind: K }>);
      });
    });
  }

  ask<K extends Reply['kind']>(command: object, kind: K): Promise<Extract<Reply, { kind: K }>> {
    const answer = this.next(kind);
    this.send(command);
    return answer;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.proc.once('exit', () => resolve());
      this.proc.kill(signal);
    });
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** redis-server without persistence, on a free port; resolves once it accepts connections. */
export async function startRedis(): Promise<{ proc: ChildProcess; url: string; version: string }> {
  const port = await freePort();
  const proc = spawn(
    '/usr/bin/redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${log}`)), 10_000);
    proc.stdout!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once('exit', (code) => reject(new Error(`redis-server exited with ${code}:\n${log}`)));
  });
  proc.stdout!.resume();
  const version = /v(?:ersion)?=([\d.]+)/.exec(log)?.[1] ?? '?';
  return { proc, url: `redis://127.0.0.1:${port}`, version };
}

/** Busy ticks of the whole machine (user + nice + system + steal), from /proc/stat. */
export function machineTicks(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return cpu[0]! + cpu[1]! + cpu[2]! + cpu[7]!;
}
