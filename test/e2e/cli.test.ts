import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { listeningUrl, NODE, WSX_CLI } from '../shared/cli.js';
import { deferred, within } from './helpers.js';

const children: ChildProcess[] = [];
after(() => {
  for (const child of children) child.kill('SIGKILL');
});

function run(args: string[]): ChildProcess {
  const child = spawn(NODE, [WSX_CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  return child;
}

/** Starts `wsx serve` on a free port and resolves with its URL once it has printed it. */
async function serve(args: string[] = []): Promise<{ child: ChildProcess; url: string }> {
  const child = run(['serve', '--port', '0', ...args]);
  const url = await listeningUrl(child, 5000);
  return { child, url };
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return within(
    8000,
    'the process to exit',
    once(child, 'exit').then(([code]) => code as number | null),
  );
}

describe('wsx serve', () => {
  it('serves a page at / and echoes on any path', async () => {
    const { child, url } = await serve();
    const page = await fetch(url.replace('ws://', 'http://'));
    assert.equal(page.status, 200);
    assert.match(await page.text(), /new WebSocket\(/);
    const reply = deferred<{ data: string; isBinary: boolean }>();
    const client = new WebSocket(`${url}some/path`);
    client.on('open', () => client.send(Buffer.from([1, 2, 3])));
    client.on('message', (data, isBinary) =>
      reply.resolve({ data: (data as Buffer).toString('hex'), isBinary }),
    );
    assert.deepEqual(await within(3000, 'the echo', reply.promise), { data: '010203', isBinary: true });
    client.terminate();
    child.kill('SIGTERM');
    assert.equal(await exitCode(child), 0);
  });

  it('closes its sockets with 1001 and exits 0 on SIGTERM', async () => {
    const { child, url } = await serve(['--echo']);
    const closed = deferred<number>();
    const client = new WebSocket(url);
    client.on('close', (code) => closed.resolve(code));
    await once(client, 'open');
    child.kill('SIGTERM');
    assert.equal(await within(5000, 'the 1001 close', closed.promise), 1001);
    assert.equal(await exitCode(child), 0);
  });

  it('enforces --max-payload with 1009 and accepts a listed --subprotocol', async () => {
    const { child, url } = await serve(['--echo', '--max-payload', '1000', '--subprotocol', 'chat']);
    const closed = deferred<number>();
    const client = new WebSocket(url, ['other', 'chat']);
    client.on('close', (code) => closed.resolve(code));
    await once(client, 'open');
    assert.equal(client.protocol, 'chat');
    client.send(Buffer.alloc(1001));
    assert.equal(await within(3000, 'the 1009 close', closed.promise), 1009);
    child.kill('SIGTERM');
    await exitCode(child);
  });

  it('rejects bad options with a usage error', async () => {
    const child = run(['serve', '--port', 'abc']);
    assert.equal(await exitCode(child), 2);
  });
});

describe('wsx connect', () => {
  it('sends stdin lines as text, prints messages, and exits 0 after a clean close', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(server, 'listening');
    const received: string[] = [];
    server.on('connection', (socket) => {
      socket.send('welcome');
      socket.on('message', (data) => received.push(data.toString()));
    });
    try {
      const { port } = server.address() as { port: number };
      const child = run(['connect', `ws://127.0.0.1:${port}/`]);
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      child.stdin!.end('first line\nsecond line\n');
      assert.equal(await exitCode(child), 0);
      assert.deepEqual(received, ['first line', 'second line']);
      assert.equal(out, 'welcome\n');
    } finally {
      server.close();
    }
  });

  it('echoes with --echo until the server closes', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(server, 'listening');
    const echoes: Array<[string, boolean]> = [];
    server.on('connection', (socket) => {
      socket.send('text');
      socket.send(Buffer.from([0xff]));
      socket.on('message', (data, isBinary) => {
        echoes.push([(data as Buffer).toString('hex'), isBinary]);
        if (echoes.length === 2) socket.close(1000);
      });
    });
    try {
      const { port } = server.address() as { port: number };
      const child = run(['connect', `ws://127.0.0.1:${port}/`, '--echo']);
      assert.equal(await exitCode(child), 0);
      assert.deepEqual(echoes, [
        [Buffer.from('text').toString('hex'), false],
        ['ff', true],
      ]);
    } finally {
      server.close();
    }
  });

  it('exits non-zero when the connection fails', async () => {
    const refused = run(['connect', 'ws://127.0.0.1:1/']);
    assert.equal(await exitCode(refused), 1);
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(server, 'listening');
    server.on('connection', (socket) => socket.terminate());
    try {
      const { port } = server.address() as { port: number };
      const dropped = run(['connect', `ws://127.0.0.1:${port}/`, '--echo']);
      assert.equal(await exitCode(dropped), 1);
    } finally {
      server.close();
    }
  });
});
