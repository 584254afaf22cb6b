// A real Redis Cluster for tests: three masters (no replicas) on free ports in a temp dir,
// driven with redis-server and redis-cli, stopped and removed after.
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sleep } from '../shared/wait.js';

const run = promisify(execFile);

/** True when redis-server and redis-cli can be run here. */
export const haveRedis =
  spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0 &&
  spawnSync('redis-cli', ['--version'], { encoding: 'utf8' }).status === 0;

/** For `it(name, { skip })`: under CI a missing redis-server fails the tests instead. */
export const skipWithoutRedis = haveRedis || process.env.CI ? false : 'redis-server is not installed';

/** A free TCP port on 127.0.0.1 (and its cluster bus port, +10000, is checked free too). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await listenOnce(0);
    if (port + 10_000 < 65_536 && (await listenOnce(port + 10_000).catch(() => 0)) !== 0) return port;
  }
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const got = (server.address() as { port: number }).port;
      server.close(() => resolve(got));
    });
  });
}

/** One redis-cli command against 127.0.0.1:`port`; its output, trimmed. */
export async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    timeout: 30_000,
  });
  return stdout.trim();
}

/** Polls until `check` holds; throws after `ms` (a hang guard, not a timing assertion). */
async function waitFor(ms: number, what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

export class TestCluster {
  readonly ports: number[];
  readonly dir: string;
  private readonly servers = new Map<number, ChildProcess>();

  private constructor(ports: number[], dir: string) {
    this.ports = ports;
    this.dir = dir;
  }

  /** Starts three masters, creates the cluster and waits for `cluster_state:ok` on every node. */
  static async start(): Promise<TestCluster> {
    const ports: number[] = [];
    while (ports.length < 3) {
      const port = await freePort();
      if (!ports.includes(port)) ports.push(port);
    }
    const cluster = new TestCluster(ports, mkdtempSync(join(tmpdir(), 'wsx-redis-cluster-')));
    try {
      for (const port of ports) await cluster.startNode(port);
      await run(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...ports.map((p) => `127.0.0.1:${p}`),
          '--cluster-replicas',
          '0',
          '--cluster-yes',
        ],
        { timeout: 60_000 },
      );
      await cluster.waitOk();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** The seed nodes for `createCluster`. */
  get rootNodes(): { url: string }[] {
    return this.ports.map((port) => ({ url: `redis://127.0.0.1:${port}` }));
  }

  /** Waits until every running node says `cluster_state:ok` and agrees on the slots. */
  async waitOk(): Promise<void> {
    for (const port of this.ports) {
      await waitFor(60_000, `cluster_state:ok on ${port}`, async () =>
        (await cli(port, 'CLUSTER', 'INFO')).includes('cluster_state:ok'),
      );
    }
  }

  async slotOf(key: string): Promise<number> {
    return Number(await cli(this.ports[0]!, 'CLUSTER', 'KEYSLOT', key));
  }

  /** The port of the master that owns `slot`. */
  async ownerOf(slot: number): Promise<number> {
    const shards = JSON.parse(await cliJson(this.ports[0]!, 'CLUSTER', 'SLOTS')) as [
      number,
      number,
      [string, number],
    ][];
    const range = shards.find(([from, to]) => slot >= from && slot <= to);
    if (range === undefined) throw new Error(`slot ${slot} has no owner`);
    return range[2][1];
  }

  async nodeId(port: number): Promise<string> {
    return cli(port, 'CLUSTER', 'MYID');
  }

  /**
   * Moves `slot` to the master on `to`, keys and all, the way `redis-cli --cluster reshard`
   * does: IMPORTING on the target, MIGRATING on the source, MIGRATE of the keys in batches,
   * then SETSLOT NODE on every master.
   */
  async migrateSlot(slot: number, to: number): Promise<void> {
    const from = await this.ownerOf(slot);
    if (from === to) throw new Error(`slot ${slot} is already on ${to}`);
    const [fromId, toId] = [await this.nodeId(from), await this.nodeId(to)];
    await cli(to, 'CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', fromId);
    await cli(from, 'CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', toId);
    for (;;) {
      const keys = (await cli(from, 'CLUSTER', 'GETKEYSINSLOT', String(slot), '100'))
        .split('\n')
        .filter(Boolean);
      if (keys.length === 0) break;
      await cli(from, 'MIGRATE', '127.0.0.1', String(to), '', '0', '10000', 'KEYS', ...keys);
    }
    for (const port of [to, from, ...this.ports.filter((p) => p !== to && p !== from)]) {
      await cli(port, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', toId);
    }
    await waitFor(60_000, `every node to see slot ${slot} on ${to}`, async () => {
      for (const port of this.ports) {
        const shards = JSON.parse(await cliJson(port, 'CLUSTER', 'SLOTS')) as [
          number,
          number,
          [string, number],
        ][];
        if (!shards.some(([a, b, master]) => slot >= a && slot <= b && master[1] === to)) return false;
      }
      return true;
    });
  }

  /** SHUTDOWN NOSAVE of the master on `port` (its data is gone; its nodes file stays). */
  async shutdown(port: number): Promise<void> {
    const child = this.servers.get(port);
    const exited = new Promise<void>((resolve) => {
      if (child === undefined || child.exitCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    await cli(port, 'SHUTDOWN', 'NOSAVE').catch(() => {});
    await exited;
    this.servers.delete(port);
  }

  /** Starts the master on `port` again with the same nodes file, and waits for the cluster. */
  async restart(port: number): Promise<void> {
    await this.startNode(port);
    await this.waitOk();
  }

  async stop(): Promise<void> {
    for (const child of this.servers.values()) {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
    }
    this.servers.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async startNode(port: number): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
      ],
      { stdio: 'ignore' },
    );
    this.servers.set(port, child);
    await waitFor(30_000, `redis-server on ${port}`, async () => (await cli(port, 'PING')) === 'PONG');
  }
}

/** CLUSTER SLOTS and the like as JSON (redis-cli's --json needs Redis 7's CLI, which we have). */
async function cliJson(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--json', ...args], {
    timeout: 30_000,
  });
  return stdout;
}
