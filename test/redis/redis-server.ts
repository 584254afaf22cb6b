// A real redis-server for the tests: started on a free port in a temporary directory,
// restarted on the same port and directory (with or without its data), stopped at the end.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../shared/wait.js';

export const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find(existsSync);

/**
 * Why the Redis tests cannot run here, or false when they can. Outside CI a missing
 * redis-server skips each test (counted); under CI it is installed, so the tests run and a
 * missing server fails them.
 */
export const redisSkip: string | false =
  REDIS_SERVER === undefined && !process.env.CI
    ? 'redis-server is not installed (apt-get install redis-server)'
    : false;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RedisOptions {
  /** Keep data across restarts: append-only file, fsync on every write. */
  readonly persistent?: boolean;
}

export class RedisServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'wsx-redis-'));
  private child: ChildProcess | null = null;

  private constructor(
    readonly port: number,
    private readonly options: RedisOptions,
  ) {}

  static async start(options: RedisOptions = {}, port?: number): Promise<RedisServer> {
    if (REDIS_SERVER === undefined)
      throw new Error('redis-server is not installed (apt-get install redis-server)');
    const server = new RedisServer(port ?? (await freePort()), options);
    await server.run();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server (again) on its port and directory. */
  async run(): Promise<void> {
    const persistence = this.options.persistent
      ? ['--appendonly', 'yes', '--appendfsync', 'always', '--save', '']
      : ['--appendonly', 'no', '--save', ''];
    this.child = spawn(
      REDIS_SERVER!,
      ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, ...persistence],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 1000; i++) {
      if (this.ping()) return;
      await sleep(20);
    }
    throw new Error(`redis-server did not answer on port ${this.port}`);
  }

  /** `redis-cli`-free PING through a short-lived process: true once the server answers. */
  private ping(): boolean {
    const result = spawnSync(
      process.execPath,
      [
        '-e',
        `const s=require('net').connect(${this.port},'127.0.0.1');s.on('error',()=>process.exit(1));s.write('PING\\r\\n');s.on('data',d=>process.exit(String(d).startsWith('+PONG')?0:1));setTimeout(()=>process.exit(1),1000)`,
      ],
      { stdio: 'ignore' },
    );
    return result.status === 0;
  }

  /** Stops the server: SIGKILL loses whatever was not written to disk, as a crash does. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child === null || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  /** Stops (as a crash) and starts again on the same port and directory. */
  async restart(): Promise<void> {
    await this.stop();
    await this.run();
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
