// Interop: nghttpx (Debian's nghttp2-proxy) in front of wsx: RFC 8441 WebSockets from the
// client over h2, carried to wsx over HTTP/2 (h2c) or as HTTP/1.1 upgrades.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe } from 'node:test';
import { connect, type Socket } from '../../src/index.js';
import { freePort } from '../client/helpers.js';
import { Peer } from '../shared/peer.js';
import { accepts, sleep, within } from '../shared/wait.js';
import { CLIENT_TLS, echoServer } from './helpers.js';

const NGHTTPX = process.env.WSX_NGHTTPX ?? '/usr/sbin/nghttpx';
const nghttpx = new Peer(
  'nghttpx',
  existsSync(NGHTTPX),
  'apt-get install nghttp2-proxy, or WSX_NGHTTPX=path',
);
const fixtures = new URL('../../../test/fixtures/', import.meta.url).pathname;

/** nghttpx on a free port in front of 127.0.0.1:`upstream`, in its own temporary directory. */
async function startNghttpx(
  upstream: number,
  h2: boolean,
): Promise<{ port: number; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'wsx-nghttpx-'));
  const port = await freePort();
  const config = join(dir, 'nghttpx.conf');
  writeFileSync(
    config,
    [
      `frontend=127.0.0.1,${port}`,
      `backend=127.0.0.1,${upstream};;${h2 ? 'proto=h2' : 'proto=http/1.1'}`,
      `private-key-file=${fixtures}key.pem`,
      `certificate-file=${fixtures}cert.pem`,
      'workers=1',
      'no-ocsp=yes',
      `pid-file=${join(dir, 'nghttpx.pid')}`,
      `errorlog-file=${join(dir, 'error.log')}`,
      'accesslog-file=/dev/null',
      // WebSockets are long-lived: the idle limits of plain requests do not apply.
      'frontend-read-timeout=1h',
      'backend-read-timeout=1h',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(NGHTTPX, [`--conf=${config}`], { stdio: 'ignore' });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await within(10_000, 'nghttpx to exit', exited);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '';
      await stop();
      throw new Error(`nghttpx did not start: ${log}`);
    }
    await sleep(20);
  }
  return { port, stop };
}

describe('nghttpx in front of wsx, h2 on the client side', () => {
  const stops: (() => Promise<void>)[] = [];
  after(async () => {
    for (const stop of stops) await stop();
  });

  for (const upstream of ['h2', 'h1'] as const) {
    nghttpx.it(`to wsx over ${upstream === 'h2' ? 'HTTP/2 (h2c)' : 'HTTP/1.1'}`, async () => {
      const { server, port, opened } = await echoServer({}, { cleartext: true, http2: upstream === 'h2' });
      const proxy = await startNghttpx(port, upstream === 'h2');
      stops.push(proxy.stop);
      const replies: Buffer[] = [];
      const sockets: Socket[] = [];
      for (let i = 0; i < 2; i++) {
        sockets.push(
          await connect(`wss://localhost:${proxy.port}/echo`, {
            http2: true,
            tls: CLIENT_TLS,
            handlers: { message: (_socket, data) => replies.push(data) },
          }),
        );
      }
      assert.deepEqual(
        sockets.map((socket) => socket.httpVersion),
        ['2', '2'],
      );
      assert.deepEqual(
        opened.map((socket) => socket.httpVersion),
        Array(2).fill(upstream === 'h2' ? '2' : '1.1'),
      );
      const big = Buffer.alloc(512 * 1024, 'n');
      for (const socket of sockets) socket.send(big);
      await within(
        10_000,
        'the echoes',
        waitFor(() => replies.length === 2),
      );
      assert.ok(replies.every((reply) => reply.equals(big)));
      for (const socket of sockets) socket.close(1000);
      await within(
        10_000,
        'the closes',
        waitFor(() => sockets.every((socket) => socket.readyState === 'closed')),
      );
      assert.ok(sockets.every((socket) => socket.wasClean));
      await server.close();
    });
  }
});

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
