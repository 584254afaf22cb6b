import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { listeningUrl, NODE, portOf, WSX_CLI } from '../shared/cli.js';
import { type Frame, RawClient, sleep, until, within } from './helpers.js';

// `wsx serve --workers 2` on real processes: topics across workers, a worker killed and
// replaced, and a graceful stop. Waits are on conditions, with generous bounds as hang guards.

const children: ChildProcess[] = [];
const workerPids = new Set<number>();
after(() => {
  for (const child of children) child.kill('SIGKILL');
  // A worker outlives its primary only if the primary's shutdown failed; clean up anyway.
  for (const pid of workerPids) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
});

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Served {
  child: ChildProcess;
  port: number;
  http: string;
  /** Everything the primary and its workers wrote to stderr so far. */
  stderr(): string;
}

async function serveWorkers(args: string[]): Promise<Served> {
  const child = spawn(NODE, [WSX_CLI, 'serve', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const port = portOf(await listeningUrl(child, 15_000));
  return { child, port, http: `http://127.0.0.1:${port}`, stderr: () => err };
}

type Json = Record<string, unknown>;

/** A chat client that knows which worker it is on. */
class Chat {
  readonly received: Json[] = [];
  pid = 0;
  private constructor(readonly raw: RawClient) {
    const take = (frame: Frame) => this.received.push(JSON.parse(frame.payload.toString('utf8')) as Json);
    for (const frame of raw.frames) if (frame.opcode === 0x1) take(frame);
    raw.onFrame = take;
  }

  static async open(port: number, name: string): Promise<Chat> {
    const chat = new Chat(await RawClient.open(port, `/chat?name=${name}`));
    const welcome = await chat.next('welcome');
    assert.equal(typeof welcome.worker, 'number');
    chat.pid = welcome.pid as number;
    workerPids.add(chat.pid);
    return chat;
  }

  send(message: Json): void {
    this.raw.sendText(JSON.stringify(message));
  }

  /** The next message of `type` (and `data`, when given) not taken yet. */
  async next(type: string, data?: unknown): Promise<Json> {
    let found: Json | undefined;
    await until(10_000, `a ${type} message`, () => {
      const index = this.received.findIndex(
        (m) => m.type === type && (data === undefined || m.data === data),
      );
      if (index === -1) return false;
      found = this.received.splice(index, 1)[0];
      return true;
    });
    return found!;
  }

  has(type: string, data: unknown): boolean {
    return this.received.some((m) => m.type === type && m.data === data);
  }

  async subscribe(topic: string): Promise<void> {
    this.send({ type: 'subscribe', topic });
    await this.next('subscribed');
  }

  close(): void {
    this.raw.close();
  }
}

/** Opens chats until one is on a worker whose pid `accept` takes (bounded attempts). */
async function chatOn(port: number, name: string, accept: (pid: number) => boolean): Promise<Chat> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const chat = await within(15_000, 'a chat to open', Chat.open(port, name)).catch(() => null);
    if (chat !== null && accept(chat.pid)) return chat;
    chat?.close();
    // A worker being replaced is not in the rotation yet.
    await sleep(25);
  }
  throw new Error(`no chat landed on the worker wanted after 200 attempts`);
}

/**
 * Waits until a publish from `from` reaches `to`: the workers tell the primary of their
 * subscriptions over their own channels, so the relay may learn of `to`'s a moment later.
 */
async function linked(from: Chat, to: Chat, topic: string): Promise<void> {
  for (let probe = 0; probe < 200; probe++) {
    from.send({ type: 'publish', topic, data: `probe ${probe}`, exceptSelf: true });
    const deadline = Date.now() + 50;
    while (Date.now() < deadline) {
      if (to.received.some((m) => m.type === 'message' && String(m.data).startsWith('probe'))) {
        from.received.length = 0;
        to.received.length = 0;
        return;
      }
      await sleep(5);
    }
  }
  throw new Error('no publish crossed between the workers');
}

