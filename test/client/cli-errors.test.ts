// What `wsx connect` tells its user, as a real child process: one clear line for everyday
// failures, a line when --reconnect has reconnected, and sent/received lines marked on a
// terminal (a real pseudo-terminal, through util-linux `script`) but not when piped.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type CliRun, runCli } from '../shared/cli.js';
import { HAS_SCRIPT, screenLines, underTerminal } from '../shared/terminal.js';
import { CLI, echoServer, FIXTURES, freePort, NODE, type ServeProcess, serveEcho, until } from './helpers.js';

const runs: CliRun[] = [];
const servers: ServeProcess[] = [];
after(async () => {
  for (const run of runs) run.child.kill('SIGKILL');
  for (const server of servers) await server.stop();
});

function connect(args: string[]): CliRun {
  const run = runCli(['connect', ...args]);
  runs.push(run);
  return run;
}

/** Runs `command` as it is (a `script` command line): nothing added to it. */
function program(command: string[]): CliRun {
  const run = runCli([], command);
  runs.push(run);
  return run;
}

/** Asserts that `err` is exactly one line (a `wsx: ` message, no stack trace) matching `pattern`. */
function oneLine(err: string, pattern: RegExp): void {
  assert.match(err, /^wsx: [^\n]+\n$/, `one line on stderr, got: ${err}`);
  assert.match(err, pattern);
}

describe('wsx connect: errors a user sees', () => {
  it('refuses --max-retries without --reconnect, and a malformed URL, with exit 2', async () => {
    const retries = connect(['ws://127.0.0.1:1/', '--max-retries', '3']);
    assert.equal(await retries.exit(), 2);
    oneLine(retries.err(), /--max-retries needs --reconnect/);
    const bare = connect(['127.0.0.1:8080']);
    assert.equal(await bare.exit(), 2);
    oneLine(bare.err(), /invalid URL: 127\.0\.0\.1:8080 \(did you mean ws:\/\/127\.0\.0\.1:8080\?\)/);
  });

  it('says that a wss:// server did not speak TLS, in one line, exit 1', async () => {
    const plain = await echoServer();
    try {
      const run = connect([`wss://127.0.0.1:${plain.port}/`]);
      run.child.stdin!.end();
      assert.equal(await run.exit(), 1);
      assert.equal(
        run.err(),
        `wsx: TLS handshake failed: the server at 127.0.0.1:${plain.port} did not speak TLS (is it ws://?)\n`,
      );
    } finally {
      await plain.close();
    }
  });

  it('says when a server refuses the connection or its certificate is not trusted', async () => {
    const port = await freePort();
    const refused = connect([`ws://127.0.0.1:${port}/`]);
    refused.child.stdin!.end();
    assert.equal(await refused.exit(), 1);
    oneLine(refused.err(), new RegExp(`cannot connect to 127\\.0\\.0\\.1:${port}: connection refused`));
    const secure = await echoServer({
      tls: { cert: readFileSync(join(FIXTURES, 'cert.pem')), key: readFileSync(join(FIXTURES, 'key.pem')) },
    });
    try {
      const untrusted = connect([secure.url]);
      untrusted.child.stdin!.end();
      assert.equal(await untrusted.exit(), 1);
      oneLine(untrusted.err(), /certificate .* is not trusted: .*--ca FILE .*--insecure/);
    } finally {
      await secure.close();
    }
  });

  it('prints a line on stderr when --reconnect has reconnected after a server restart', async () => {
    const port = await freePort();
    const url = `ws://127.0.0.1:${port}/`;
    const first = await serveEcho(port);
    servers.push(first);
    const run = connect([url, '--reconnect']);
    run.child.stdin!.write('before\n');
    await until(5000, 'the first echo', () => run.out().includes('before\n'));
    await first.stop('SIGKILL');
    await until(5000, 'a reconnection attempt', () => /reconnecting in \d+ ms/.test(run.err()));
    servers.push(await serveEcho(port));
    await until(8000, 'the reconnection', () => run.err().includes(`reconnected to ${url}`));
    const attempts = [...run.err().matchAll(/reconnecting in \d+ ms \(attempt (\d+)\)/g)];
    assert.match(run.err(), new RegExp(`reconnected to ${url} \\(attempt ${attempts.at(-1)![1]}\\)\\n`));
    run.child.stdin!.end();
    assert.equal(await run.exit(), 0);
  });
});

describe('wsx connect: sent and received lines', () => {
  it('marks lines typed at a terminal with > and lines received with <', async (t) => {
    if (!HAS_SCRIPT) return t.skip('util-linux script is not installed: no pseudo-terminal to test under');
    const echo = await echoServer({ welcome: 'welcome' });
    try {
      const run = program(underTerminal([NODE, CLI, 'connect', echo.url]));
      const screen = () => screenLines(run.out().replaceAll('\r\n', '\n'));
      await until(5000, 'the welcome', () => screen().includes('< welcome'));
      // Typed only once the prompt is up: earlier, the terminal would echo it before the prompt.
      await until(5000, 'the prompt', () => screen().at(-1) === '> ');
      run.child.stdin!.write('hello\r');
      await until(5000, 'the echo', () => screen().includes('< hello'));
      run.child.stdin!.write('\x04'); // ^D at the prompt: the input ends, the connection closes
      assert.equal(await run.exit(), 0);
      const lines = screen();
      assert.deepEqual(
        lines.filter((line) => line !== '> '),
        ['< welcome', '> hello', '< hello', 'wsx: closed 1000'],
        run.out(),
      );
    } finally {
      await echo.close();
    }
  });

  it('marks lines sent from a pipe when the output is a terminal', async (t) => {
    if (!HAS_SCRIPT) return t.skip('util-linux script is not installed: no pseudo-terminal to test under');
    const echo = await echoServer();
    try {
      const shell = `printf 'one\\ntwo\\n' | '${NODE}' '${CLI}' connect ${echo.url}`;
      const run = program(['script', '-qec', shell, '/dev/null']);
      assert.equal(await run.exit(), 0);
      const lines = screenLines(run.out().replaceAll('\r\n', '\n'));
      // What the server sends back may come before or after the next line is sent.
      assert.deepEqual(
        lines.filter((line) => line.startsWith('>')),
        ['> one', '> two'],
      );
      assert.deepEqual(
        lines.filter((line) => line.startsWith('<')),
        ['< one', '< two'],
      );
    } finally {
      await echo.close();
    }
  });

  it('prints messages alone when the output is piped, as scripts expect', async () => {
    const echo = await echoServer({ welcome: 'welcome' });
    try {
      const run = connect([echo.url]);
      run.child.stdin!.write('hello\n');
      await until(5000, 'the echo', () => run.out().includes('hello\n'));
      run.child.stdin!.end();
      assert.equal(await run.exit(), 0);
      assert.equal(run.out(), 'welcome\nhello\n');
    } finally {
      await echo.close();
    }
  });
});
