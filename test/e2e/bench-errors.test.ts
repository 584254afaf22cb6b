// `wsx bench` mistakes: each is one line on standard error and exit status 2 (bad arguments,
// a target that is not this machine) or 1 (no server there); --help and `wsx help bench`.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createNetServer } from 'node:net';
import { describe, it } from 'node:test';
import { runCli } from '../shared/cli.js';
import { bench } from './bench-helpers.js';

/** Asserts `err` is one `wsx: ` line (no stack trace) matching `pattern`. */
function oneLine(err: string, pattern: RegExp): void {
  assert.match(err, /^wsx: [^\n]+\n$/, `one line on stderr, got: ${err}`);
  assert.match(err, pattern);
}

describe('wsx bench: mistakes', () => {
  it('refuses a target that is not this machine unless --allow-remote, before connecting', async () => {
    // 192.0.2.0/24 is reserved for documentation: nothing is sent there, the check comes first.
    const run = await bench(['echo', 'ws://192.0.2.1:8080/', '--messages', '1']);
    assert.equal(run.status, 2);
    oneLine(
      run.err,
      /ws:\/\/192\.0\.2\.1:8080\/ is not on this machine: wsx bench loads loopback addresses only, unless --allow-remote/,
    );
    const mapped = await bench(['connect', 'ws://[::ffff:10.0.0.1]:8080/']);
    assert.equal(mapped.status, 2);
    oneLine(mapped.err, /is not on this machine/);
    const publish = await bench([
      ...['broadcast', 'ws://127.0.0.1:9/', '--publish-url', 'http://192.0.2.1/publish/x'],
    ]);
    assert.equal(publish.status, 2);
    oneLine(publish.err, /http:\/\/192\.0\.2\.1\/publish\/x is not on this machine/);
  });

  it('bad arguments: exit 2 and one line naming the problem', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /bench expects a mode \(echo, connect, idle, broadcast\) and a URL/],
      [['flood', 'ws://127.0.0.1/'], /unknown mode "flood": echo, connect, idle, broadcast/],
      [['echo'], /bench echo expects a URL/],
      [['echo', '127.0.0.1:8080'], /did you mean ws:\/\/127\.0\.0\.1:8080/],
      [
        ['echo', 'ws://127.0.0.1/', '--size', '0'],
        /--size expects a whole number from 1 to 16777216, got "0"/,
      ],
      [
        ['echo', 'ws://127.0.0.1/', '--duration', 'long'],
        /--duration expects a number of seconds from 0\.1 to 3600/,
      ],
      [
        ['echo', 'ws://127.0.0.1/', '--connections', '50001'],
        /--connections expects a whole number from 1 to 50000/,
      ],
      [['connect', 'ws://127.0.0.1/', '--depth', '4'], /--depth is for echo and broadcast, not connect/],
      [['echo', 'ws://127.0.0.1/', '--handshakes', '4'], /--handshakes is for connect, not echo/],
      [['echo', 'ws://127.0.0.1/', '--deflate', '--no-deflate'], /--deflate and --no-deflate conflict/],
      [['broadcast', 'ws://127.0.0.1/', '--format', 'sse'], /--format expects chat or raw/],
      [
        ['broadcast', 'ws://127.0.0.1/', '--subscribe-message', 'x'],
        /--subscribe-message is for --format raw/,
      ],
      [
        ['broadcast', 'ws://127.0.0.1/', '--format', 'raw', '--publish-template', 'x'],
        /must contain \{payload\}/,
      ],
      [
        ['echo', 'ws://127.0.0.1/', '--connections', '1000', '--depth', '1000', '--size', '2000'],
        /bytes in flight/,
      ],
      [['echo', 'ws://127.0.0.1/', '--cert', '/nonexistent.pem'], /--cert and --key go together/],
      [['echo', 'ws://127.0.0.1/', '--ca', '/nonexistent.pem'], /--ca \/nonexistent\.pem: no such file/],
      [['echo', 'ws://127.0.0.1/', '--pid', '4194303'], /--pid 4194303: no such process/],
      [['echo', 'ws://127.0.0.1/', '--speed', '9'], /unknown option --speed/],
      [['echo', 'ws://127.0.0.1/', '-H', 'no colon'], /-H expects 'Name: value'/],
    ];
    for (const [args, pattern] of cases) {
      const run = await bench(args);
      assert.equal(run.status, 2, `${args.join(' ')}: ${run.err}`);
      oneLine(run.err, pattern);
      assert.match(run.err, /\(see 'wsx bench --help'\)/);
    }
  });

  it('no server at the address: exit 1 and one line, before any worker starts', async () => {
    const holder = createNetServer().listen(0, '127.0.0.1');
    await once(holder, 'listening');
    const { port } = holder.address() as { port: number };
    holder.close();
    await once(holder, 'close');
    const run = await bench(['echo', `ws://127.0.0.1:${port}/`, '--messages', '10']);
    assert.equal(run.status, 1);
    oneLine(run.err, new RegExp(`cannot connect to 127\\.0\\.0\\.1:${port}: connection refused`));
  });

  it('--help and `wsx help bench` print the options', async () => {
    const run = await bench(['--help']);
    assert.equal(run.status, 0);
    assert.match(run.out, /^Usage: wsx bench MODE URL \[options\]/);
    for (const option of [
      '--connections',
      '--depth',
      '--workers',
      '--allow-remote',
      '--publish-url',
      '-H, --header',
    ]) {
      assert.ok(run.out.includes(option), option);
    }
    assert.match(run.out, /HTTP\/2 \(RFC 8441\) is not supported/);
    const help = runCli(['help', 'bench']);
    assert.equal(await help.exit(), 0);
    assert.equal(help.out(), run.out);
  });
});