describe('wsx serve --workers', { timeout: 90_000 }, () => {
  it('joins topics across workers on one port: chat publish, exceptSelf, POST /publish', async () => {
    const served = await serveWorkers(['--workers', '2']);
    const alice = await Chat.open(served.port, 'alice');
    // Both on the one port the primary printed (listen(0) is shared), on different workers.
    const bob = await chatOn(served.port, 'bob', (pid) => pid !== alice.pid);
    await alice.subscribe('room');
    await bob.subscribe('room');
    await linked(alice, bob, 'room');
    await linked(bob, alice, 'room');

    alice.send({ type: 'publish', topic: 'room', data: 'hello', exceptSelf: true });
    alice.send({ type: 'publish', topic: 'room', data: 'again' });
    const hello = await bob.next('message', 'hello');
    assert.equal(hello.from, 'alice');
    await bob.next('message', 'again');
    // Alice's own messages come in order: 'again' arrived, so 'hello' was skipped.
    await alice.next('message', 'again');
    assert.equal(alice.has('message', 'hello'), false, 'exceptSelf skipped the publisher only');

    bob.send({ type: 'publish', topic: 'room', data: 'from bob' });
    assert.equal((await alice.next('message', 'from bob')).from, 'bob');

    const response = await fetch(`${served.http}/publish/room`, { method: 'POST', body: 'from http' });
    assert.equal(response.status, 200);
    for (const chat of [alice, bob]) assert.equal((await chat.next('message', 'from http')).from, null);

    // /stats answers for one worker, and says which.
    const stats = (await (await fetch(`${served.http}/stats`)).json()) as Json;
    assert.ok([alice.pid, bob.pid].includes(stats.pid as number));
    assert.equal(typeof stats.worker, 'number');
    assert.equal((stats.adapter as Json).droppedTotal, 0);
    assert.doesNotMatch(served.stderr(), /listens on/, 'every worker reported the same URL');

    served.child.kill('SIGTERM');
    assert.equal((await within(20_000, 'the primary to exit', once(served.child, 'exit')))[0], 0);
  });

  it('replaces a worker killed with SIGKILL; the others keep talking', async () => {
    const served = await serveWorkers(['--workers', '2']);
    const doomed = await Chat.open(served.port, 'doomed');
    const survivor = await chatOn(served.port, 'survivor', (pid) => pid !== doomed.pid);
    const killed = doomed.pid;
    process.kill(killed, 'SIGKILL');
    await within(10_000, "the killed worker's client to see the connection drop", doomed.raw.closed);
    assert.equal(doomed.raw.closeCode, null, 'no close frame: the process died');

    const newcomer = await chatOn(served.port, 'newcomer', (pid) => pid !== killed && pid !== survivor.pid);
    await until(10_000, 'the restart on stderr', () =>
      new RegExp(`pid ${killed}\\) was killed by SIGKILL; starting another`).test(served.stderr()),
    );
    assert.doesNotMatch(served.stderr(), /listens on/, 'the replacement listens on the shared port');
    await survivor.subscribe('after');
    await newcomer.subscribe('after');
    await linked(survivor, newcomer, 'after');
    await linked(newcomer, survivor, 'after');
    newcomer.send({ type: 'publish', topic: 'after', data: 'still here' });
    assert.equal((await survivor.next('message', 'still here')).from, 'newcomer');
    survivor.send({ type: 'publish', topic: 'after', data: 'welcome back' });
    assert.equal((await newcomer.next('message', 'welcome back')).from, 'survivor');

    served.child.kill('SIGTERM');
    assert.equal((await within(20_000, 'the primary to exit', once(served.child, 'exit')))[0], 0);
  });

  it('SIGTERM to the primary closes every client with 1001 and leaves no worker behind', async () => {
    // --workers from --config, to check the file takes it too.
    const config = join(mkdtempSync(join(tmpdir(), 'wsx-workers-')), 'config.json');
    writeFileSync(config, JSON.stringify({ workers: 2 }));
    const served = await serveWorkers(['--config', config]);
    const first = await Chat.open(served.port, 'first');
    const second = await chatOn(served.port, 'second', (pid) => pid !== first.pid);
    served.child.kill('SIGTERM');
    const [code] = await within(20_000, 'the primary to exit', once(served.child, 'exit'));
    assert.equal(code, 0);
    for (const chat of [first, second]) {
      await within(10_000, 'the client to see the close', chat.raw.closed);
      assert.equal(chat.raw.closeCode, 1001);
    }
    // The primary exits only after every worker's exit, so none may be left running.
    for (const pid of [first.pid, second.pid]) assert.equal(isRunning(pid), false, `worker ${pid} is gone`);
  });

  it('refuses a bad --workers', async () => {
    for (const value of ['0', 'many', '1.5']) {
      const child = spawn(NODE, [WSX_CLI, 'serve', '--workers', value], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let err = '';
      child.stderr!.on('data', (chunk: Buffer) => {
        err += chunk.toString();
      });
      const [code] = await within(10_000, 'wsx to exit', once(child, 'exit'));
      assert.equal(code, 2, value);
      assert.match(err, /--workers expects auto or a whole number/);
    }
  });
});
