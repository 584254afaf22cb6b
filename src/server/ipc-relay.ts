import type { Cluster, Worker } from 'node:cluster';
import { BoundedIpcSender, DEFAULT_MAX_PENDING_BYTES, DropWarning } from './ipc-channel.js';
import { type IpcTopicMessage, type IpcTopicStats, isIpcTopicMessage } from './ipc-topics.js';

/** Options of an {@link IpcTopicRelay}. */
export interface IpcTopicRelayOptions {
  /** Payload bytes waiting to be written to one worker past which publishes to it are refused (default 8 MiB). */
  readonly maxPendingBytes?: number;
}

interface Member {
  readonly sender: BoundedIpcSender;
  readonly topics: Set<string>;
}

/**
 * The primary side of topics across `node:cluster` workers (each worker's server uses an
 * `IpcTopicAdapter`): it tracks which worker has subscribers of which topic, and forwards each
 * publish only to the other workers subscribed to it. A worker that exits or disconnects is
 * forgotten with its topics; the worker that replaces it subscribes again as its clients do.
 * A worker whose channel is backed up misses publishes, counted in `stats.dropped` and told
 * on stderr (at most a line every 10 s), rather than growing the primary's memory.
 */
export class IpcTopicRelay {
  private readonly cluster: Cluster;
  private readonly members = new Map<Worker, Member>();
  private readonly subscribers = new Map<string, Set<Worker>>();
  private readonly maxPendingBytes: number;
  private readonly warning = new DropWarning('primary', "a worker's IPC channel is backed up");
  private readonly unreadableWarning = new DropWarning(
    'primary',
    "the payload is not bytes: fork workers with serialization: 'advanced'",
  );
  /** Counts of forgotten workers, so that the totals never go down. */
  private readonly gone = { relayed: 0, dropped: 0 };
  private received = 0;
  private unreadable = 0;
  private readonly onMessage = (worker: Worker, message: unknown) => this.handle(worker, message);
  private readonly onGone = (worker: Worker) => this.forget(worker);

  constructor(cluster: Cluster, options: IpcTopicRelayOptions = {}) {
    this.cluster = cluster;
    this.maxPendingBytes = options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
    // Payloads are bytes: workers forked from now on get the structured-clone serialization.
    if (cluster.settings.serialization !== 'advanced') cluster.setupPrimary({ serialization: 'advanced' });
    cluster.on('message', this.onMessage);
    cluster.on('disconnect', this.onGone);
    cluster.on('exit', this.onGone);
  }

  private handle(worker: Worker, message: unknown): void {
    if (!isIpcTopicMessage(message)) return;
    switch (message.wsx) {
      case 'topic-subscribe': {
        if (worker.isDead()) return;
        this.member(worker).topics.add(message.topic);
        let workers = this.subscribers.get(message.topic);
        if (workers === undefined) {
          workers = new Set();
          this.subscribers.set(message.topic, workers);
        }
        workers.add(worker);
        return;
      }
      case 'topic-unsubscribe':
        this.members.get(worker)?.topics.delete(message.topic);
        this.leave(worker, message.topic);
        return;
      case 'topic-publish': {
        if (!(message.payload instanceof Uint8Array)) {
          // A worker forked without `serialization: 'advanced'`: its payloads are not bytes.
          this.unreadable++;
          this.unreadableWarning.note();
          return;
        }
        this.received++;
        const workers = this.subscribers.get(message.topic);
        if (workers === undefined) return;
        const forward: IpcTopicMessage = message;
        for (const other of workers) {
          if (other !== worker) this.member(other).sender.publish(forward, message.payload.byteLength);
        }
        return;
      }
    }
  }

  private member(worker: Worker): Member {
    let member = this.members.get(worker);
    if (member === undefined) {
      member = {
        sender: new BoundedIpcSender(worker, this.maxPendingBytes, this.warning),
        topics: new Set(),
      };
      this.members.set(worker, member);
    }
    return member;
  }

  private leave(worker: Worker, topic: string): void {
    const workers = this.subscribers.get(topic);
    if (workers === undefined) return;
    workers.delete(worker);
    if (workers.size === 0) this.subscribers.delete(topic);
  }

  /** Drops a worker and its topics (it exited or its channel closed). */
  private forget(worker: Worker): void {
    const member = this.members.get(worker);
    if (member === undefined) return;
    this.members.delete(worker);
    for (const topic of member.topics) this.leave(worker, topic);
    this.gone.relayed += member.sender.sent;
    this.gone.dropped += member.sender.dropped;
  }

  /** Topics with subscribers on at least one worker. */
  topics(): string[] {
    return [...this.subscribers.keys()];
  }

  /** The workers subscribed to `topic`. */
  workersOf(topic: string): Worker[] {
    return [...(this.subscribers.get(topic) ?? [])];
  }

  /** Publishes received from workers, forwarded to workers, and refused (backed-up channels, unreadable payloads). */
  get stats(): IpcTopicStats {
    let relayed = this.gone.relayed;
    let dropped = this.gone.dropped + this.unreadable;
    for (const member of this.members.values()) {
      relayed += member.sender.sent;
      dropped += member.sender.dropped;
    }
    return { relayed, dropped, received: this.received };
  }

  /** Stops relaying (the workers' adapters then reach nobody). */
  close(): void {
    this.cluster.off('message', this.onMessage);
    this.cluster.off('disconnect', this.onGone);
    this.cluster.off('exit', this.onGone);
    this.warning.close();
    this.unreadableWarning.close();
    this.members.clear();
    this.subscribers.clear();
  }
}

/**
 * Starts relaying topics between the workers of `cluster` (call it in the primary, before forking).
 *
 * @example
 * ```ts
 * import cluster from 'node:cluster';
 * import { availableParallelism } from 'node:os';
 * import { createServer, IpcTopicAdapter, ipcTopicRelay } from 'wsx';
 * if (cluster.isPrimary) {
 *   ipcTopicRelay(cluster);
 *   for (let i = 0; i < availableParallelism(); i++) cluster.fork();
 * } else {
 *   const server = createServer({ topicAdapter: new IpcTopicAdapter() });
 *   server.route('/chat', { open: (socket) => socket.subscribe('lobby') });
 *   await server.listen({ port: 8080, host: '0.0.0.0' });
 * }
 * ```
 */
export function ipcTopicRelay(cluster: Cluster, options?: IpcTopicRelayOptions): IpcTopicRelay {
  return new IpcTopicRelay(cluster, options);
}
