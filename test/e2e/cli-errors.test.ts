// Everyday mistakes with `wsx` and `wsx serve`, as real processes: each gets one line on
// standard error, no stack trace, and exit status 2 (bad arguments) or 1 (failure at run time).
// Also --version, --help and `wsx` alone.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type CliRun, NODE, runCli, WSX_CLI } from '../shared/cli.js';

const FIXTURES = new URL('../../../test/fixtures/', import.meta.url).pathname;
const PACKAGE = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'wsx-cli-errors-'));

const runs: CliRun[] = [];
after(() => {
  for (const run of runs) run.child.kill('SIGKILL');
});

/** Runs `wsx ...args` with nothing on standard input and waits for it to exit. */
async function wsx(...args: string[]): Promise<{ status: number | null; out: string; err: string }> {
  const run = runCli(args);
  runs.push(run);
  run.child.stdin!.end();
  const status = await run.exit();
  return { status, out: run.out(), err: run.err() };
}

/** Asserts that `err` is exactly one line (a `wsx: ` message, no stack trace) matching `pattern`. */
function oneLine(err: string, pattern: RegExp): void {
  assert.match(err, /^wsx: [^\n]+\n$/, `one line on stderr, got: ${err}`);
  assert.match(err, pattern);
}

describe('wsx serve: everyday mistakes', () => {
  it('a port in use: exit 1 and one line that says so', async () => {
    const holder = createNetServer().listen(0, '127.0.0.1');
    await once(holder, 'listening');
    const { port } = holder.address() as { port: number };
    try {
      const { status, err } = await wsx('serve', '--port', String(port));
      assert.equal(status, 1);
      oneLine(err, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use`));
    } finally {
      holder.close();
    }
  });

  it('--port out of range, --host not an address, an unknown option: exit 2 and one line', async () => {
    const port = await wsx('serve', '--port', '99999');
    assert.equal(port.status, 2);
    oneLine(port.err, /--port expects a port number from 0 to 65535, got "99999"/);
    const host = await wsx('serve', '--host', '999.1.1.1');
    assert.equal(host.status, 2);
    oneLine(host.err, /--host expects an IP address or a host name, got "999\.1\.1\.1"/);
    const unknown = await wsx('serve', '--prot', '8080');
    assert.equal(unknown.status, 2);
    oneLine(unknown.err, /unknown option --prot/);
    const ambiguous = await wsx('serve', '--port', '-1');
    assert.equal(ambiguous.status, 2);
    oneLine(ambiguous.err, /--port/);
  });

  it('--trust-proxy not an address or range, --proxy-header unknown or alone: exit 2 and one line', async () => {
    const cases: Array<[string[], RegExp]> = [
      [
        ['--trust-proxy', '10.0.0.0/33'],
        /--trust-proxy: "10\.0\.0\.0\/33" is not an IP address, a CIDR range/,
      ],
      [['--trust-proxy', '127.0.0.1,proxy.example'], /--trust-proxy: "proxy\.example" is not an IP address/],
      [
        ['--trust-proxy', 'loopback', '--proxy-header', 'x-real-ip'],
        /--proxy-header expects x-forwarded-for or forwarded/,
      ],
      [['--proxy-header', 'forwarded'], /--proxy-header needs --trust-proxy/],
    ];
    for (const [args, pattern] of cases) {
      const { status, err } = await wsx('serve', '--port', '0', ...args);
      assert.equal(status, 2, args.join(' '));
      oneLine(err, pattern);
    }
  });

  it('a host name that does not resolve: exit 1 and one line', async () => {
    const { status, err } = await wsx('serve', '--port', '0', '--host', 'no-such-host.invalid');
    assert.equal(status, 1);
    oneLine(err, /cannot resolve no-such-host\.invalid/);
  });

  it('TLS files missing, unreadable, not PEM, or not a pair: exit 2 and one line naming the option', async () => {
    const cert = join(FIXTURES, 'cert.pem');
    const key = join(FIXTURES, 'key.pem');
    const otherKey = join(dir, 'other-key.pem');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(otherKey, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const cases: Array<[string[], RegExp]> = [
      [['--cert', '/missing', '--key', key], /--cert \/missing: no such file/],
      [['--cert', cert, '--key', '/missing'], /--key \/missing: no such file/],
      [['--cert', dir, '--key', key], /--cert \S+: is a directory/],
      [['--cert', key, '--key', key], /--cert \S+key\.pem: not a PEM certificate/],
      [['--cert', cert, '--key', cert], /--key \S+cert\.pem: not a PEM private key/],
      [['--cert', cert, '--key', otherKey], /--key \S+other-key\.pem is not the private key of --cert/],
      [['--key', key], /--cert and --key go together/],
    ];
    for (const [args, pattern] of cases) {
      const { status, err } = await wsx('serve', '--port', '0', ...args);
      assert.equal(status, 2, args.join(' '));
      oneLine(err, pattern);
    }
  });

  it('an unreadable or malformed --config: exit 2 and one line', async () => {
    const missing = await wsx('serve', '--config', join(dir, 'missing.json'));
    assert.equal(missing.status, 2);
    oneLine(missing.err, /--config \S+missing\.json: no such file/);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{\n  "port": 80,\n');
    const malformed = await wsx('serve', '--config', broken);
    assert.equal(malformed.status, 2);
    oneLine(malformed.err, /--config \S+broken\.json: not JSON/);
  });

  it('permission denied on a port below 1024: exit 1 and one line', async (t) => {
    // Needs an unprivileged user: the tests' own, or nobody (through setpriv) when run as root.
    const unprivileged = readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim();
    if (Number(unprivileged) <= 80) return t.skip(`ports from ${unprivileged} up need no privilege here`);
    let prefix: string[] = [];
    if (process.getuid?.() === 0) {
      prefix = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
      if (spawnSync(prefix[0], ['--version'], { stdio: 'ignore' }).status !== 0) {
        return t.skip('running as root, and setpriv (util-linux) is not here to drop privileges');
      }
    }
    const run = runCli(['serve', '--port', '80'], [...prefix, NODE, WSX_CLI]);
    runs.push(run);
    assert.equal(await run.exit(), 1);
    oneLine(run.err(), /cannot listen on 127\.0\.0\.1:80: permission denied \(ports below 1024/);
  });
});

describe('wsx: version, help and commands', () => {
  it('--version, -V and version print the package version', async () => {
    for (const flag of ['--version', '-V', 'version']) {
      const { status, out, err } = await wsx(flag);
      assert.equal(status, 0);
      assert.equal(out, `wsx ${PACKAGE.version}\n`);
      assert.equal(err, '');
    }
  });

  it('wsx alone exits 2 with a short usage on stderr', async () => {
    const { status, out, err } = await wsx();
    assert.equal(status, 2);
    assert.equal(out, '');
    assert.match(err, /^Usage: wsx <command>/);
    assert.ok(err.split('\n').length <= 3, err);
  });

  it('an unknown command or option: exit 2, the error in one line', async () => {
    const command = await wsx('server');
    assert.equal(command.status, 2);
    oneLine(command.err, /^wsx: unknown command "server": commands are serve, connect and bench/);
    const option = await wsx('--port', '8080');
    assert.equal(option.status, 2);
    oneLine(option.err, /^wsx: unknown option "--port"/);
  });

  it('--help lists the commands; each command keeps its full --help', async () => {
    const { status, out } = await wsx('--help');
    assert.equal(status, 0);
    assert.match(out, /^ {2}serve {5}/m);
    assert.match(out, /^ {2}connect {3}/m);
    assert.match(out, /--version/);
    assert.doesNotMatch(out, /--max-payload/); // the commands' options are in their own help
    assert.ok(out.split('\n').length < 20, out);
    const serve = await wsx('serve', '--help');
    assert.match(serve.out, /--max-payload BYTES/);
    const connect = await wsx('help', 'connect');
    assert.match(connect.out, /--reconnect/);
  });
});
