// @fastify/websocket loads ws itself (require('ws')). An application migrates by making the name
// 'ws' resolve to wsx/ws: here with a module resolve hook (fixtures/ws-to-wsx.mjs, given to node
// with --import) in a child process running a Fastify app; ws's own client, in this process,
// exchanges messages with it and closes. The app also uses Fastify's injectWS, whose client is
// made with ws's `new WebSocket(null)` and `setSocket`.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { WebSocket as WsClient } from 'ws';
import { NODE } from '../shared/cli.js';
import { within } from '../shared/wait.js';

const FIXTURES = join(new URL('../../..', import.meta.url).pathname, 'test', 'ws', 'fixtures');

/** The JSON lines a child prints, one at a time. */
function lines(child: ChildProcess): () => Promise<Record<string, unknown>> {
  const queue: Array<Record<string, unknown>> = [];
  const waiting: Array<(line: Record<string, unknown>) => void> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const value = JSON.parse(line) as Record<string, unknown>;
    const next = waiting.shift();
    if (next) next(value);
    else queue.push(value);
  });
  return () => {
    const ready = queue.shift();
    return ready ? Promise.resolve(ready) : new Promise((resolve) => waiting.push(resolve));
  };
}

describe('@fastify/websocket on wsx/ws', () => {
  let child: ChildProcess | undefined;
  after(() => {
    if (child?.exitCode === null) child.kill();
  });

  it("serves a route on wsx/ws when 'ws' resolves to it, for ws's client and for injectWS", async () => {
    child = spawn(NODE, ['--import', join(FIXTURES, 'ws-to-wsx.mjs'), join(FIXTURES, 'fastify-echo.mjs')], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const exited = once(child, 'exit');
    const next = lines(child);
    assert.deepEqual(await within(20_000, "the app's injectWS round trip", next()), {
      injected: ['injected', false],
      injectedFromWsx: true,
    });
    const { port } = await within(5_000, 'the app to listen', next());

    const client = new WsClient(`ws://127.0.0.1:${port}/echo`);
    await within(5_000, 'the connection', once(client, 'open'));
    assert.deepEqual(await within(5_000, 'the route', next()), {
      path: '/echo',
      socketFromWsx: true,
      serverFromWsx: true,
    });

    const replies: Array<[string, boolean]> = [];
    client.on('message', (data, isBinary) => replies.push([String(data), isBinary]));
    const two = new Promise<void>((resolve) => client.on('message', () => replies.length === 2 && resolve()));
    client.send('hello');
    client.send(Buffer.from('bytes'));
    await within(5_000, 'the echoes', two);
    assert.deepEqual(replies, [
      ['hello', false],
      ['bytes', true],
    ]);

    const closed = once(client, 'close');
    client.close(1000, 'bye');
    const [code, reason] = await within(5_000, 'the close', closed);
    assert.equal(code, 1000);
    assert.equal(String(reason), 'bye');
    assert.deepEqual(await within(5_000, 'the server close', next()), { closed: 1000, reason: 'bye' });

    child.stdin!.end();
    assert.deepEqual(await within(10_000, 'the app to exit', exited), [0, null]);
  });
});
