// Debian's nginx and HAProxy in front of wsx, started by the tests: each on a free loopback
// port, with its config, pid file and log in a temporary directory of its own, in the
// foreground, and stopped by the PID it was started with.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../client/helpers.js';
import { Peer } from '../shared/peer.js';
import { accepts, sleep, within } from '../shared/wait.js';
import { type ConfigInput, haproxyConfig, nginxConfig, type ProxyRoute } from './proxy-configs.js';

const NGINX = process.env.WSX_NGINX ?? '/usr/sbin/nginx';
const HAPROXY = process.env.WSX_HAPROXY ?? '/usr/sbin/haproxy';
const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';
export const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
/** Upper bound for a proxy to start or stop; only turns a hang into a failure. */
const START_MS = 20_000;

/**
 * nginx's `load_module` line for its stream module (TLS passthrough): '' when built in, the
 * line when Debian's libnginx-mod-stream installed it, undefined when it is missing.
 */
function streamModule(): string | undefined {
  if (!existsSync(NGINX)) return undefined;
  const built = spawnSync(NGINX, ['-V'], { encoding: 'utf8' });
  if (/--with-stream(\s|$)/.test(`${built.stderr}${built.stdout}`)) return '';
  return existsSync(STREAM_MODULE) ? `load_module ${STREAM_MODULE};` : undefined;
}

const STREAM = streamModule();

export type ProxyKind = 'nginx' | 'haproxy';

export const peers: Record<ProxyKind | 'nginx-stream', Peer> = {
  nginx: new Peer('nginx', existsSync(NGINX), 'apt-get install nginx, or WSX_NGINX=path'),
  'nginx-stream': new Peer(
    'nginx-stream',
    STREAM !== undefined,
    'apt-get install nginx libnginx-mod-stream: the stream module passes TLS through',
  ),
  haproxy: new Peer('haproxy', existsSync(HAPROXY), 'apt-get install haproxy, or WSX_HAPROXY=path'),
};

/** The peer a route through `kind` needs: nginx's TLS passthrough needs its stream module too. */
export function peerFor(kind: ProxyKind, route: Pick<ProxyRoute, 'tls'>): Peer {
  return kind === 'nginx' && route.tls === 'passthrough' ? peers['nginx-stream'] : peers[kind];
}

export class ReverseProxy {
  private constructor(
    readonly kind: ProxyKind,
    readonly route: ProxyRoute,
    readonly port: number,
    readonly dir: string,
    private readonly child: ChildProcess,
  ) {}

  /** Starts `kind` in front of `route.upstreamPort`; retries on another port if its port was taken meanwhile. */
  static async start(kind: ProxyKind, route: ProxyRoute): Promise<ReverseProxy> {
    for (let attempt = 1; ; attempt++) {
      const dir = mkdtempSync(join(tmpdir(), `wsx-${kind}-`));
      const port = await freePort();
      const proxy = new ReverseProxy(kind, route, port, dir, launch(kind, route, port, dir));
      try {
        await proxy.ready();
        return proxy;
      } catch (error) {
        const log = proxy.log();
        await proxy.stop();
        if (attempt < 3 && /Address already in use/i.test(log)) continue;
        throw new Error(`${kind} did not start: ${(error as Error).message}\n${log}`);
      }
    }
  }

  /** The URL clients use: wss:// when the proxy ends TLS or passes it through. */
  get url(): string {
    return `${this.route.tls === 'none' ? 'ws' : 'wss'}://127.0.0.1:${this.port}/`;
  }

  /** What the proxy wrote to its error log and standard error, for failure messages. */
  log(): string {
    return ['error.log', 'output.log']
      .map((name) => join(this.dir, name))
      .filter(existsSync)
      .map((file) => readFileSync(file, 'utf8'))
      .join('');
  }

  /** Stops it (SIGTERM to the PID it was started with: nginx's master takes its worker along) and removes its directory. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await within(START_MS, `${this.kind} to exit`, exited).catch(async (error: unknown) => {
        child.kill('SIGKILL');
        await exited;
        throw error;
      });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Resolves once the proxy accepts connections; rejects if it exits first. */
  private async ready(): Promise<void> {
    const deadline = Date.now() + START_MS;
    while (!(await accepts(this.port))) {
      if (this.child.pid === undefined) throw new Error(`${this.kind} could not be run`);
      if (this.child.exitCode !== null) throw new Error(`${this.kind} exited with ${this.child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`${this.kind} did not listen within ${START_MS} ms`);
      await sleep(20);
    }
  }
}

function launch(kind: ProxyKind, route: ProxyRoute, port: number, dir: string): ChildProcess {
  const input: ConfigInput = {
    route,
    port,
    dir,
    cert: join(FIXTURES, 'cert.pem'),
    key: join(FIXTURES, 'key.pem'),
    pem: join(dir, 'site.pem'),
    streamModule: STREAM ?? '',
  };
  const config = join(dir, `${kind}.conf`);
  writeFileSync(config, kind === 'nginx' ? nginxConfig(input) : haproxyConfig(input));
  if (kind === 'haproxy' && route.tls === 'terminate') {
    writeFileSync(input.pem, readFileSync(input.cert, 'utf8') + readFileSync(input.key, 'utf8'));
  }
  const args =
    kind === 'nginx'
      ? ['-p', dir, '-c', config, '-g', 'daemon off;']
      : // -db: stay in the foreground, one process.
        ['-f', config, '-db'];
  const output = openSync(join(dir, 'output.log'), 'a');
  try {
    const child = spawn(kind === 'nginx' ? NGINX : HAPROXY, args, { stdio: ['ignore', output, output] });
    child.on('error', (error) => appendFileSync(join(dir, 'output.log'), `spawn failed: ${error.message}\n`));
    return child;
  } finally {
    closeSync(output);
  }
}
