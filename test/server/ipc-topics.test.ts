import assert from 'node:assert/strict';
import type { Cluster, Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { IpcTopicAdapter, type IpcTopicMessage, IpcTopicRelay } from '../../src/index.js';

// The IPC topic adapter and relay against fake channels: what goes on the wire, who gets a
// publish, and the bound on a backed-up channel. test/server/serve-workers.test.ts runs them
// between real processes.

/** A channel like `process` in a child: `send` queues, and calls back once "written". */
class FakeChannel extends EventEmitter {
  readonly sent: unknown[] = [];
  /** What `send` returns: false plays a channel whose backlog is over Node's threshold. */
  accept = true;
  private readonly callbacks: ((error: Error | null) => void)[] = [];

  send(
    message: unknown,
    _handle?: undefined,
    _options?: object,
    callback?: (error: Error | null) => void,
  ): boolean {
    this.sent.push(message);
    if (callback !== undefined) this.callbacks.push(callback);
    return this.accept;
  }

  /** The peer read everything queued. */
  drain(): void {
    for (const callback of this.callbacks.splice(0)) callback(null);
  }

  published(): IpcTopicMessage[] {
    return this.sent.filter((m) => (m as IpcTopicMessage).wsx === 'topic-publish') as IpcTopicMessage[];
  }
}

class FakeWorker extends FakeChannel {
  constructor(readonly id: number) {
    super();
  }
  isDead(): boolean {
    return false;
  }
}

class FakeCluster extends EventEmitter {
  settings: Record<string, unknown> = {};
  setupPrimary(options: object): void {
    this.settings = { ...this.settings, ...options };
  }
}

/** Runs `body` with stderr captured; returns what it wrote. */
function capturingStderr(body: () => void): string {
  const write = process.stderr.write;
  let out = '';
  process.stderr.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stderr.write;
  try {
    body();
  } finally {
    process.stderr.write = write;
  }
  return out;
}

describe('IpcTopicAdapter', () => {
  it('sends subscriptions and publishes to the primary, and delivers what comes back', () => {
    const channel = new FakeChannel();
    const adapter = new IpcTopicAdapter({ channel });
    const delivered: [string, string, boolean][] = [];
    adapter.onMessage((topic, payload, isBinary) =>
      delivered.push([topic, Buffer.from(payload).toString(), isBinary]),
    );
    adapter.subscribe('room');
    adapter.publish('room', Buffer.from('hi'), false);
    adapter.unsubscribe('room');
    assert.deepEqual(channel.sent, [
      { wsx: 'topic-subscribe', topic: 'room' },
      { wsx: 'topic-publish', topic: 'room', payload: Buffer.from('hi'), isBinary: false },
      { wsx: 'topic-unsubscribe', topic: 'room' },
    ]);
    channel.emit('message', {
      wsx: 'topic-publish',
      topic: 'room',
      payload: Buffer.from('yo'),
      isBinary: true,
    });
    channel.emit('message', { wsx: 'something-else', topic: 'room' });
    channel.emit('message', 'an application message');
    assert.deepEqual(delivered, [['room', 'yo', true]]);
    assert.deepEqual(adapter.counters, { relayed: 1, dropped: 0, received: 1 });
    adapter.close();
    channel.emit('message', {
      wsx: 'topic-publish',
      topic: 'room',
      payload: Buffer.from('late'),
      isBinary: true,
    });
    assert.equal(delivered.length, 1, 'nothing is delivered after close');
  });

  it('counts and reports publishes refused while the channel is backed up; subscriptions still go', () => {
    const channel = new FakeChannel();
    const adapter = new IpcTopicAdapter({ channel });
    channel.accept = false;
    const stderr = capturingStderr(() => {
      adapter.publish('t', Buffer.from('queued'), false); // queued, but the channel says it is full
      adapter.publish('t', Buffer.from('refused 1'), false);
      adapter.publish('t', Buffer.from('refused 2'), false);
      adapter.subscribe('other');
    });
    assert.equal(channel.published().length, 1);
    assert.deepEqual(channel.sent.at(-1), { wsx: 'topic-subscribe', topic: 'other' });
    assert.deepEqual(adapter.counters, { relayed: 1, dropped: 2, received: 0 });
    // One line at the first refusal; the next is summed for later (rate-limited).
    assert.equal(stderr.split('\n').filter(Boolean).length, 1);
    assert.match(stderr, /1 publish\(es\) not relayed: the IPC channel to the primary is backed up/);

    channel.accept = true;
    channel.drain();
    adapter.publish('t', Buffer.from('after the drain'), false);
    assert.equal(channel.published().length, 2);
    assert.equal(adapter.counters.dropped, 2);
    adapter.close();
  });

  it('refuses publishes past maxPendingBytes not yet written, but never one into an empty channel', () => {
    const channel = new FakeChannel();
    const adapter = new IpcTopicAdapter({ channel, maxPendingBytes: 1000 });
    capturingStderr(() => {
      adapter.publish('t', Buffer.alloc(5000), true); // larger than the bound, but alone
      adapter.publish('t', Buffer.alloc(10), true);
    });
    assert.deepEqual(adapter.counters, { relayed: 1, dropped: 1, received: 0 });
    channel.drain();
    capturingStderr(() => {
      adapter.publish('t', Buffer.alloc(600), true);
      adapter.publish('t', Buffer.alloc(300), true);
      adapter.publish('t', Buffer.alloc(300), true); // 1200 > 1000
    });
    assert.deepEqual(adapter.counters, { relayed: 3, dropped: 2, received: 0 });
    adapter.close();
  });
});

describe('IpcTopicRelay', () => {
  it('forwards a publish only to the other workers subscribed, and forgets a worker that exits', () => {
    const cluster = new FakeCluster();
    const relay = new IpcTopicRelay(cluster as unknown as Cluster);
    assert.equal(cluster.settings.serialization, 'advanced', 'payloads travel as bytes');
    const [w1, w2, w3] = [new FakeWorker(1), new FakeWorker(2), new FakeWorker(3)];
    const from = (worker: FakeWorker, message: object) =>
      cluster.emit('message', worker as unknown as Worker, message);
    from(w1, { wsx: 'topic-subscribe', topic: 'room' });
    from(w2, { wsx: 'topic-subscribe', topic: 'room' });
    from(w3, { wsx: 'topic-subscribe', topic: 'elsewhere' });
    const publish = { wsx: 'topic-publish', topic: 'room', payload: Buffer.from('hi'), isBinary: false };
    from(w1, publish);
    assert.deepEqual(w2.published(), [publish]);
    assert.equal(w1.published().length, 0, 'not back to the publisher');
    assert.equal(w3.published().length, 0, 'not to a worker without subscribers of the topic');
    assert.deepEqual(relay.topics().sort(), ['elsewhere', 'room']);

    from(w2, { wsx: 'topic-unsubscribe', topic: 'room' });
    from(w1, publish);
    assert.equal(w2.published().length, 1, 'unsubscribed');
    from(w2, { wsx: 'topic-subscribe', topic: 'room' });
    cluster.emit('exit', w2 as unknown as Worker, null, 'SIGKILL');
    from(w1, publish);
    assert.equal(w2.published().length, 1, 'a dead worker is forgotten');
    assert.deepEqual(relay.workersOf('room'), [w1]);
    assert.deepEqual(relay.stats, { relayed: 1, dropped: 0, received: 3 });
    relay.close();
  });

  it('bounds what waits for each worker, and counts payloads that are not bytes', () => {
    const cluster = new FakeCluster();
    const relay = new IpcTopicRelay(cluster as unknown as Cluster);
    const [fast, slow, publisher] = [new FakeWorker(1), new FakeWorker(2), new FakeWorker(3)];
    const from = (worker: FakeWorker, message: object) =>
      cluster.emit('message', worker as unknown as Worker, message);
    from(fast, { wsx: 'topic-subscribe', topic: 't' });
    from(slow, { wsx: 'topic-subscribe', topic: 't' });
    slow.accept = false;
    const stderr = capturingStderr(() => {
      for (let i = 0; i < 3; i++) {
        from(publisher, { wsx: 'topic-publish', topic: 't', payload: Buffer.from(`m${i}`), isBinary: false });
        fast.drain();
      }
      from(publisher, { wsx: 'topic-publish', topic: 't', payload: [1, 2], isBinary: false });
    });
    assert.equal(fast.published().length, 3, 'a slow worker does not hold back the others');
    assert.equal(slow.published().length, 1);
    assert.deepEqual(relay.stats, { relayed: 4, dropped: 3, received: 3 });
    assert.match(stderr, /primary: 1 publish\(es\) not relayed: a worker's IPC channel is backed up/);
    assert.match(stderr, /not bytes: fork workers with serialization: 'advanced'/);
    relay.close();
  });
});
