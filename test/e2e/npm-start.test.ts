// `npm start` under a process manager: SIGTERM to npm must reach the server, not orphan it.
// Runs the real `npm start` in a copy of the project (its own dist/, so the build it runs does not
// rewrite the dist/ that other test files load) and follows the process tree through /proc.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { NODE, portOf } from '../shared/cli.js';
import { until, within } from '../shared/wait.js';

const ROOT = new URL('../../..', import.meta.url).pathname;
// npm and the start script find node on PATH: put the runner's node first, so CI's second Node runs them.
const ENV = { ...process.env, PATH: `${dirname(NODE)}${delimiter}${process.env.PATH ?? ''}` };
const URL_LINE = /^wsx listening on (ws:\/\/\S+)$/m;
const linuxSkip =
  process.platform === 'linux' ? false : 'follows the process tree through /proc (Linux only)';

/** Parent pid and state of a process, or null once it is gone. A zombie counts as gone: it has exited. */
function processInfo(pid: number): { ppid: number; state: string } | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces and parentheses: read the fields after its last ')'.
  const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return state === 'Z' || state === 'X' ? null : { ppid: Number(ppid), state };
}

/** Every live process below `root`, with its arguments. */
function descendants(root: number): { pid: number; argv: string[] }[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const info = processInfo(pid);
    if (info) children.set(info.ppid, [...(children.get(info.ppid) ?? []), pid]);
  }
  const found: { pid: number; argv: string[] }[] = [];
  const queue = [...(children.get(root) ?? [])];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    try {
      found.push({ pid, argv: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0') });
    } catch {
      continue; // exited while we looked
    }
    queue.push(...(children.get(pid) ?? []));
  }
  return found;
}

/** Resolves true once a TCP connection to the port is refused, false while something accepts. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

describe('npm start', { skip: linuxSkip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsx-start-'));
  let npm: ChildProcess | undefined;
  let serverPid: number | undefined;
  after(() => {
    npm?.kill('SIGKILL');
    if (serverPid !== undefined && processInfo(serverPid)) process.kill(serverPid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('hands SIGTERM to the server: no orphan, the port closes', async () => {
    for (const name of ['package.json', 'tsconfig.json', 'src']) {
      cpSync(join(ROOT, name), join(dir, name), { recursive: true });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    npm = spawn('npm', ['start', '--', '--port', '0'], {
      cwd: dir,
      env: ENV,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    npm.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    npm.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(npm, 'exit');
    // npm prints its own lines first: find the server's among them.
    await until(60_000, 'npm start to print the URL', () => {
      if (npm!.exitCode !== null || npm!.signalCode !== null) throw new Error(`npm start exited:\n${output}`);
      return URL_LINE.test(output);
    });
    const port = portOf(URL_LINE.exec(output)![1]);
    // The node process itself, not a shell whose script line names it.
    const servers = descendants(npm.pid!).filter((p) => p.argv.includes('dist/cli/main.js'));
    assert.equal(servers.length, 1, `one server process below npm: ${JSON.stringify(descendants(npm.pid!))}`);
    serverPid = servers[0].pid;
    assert.equal(existsSync(join(dir, 'dist', 'cli', 'main.js')), true, 'npm start built dist/');

    npm.kill('SIGTERM');
    await within(20_000, 'npm to exit', exited);
    const server = serverPid;
    await until(20_000, `the server (pid ${server}) to exit`, () => processInfo(server) === null);
    // The kernel closes an exited process's sockets, so one attempt tells.
    assert.equal(await refused(port), true, `port ${port} refuses connections`);
  });
});
