// Every program of examples/ runs as a user runs it (a child `node examples/NAME/main.mjs`
// against the built package) and prints what it did: these tests check those lines, so an
// example that stops working, or stops showing what its README line says, fails here.
// The browser page is checked in Chromium (browser.test.ts); Redis scale-out in redis.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { connect } from '../../src/index.js';
import { until } from '../shared/wait.js';
import { examplePath, printed, ROOT, runExample, startExample } from './run.js';

const EXAMPLES = readdirSync(join(ROOT, 'examples'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

/** Runs an example and checks that it exits 0 having printed exactly `expected`. */
async function printsExactly(name: string, expected: string[]): Promise<void> {
  const { code, lines, stderr } = await runExample(name);
  assert.equal(code, 0, `${name} exited with ${code}: ${stderr}`);
  assert.deepEqual(lines, expected);
}

describe('examples', { timeout: 300_000 }, () => {
  it('each is listed in examples/README.md with its command, and imports wsx by its name only', () => {
    const readme = readFileSync(join(ROOT, 'examples', 'README.md'), 'utf8');
    for (const name of EXAMPLES) {
      assert.ok(
        readme.includes(`node ${examplePath(name)}`),
        `examples/README.md lacks the command of ${name}`,
      );
      const source = readFileSync(join(ROOT, examplePath(name)), 'utf8');
      const imported = [...source.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom '([^']+)'/gm)].map(
        (match) => match[1],
      );
      for (const specifier of imported)
        assert.match(
          specifier,
          /^(node:|wsx$|wsx\/)/,
          `${name} imports ${specifier}: only wsx and node: modules`,
        );
    }
  });

  it("README's first screen points to the examples, wsx bench and the dashboard", () => {
    const firstScreen = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n').slice(0, 40).join('\n');
    for (const pointer of [
      '(examples/README.md)',
      'node examples/echo-server/main.mjs',
      'wsx bench',
      '/dashboard',
    ])
      assert.ok(firstScreen.includes(pointer), `README's first 40 lines lack ${pointer}`);
  });

  it('type-check as JavaScript against the package: names and options of the public API', () => {
    const tsc = join(
      dirname(createRequire(import.meta.url).resolve('typescript/package.json')),
      'bin',
      'tsc',
    );
    const flags = ['--ignoreConfig', '--allowJs', '--checkJs', '--noEmit', '--skipLibCheck'];
    const settings = ['--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022'];
    // Loose where plain JavaScript cannot say more without JSDoc everywhere.
    const loose = [
      '--lib',
      'es2022',
      '--types',
      'node',
      '--noImplicitAny',
      'false',
      '--strictNullChecks',
      'false',
    ];
    const files = EXAMPLES.map(examplePath);
    const result = spawnSync(process.execPath, [tsc, ...flags, ...settings, ...loose, ...files], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, `tsc found errors in examples/:\n${result.stdout}${result.stderr}`);
  });

  it('echo-server: a text and a binary message come back, then a clean close', async () => {
    await printsExactly('echo-server', [
      'connected to /echo',
      'echo: text héllo, wsx',
      'echo: binary 1,2,3',
      'closed 1000 done (clean)',
      'server closed',
    ]);
  });

  it('echo-server --port: keeps serving other clients until SIGTERM', async () => {
    const run = startExample('echo-server', ['--port', '0']);
    const [, url] = await printed(run, /^echo server on (ws:\/\/\S+) /);
    const echoes: string[] = [];
    const socket = await connect(url, {
      handlers: { message: (_socket, data) => echoes.push(data.toString('utf8')) },
    });
    socket.sendText('from another client');
    await until(10_000, 'the echo', () => echoes.length === 1);
    assert.deepEqual(echoes, ['from another client']);
    run.child.kill('SIGTERM');
    assert.equal(await run.exit(), 0, run.err());
  });

  it('auth-rooms: refusals by status, then messages stay in their room', async () => {
    await printsExactly('auth-rooms', [
      'no token: refused with 401',
      'unknown token: refused with 401',
      'bad room name: refused with 400',
      'ada: welcome ada, you are in blue',
      'bob: welcome bob, you are in blue',
      'cy: welcome cy, you are in green',
      'blue has 2 members, green has 1',
      'ada heard: bob: hello ada',
      'bob heard: ada: hi blue room',
      'cy heard: nothing',
    ]);
  });

  it('chat-presence: joins, messages and leaves, as the first member sees them', async () => {
    await printsExactly('chat-presence', [
      'ada got general: ada joined (members: ada)',
      'ada got general: bob joined (members: ada, bob)',
      'ada got general: <bob> hi ada',
      'ada got error: join the topic first',
      'ada got random: ada joined (members: ada)',
      'ada got general: bob left (members: ada)',
      'ada got random: bob joined (members: ada, bob)',
      'ada got random: bob left (members: ada)',
      'topics left on the server: 0',
    ]);
  });

  it('graceful-shutdown: readers get everything then 1001; the stuck client is terminated and counted', async () => {
    await printsExactly('graceful-shutdown', [
      'shutdown: 3 closed cleanly, 0 uncleanly, 1 terminated',
      'undelivered: 1 socket(s), over 1 MiB',
      'ada: every message, then 1001 server shutting down',
      'bob: every message, then 1001 server shutting down',
      'cy: every message, then 1001 server shutting down',
    ]);
  });

  it('compression: each setting puts what it should on the wire', async () => {
    const { code, lines, stderr } = await runExample('compression');
    assert.equal(code, 0, stderr);
    // Sizes on the wire depend on zlib's output, so they are compared, not written down.
    const routes: Array<{ heading: string; wire: Array<{ ask: string; size: number; wire: number }> }> = [];
    for (const line of lines) {
      const reply = /^ {2}(\S+): (\d+) bytes sent as (\d+) on the wire \(\d+%\)$/.exec(line);
      if (reply) routes.at(-1)!.wire.push({ ask: reply[1], size: Number(reply[2]), wire: Number(reply[3]) });
      else routes.push({ heading: line, wire: [] });
    }
    assert.deepEqual(
      routes.map((route) => [route.heading, route.wire.map((reply) => reply.ask)]),
      [
        [
          '/shared: permessage-deflate; server_no_context_takeover',
          ['doc', 'doc', 'doc-uncompressed', 'small'],
        ],
        ['/per-socket: permessage-deflate', ['doc', 'doc']],
        ['/off: no extension', ['doc']],
        ['/shared (client says no): no extension', ['doc']],
      ],
    );
    const [shared, perSocket, off, clientOff] = routes.map((route) => route.wire);
    assert.ok(shared[0].wire < shared[0].size / 4, 'the document compresses');
    assert.equal(
      shared[1].wire,
      shared[0].wire,
      'without context takeover, the same document costs the same',
    );
    assert.ok(shared[2].wire > shared[2].size, 'compress: false sends it whole');
    assert.ok(shared[3].wire > shared[3].size, 'a message under the threshold is not compressed');
    assert.equal(perSocket[0].wire, shared[0].wire);
    assert.ok(perSocket[1].wire < perSocket[0].wire / 4, 'with context takeover a repeat costs far less');
    for (const [reply] of [off, clientOff]) {
      assert.ok(
        reply.wire > reply.size && reply.wire < reply.size + 16,
        'uncompressed: the payload and a header',
      );
    }
  });

  it('reconnecting-client: the queue survives the outage, then it gives up after maxRetries', async () => {
    await printsExactly('reconnecting-client', [
      'connected',
      'server 1 received: hello, m1',
      'connection lost (1001), reconnecting',
      'queue full: dropped "m2"',
      'queued while offline: 3',
      'reconnected; server 2 received: hello again, m3, m4, m5',
      'gave up after 3 failed attempts; close 1006',
    ]);
  });

  it('stream-file: a file up and back down intact, with backpressure both ways', async () => {
    await printsExactly('stream-file', [
      'while the server was not reading, the client read less than half of the file',
      "uploaded 33554432 bytes; the server's sha256 matches",
      'downloaded 33554432 bytes into a file; sha256 matches',
      'the server waited for the client to catch up: yes',
      'closed 1000 done',
    ]);
  });
});
