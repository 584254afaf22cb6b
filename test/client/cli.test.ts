// `wsx connect`'s client options as a real child process: --reconnect against a killed and
// restarted `wsx serve`, --ping-interval, slash commands, --binary-format, TLS flags.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createServer } from '../../src/index.js';
import { type CliRun, runCli } from '../shared/cli.js';
import {
  acceptResponse,
  CLI,
  echoServer,
  FIXTURES,
  freePort,
  NODE,
  rawServer,
  readRequest,
  type ServeProcess,
  serveEcho,
  until,
} from './helpers.js';

const children: ChildProcess[] = [];
const servers: ServeProcess[] = [];
after(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const server of servers) await server.stop();
});

function connect(args: string[]): CliRun {
  const run = runCli(['connect', ...args], [NODE, CLI]);
  children.push(run.child);
  return run;
}

describe('wsx connect: client options', () => {
  it('--reconnect reconnects to a killed and restarted server, sending lines typed meanwhile', async () => {
    const port = await freePort();
    let server = await serveEcho(port);
    servers.push(server);
    const run = connect([`ws://127.0.0.1:${port}/`, '--reconnect']);
    run.child.stdin!.write('before\n');
    await until(5000, 'the first echo', () => run.out().includes('before\n'));
    await server.stop('SIGKILL');
    await until(5000, 'a reconnection attempt', () => /reconnecting in \d+ ms/.test(run.err()));
    run.child.stdin!.write('while down\n');
    server = await serveEcho(port);
    servers.push(server);
    await until(8000, 'the echo after reconnecting', () => run.out().includes('while down\n'));
    run.child.stdin!.write('after\n');
    await until(5000, 'another echo', () => run.out().includes('after\n'));
    run.child.stdin!.end();
    assert.equal(await run.exit(), 0);
    assert.equal(run.out(), 'before\nwhile down\nafter\n');
  });

  it('--reconnect --max-retries gives up with exit status 1', async () => {
    const port = await freePort();
    const run = connect([`ws://127.0.0.1:${port}/`, '--reconnect', '--max-retries', '2', '--echo']);
    assert.equal(await run.exit(), 1);
    assert.match(run.err(), /giving up after 3 failed attempts/);
  });

  it('--ping-interval fails a connection whose pongs stop coming (exit 1)', async () => {
    const raw = await rawServer(async (socket) => {
      const { headers } = await readRequest(socket);
      socket.write(acceptResponse(headers));
      socket.resume(); // never answers a ping
    });
    try {
      const run = connect([`ws://127.0.0.1:${raw.port}/`, '--ping-interval', '100', '--echo']);
      assert.equal(await run.exit(), 1);
      assert.match(run.err(), /no pong within 100 ms/);
    } finally {
      await raw.close();
    }
  });

  it('takes /ping, /close and // commands with --commands', async () => {
    const echo = await echoServer();
    try {
      const run = connect([echo.url, '--commands']);
      await until(5000, 'the connection', () => echo.sockets.size === 1);
      run.child.stdin!.write('/ping hello\n//starts with a slash\n/bogus\n/close 4001 see you\n');
      assert.equal(await run.exit(), 0);
      assert.equal(run.out(), '/starts with a slash\n');
      assert.match(run.err(), /pong hello/);
      assert.match(run.err(), /unknown command \/bogus/);
      await until(2000, 'the server to see the close', () =>
        echo.closes.some((c) => c.code === 4001 && c.reason === 'see you'),
      );
    } finally {
      await echo.close();
    }
  });

  it('prints binary messages as hex by default, as base64 with --binary-format base64', async () => {
    const server = createServer();
    server.route('/*', {
      open(socket) {
        socket.sendBinary(Buffer.from('deadbeef', 'hex'));
        socket.close(1000);
      },
    });
    const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
    try {
      const hex = connect([`ws://127.0.0.1:${port}/`, '--echo']);
      hex.child.stdin!.end();
      const base64 = connect([`ws://127.0.0.1:${port}/`, '--binary-format', 'base64']);
      base64.child.stdin!.end();
      const plain = connect([`ws://127.0.0.1:${port}/`]);
      plain.child.stdin!.end();
      assert.deepEqual(await Promise.all([hex.exit(), base64.exit(), plain.exit()]), [0, 0, 0]);
      assert.equal(base64.out(), '[binary 4 bytes] 3q2+7w==\n');
      assert.equal(plain.out(), '[binary 4 bytes] deadbeef\n');
      const bad = connect([`ws://127.0.0.1:${port}/`, '--binary-format', 'octal']);
      assert.equal(await bad.exit(), 2);
    } finally {
      await server.close({ timeout: 500 });
    }
  });

  it('verifies wss:// certificates: --ca trusts one, --insecure skips the check', async () => {
    const secure = await echoServer({
      tls: { cert: readFileSync(join(FIXTURES, 'cert.pem')), key: readFileSync(join(FIXTURES, 'key.pem')) },
    });
    try {
      const untrusted = connect([secure.url]);
      untrusted.child.stdin!.end('x\n');
      const withCa = connect([secure.url, '--ca', join(FIXTURES, 'cert.pem')]);
      withCa.child.stdin!.end('trusted\n');
      const insecure = connect([secure.url, '--insecure']);
      insecure.child.stdin!.end('insecure\n');
      assert.deepEqual(await Promise.all([untrusted.exit(), withCa.exit(), insecure.exit()]), [1, 0, 0]);
      assert.match(untrusted.err(), /certificate/);
      assert.equal(withCa.out(), 'trusted\n');
      assert.equal(insecure.out(), 'insecure\n');
    } finally {
      await secure.close();
    }
  });

  it('--help lists the client options', async () => {
    const run = connect(['--help']);
    assert.equal(await run.exit(), 0);
    for (const flag of [
      '--proxy',
      '--ca',
      '--cert',
      '--key',
      '--insecure',
      '--ping-interval',
      '--reconnect',
      '--binary-format',
    ]) {
      assert.ok(run.out().includes(flag), flag);
    }
  });
});
