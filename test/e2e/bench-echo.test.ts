// `wsx bench echo` against real servers: `wsx serve --echo` (counts, percentiles, workers
// merged, text, deflate, wss://), a server that corrupts echoes (errors, exit status 1), a
// server that checks what the client offers (headers, subprotocols), and the live progress
// line on a terminal.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { createServer, reject, type WebSocketServer } from '../../src/index.js';
import { NODE, WSX_CLI } from '../shared/cli.js';
import { HAS_SCRIPT, screenLines, underTerminal } from '../shared/terminal.js';
import { within } from '../shared/wait.js';
import { bench, cleanResult, resultOf, serve } from './bench-helpers.js';

const FIXTURES = new URL('../../../test/fixtures/', import.meta.url).pathname;

const servers: WebSocketServer[] = [];
after(async () => {
  for (const server of servers) await server.close({ timeout: 1000 });
});

/** A wsx server on loopback that echoes each message through `change` first. */
async function echoingServer(change: (data: Buffer, count: number) => Buffer): Promise<string> {
  const server = createServer();
  servers.push(server);
  let count = 0;
  server.route('/*', {
    message(socket, data, isBinary) {
      const echoed = change(Buffer.from(data), ++count);
      if (isBinary) socket.sendBinary(echoed);
      else socket.sendText(echoed);
    },
  });
  const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
  return `ws://127.0.0.1:${port}/`;
}

describe('wsx bench echo', () => {
  it('counts exactly the messages asked for against wsx serve --echo, with no error', async () => {
    const { url } = await serve(['--echo']);
    const run = await bench(`echo ${url} --messages 500 --connections 10 --depth 4 --workers 1 --json`);
    const result = cleanResult(run, 500);
    assert.equal(result.mode, 'echo');
    assert.equal(result.messages, 500);
    assert.equal(result.connections, 10);
    assert.equal(result.workers, 1);
    assert.ok((result.messagesPerSecond ?? 0) > 0);
    assert.equal(result.latency.unit, 'ms');
  });

  it('--workers 2 shares the connections and the count, and the primary adds them up', async () => {
    const { url } = await serve(['--echo']);
    // 301 does not split evenly: one worker makes 151, the other 150.
    const run = await bench(`echo ${url} --messages 301 --connections 7 --workers 2 --json`);
    const result = cleanResult(run, 301);
    assert.equal(result.workers, 2);
    assert.equal(result.connections, 7);
    assert.equal(result.messages, 301);
  });

  it('checks text echoes of multi-byte UTF-8, with permessage-deflate agreed', async () => {
    const { url } = await serve(['--echo']);
    const run = await bench(
      `echo ${url} --text --deflate --size 3000 --messages 200 --connections 4 --workers 2 --json`,
    );
    const result = cleanResult(run, 200);
    assert.equal(result.text, true);
    assert.equal(result.deflate, true);
    assert.equal(result.messages, 200);
  });

  it('reports echoes that differ from what was sent as errors, and exits 1', async () => {
    // Every fifth echo has one byte flipped.
    const url = await echoingServer((data, count) => {
      if (count % 5 === 0) data[data.length - 1] ^= 0xff;
      return data;
    });
    const run = await bench(`echo ${url} --messages 100 --connections 2 --workers 1 --json`);
    assert.equal(run.status, 1, run.err);
    const result = resultOf(run);
    assert.equal(result.errorKinds.mismatch, 20);
    assert.equal(result.errors, 20);
    // A wrong echo is not counted as a message.
    assert.equal(result.messages, 80);
    assert.match(result.errorSamples[0], /echo \d+ differs from what was sent at byte 31/);
  });

  it('catches an echo of another length, and says so in the summary', async () => {
    const url = await echoingServer((data, count) => (count === 3 ? data.subarray(1) : data));
    const run = await bench(`echo ${url} --messages 20 --connections 1 --workers 1`);
    assert.equal(run.status, 1, run.err);
    assert.match(run.out, /errors {7}1 \(mismatch 1\)/);
    assert.match(run.out, /echo 2 has 31 bytes, 32 were sent/);
    assert.match(run.out, /latency histogram/);
  });

  it('offers the headers and subprotocols asked for', async () => {
    const server = createServer();
    servers.push(server);
    const seen: string[] = [];
    server.route('/*', {
      protocols: ['bench.v1'],
      upgrade(context) {
        if (context.headers.list('x-token') !== 'secret') return reject(401);
        seen.push(context.headers.list('sec-websocket-protocol') ?? '');
        return {};
      },
      message(socket, data, isBinary) {
        if (isBinary) socket.sendBinary(data);
      },
    });
    const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
    const url = `ws://127.0.0.1:${port}/`;
    const run = await bench([
      'echo',
      url,
      ...['-H', 'X-Token: secret', '--subprotocol', 'bench.v1'],
      ...'--messages 10 --connections 2 --workers 1 --json'.split(' '),
    ]);
    assert.equal(cleanResult(run, 10).messages, 10);
    // The probe connection, then the two of the run.
    assert.deepEqual(seen, ['bench.v1', 'bench.v1', 'bench.v1']);
    const refused = await bench(`echo ${url} --messages 10`);
    assert.equal(refused.status, 1);
    assert.match(refused.err, /^wsx: .*401/);
  });

  it('loads wss:// with --ca, and says the certificate is not trusted without it', async () => {
    const { url } = await serve(['--echo', '--cert', `${FIXTURES}cert.pem`, '--key', `${FIXTURES}key.pem`]);
    assert.match(url, /^wss:/);
    const run = await bench(`echo ${url} --ca ${FIXTURES}cert.pem --messages 50 --workers 2 --json`);
    assert.equal(cleanResult(run, 50).messages, 50);
    const insecure = await bench(`echo ${url} --insecure --messages 50 --json`);
    assert.equal(cleanResult(insecure, 50).messages, 50);
    const untrusted = await bench(`echo ${url} --messages 50`);
    assert.equal(untrusted.status, 1);
    assert.match(untrusted.err, /^wsx: TLS: the certificate of 127\.0\.0\.1:\d+ is not trusted/);
  });

  it('rewrites one progress line in place on a terminal, and clears it before the summary', async (t) => {
    if (!HAS_SCRIPT) return t.skip('util-linux script is not installed: no pseudo-terminal to test under');
    const { url } = await serve(['--echo']);
    const terminal = await runUnderTerminal([
      NODE,
      WSX_CLI,
      ...`bench echo ${url} --duration 1.5 --workers 1`.split(' '),
    ]);
    assert.equal(terminal.status, 0, terminal.output);
    assert.match(terminal.output, /\rwsx bench echo: [\d.]+ s of 1.5 s/);
    const screen = screenLines(terminal.output.replaceAll('\r\n', '\n'));
    // No progress line is left on screen: the summary starts where it was.
    assert.ok(
      screen[0].startsWith(`wsx bench echo ${url}: 100 connections × 8 in flight`),
      screen.join('\n'),
    );
    assert.ok(!screen.some((line) => line.includes('s left')), screen.join('\n'));
  });
});

/** Runs `argv` under a pseudo-terminal (standard output and error both go to it). */
async function runUnderTerminal(argv: string[]): Promise<{ status: number | null; output: string }> {
  const [command, ...args] = underTerminal(argv);
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const [status] = await within(90_000, 'wsx bench under a terminal', once(child, 'close'));
  return { status: status as number | null, output };
}
