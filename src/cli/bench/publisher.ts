import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { connect } from '../../client/connect.js';
import type { Socket } from '../../node/socket.js';
import { describeConnectFailure } from './connections.js';
import { chatUrl, markedPayload } from './marker.js';
import type { BenchOptions } from './options.js';

/** Publishes still unanswered past which a new one is refused (counted as an error), with --rate. */
const MAX_PENDING_REQUESTS = 1000;
/** How often publishes due at --rate are sent. */
const RATE_TICK_MS = 5;
/**
 * With --depth: a publish that some subscriber still lacks after this long stops holding the
 * publisher back (a server that lost it must not stall the run); if it never arrives, the
 * primary counts it as missed.
 */
const STALL_MS = 2_000;

/**
 * The publishing side of broadcast mode, in the primary: one WebSocket connection (chat:
 * `{"type":"publish",...}`; raw: `--publish-template` with the payload in it) or HTTP POSTs to
 * `--publish-url`. Publishes go out at `--rate` per second, or, with no rate, as soon as fewer
 * than `--depth` of them are still on their way to some subscriber (the workers' watermarks say
 * how far every subscriber has got).
 */
export class Publisher {
  /** Publishes made (the next one's number). */
  published = 0;
  /** Publishes made while measuring. */
  counted = 0;
  measuring = false;
  private socket: Socket | null = null;
  private socketClosed: Promise<void> = Promise.resolve();
  private pendingRequests = 0;
  private readonly watermarks = new Map<number, number>();
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  /** Publishes up to this number no longer hold the publisher back (see STALL_MS). */
  private givenUp = -1;
  private lastLowest = -1;
  private lastAdvance = 0;
  private publishedAtStart = 0;
  private readonly agent: HttpAgent | null;

  constructor(
    private readonly options: BenchOptions,
    private readonly error: (kind: string, message: string) => void,
    /** Workers with subscribers: each one's watermark counts. */
    workers: readonly number[],
  ) {
    for (const worker of workers) this.watermarks.set(worker, -1);
    const url = options.publishUrl;
    // One request at a time on one connection: publishes reach the server in the order made
    // (requests on parallel connections may overtake each other).
    this.agent =
      url === null
        ? null
        : url.startsWith('https:')
          ? new HttpsAgent({ keepAlive: true, maxSockets: 1, ...options.tls })
          : new HttpAgent({ keepAlive: true, maxSockets: 1 });
  }

  /** Opens the publisher's connection (none for HTTP). Rejects with a one-line message. */
  async open(): Promise<void> {
    if (this.options.publishUrl !== null) return;
    const { url, format } = this.options;
    const target = format === 'chat' ? chatUrl(url, 'bench-publisher') : url;
    let closed!: () => void;
    this.socketClosed = new Promise((resolve) => (closed = resolve));
    try {
      this.socket = await connect(target, {
        protocols: this.options.subprotocols,
        headers: this.options.headers,
        perMessageDeflate: this.options.deflate,
        tls: this.options.tls,
        backpressureLimit: Number.POSITIVE_INFINITY,
        handlers: {
          message: (_socket, data) => {
            if (format === 'chat' && data.includes('"type":"error"')) {
              this.error('publish', `the server refused a publish: ${data.toString('utf8')}`);
            }
          },
          close: (_socket, code) => {
            if (this.running) this.error('publish', `the publisher's connection closed (${code})`);
            this.socket = null;
            closed();
          },
        },
      });
    } catch (error) {
      throw new Error(`publisher: ${describeConnectFailure(error, target)}`);
    }
  }

  start(): void {
    this.running = true;
    this.startedAt = performance.now();
    this.publishedAtStart = this.published;
    this.lastAdvance = this.startedAt;
    this.timer = setInterval(() => this.pump(), this.options.rate > 0 ? RATE_TICK_MS : STALL_MS / 4);
    this.pump();
  }

  /** No more publishes. */
  stop(): void {
    this.running = false;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** A worker says how far all its subscribers have got. */
  watermark(worker: number, seq: number): void {
    if (!this.watermarks.has(worker)) return;
    this.watermarks.set(worker, Math.max(seq, this.watermarks.get(worker)!));
    if (this.options.rate === 0) this.pump();
  }

  /** A worker lost all its subscribers: it holds nothing back any more. */
  forget(worker: number): void {
    this.watermarks.delete(worker);
    if (this.running && this.options.rate === 0) this.pump();
  }

  /** Whether every subscriber has got the last publish. */
  get delivered(): boolean {
    return this.lowestWatermark() >= this.published - 1;
  }

  /** Whether `--messages` publishes have been made. */
  get done(): boolean {
    return this.options.limit !== null && this.counted >= this.options.limit;
  }

  async close(): Promise<void> {
    this.stop();
    this.agent?.destroy();
    const socket = this.socket;
    if (socket === null) return;
    socket.close(1000);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.socketClosed, new Promise((resolve) => (timer = setTimeout(resolve, 2_000)))]);
    clearTimeout(timer);
    if (this.socket !== null) socket.terminate();
  }

  private lowestWatermark(): number {
    let lowest = Number.POSITIVE_INFINITY;
    for (const seq of this.watermarks.values()) lowest = Math.min(lowest, seq);
    return lowest;
  }

  private pump(): void {
    if (!this.running) return;
    const { rate, depth } = this.options;
    if (rate > 0) {
      const due = Math.floor(((performance.now() - this.startedAt) / 1000) * rate) + 1;
      let burst = due - (this.published - this.publishedAtStart);
      while (burst-- > 0 && this.running && !this.done) this.publishOne();
      return;
    }
    const lowest = this.lowestWatermark();
    let reached = Math.max(lowest, this.givenUp);
    const now = performance.now();
    if (lowest !== this.lastLowest) {
      this.lastLowest = lowest;
      this.lastAdvance = now;
    } else if (now - this.lastAdvance > STALL_MS && this.published - 1 - reached >= depth) {
      reached = this.givenUp = reached + 1;
      this.lastAdvance = now;
    }
    while (this.running && !this.done && this.published - 1 - reached < depth) this.publishOne();
  }

  private publishOne(): void {
    const counted = this.measuring;
    const payload = markedPayload(this.published, counted, this.options.size);
    this.published++;
    if (counted) this.counted++;
    const { format, publishTemplate, topic, publishUrl } = this.options;
    const text = format === 'chat' ? payload : publishTemplate.replace('{payload}', payload);
    if (publishUrl !== null) {
      this.post(publishUrl, text);
    } else if (this.socket !== null) {
      this.socket.sendText(format === 'chat' ? JSON.stringify({ type: 'publish', topic, data: text }) : text);
    } else {
      this.error('publish', 'no publisher connection');
    }
  }

  private post(url: string, body: string): void {
    if (this.pendingRequests >= MAX_PENDING_REQUESTS) {
      this.error('publish', `over ${MAX_PENDING_REQUESTS} publish requests unanswered: one dropped`);
      return;
    }
    this.pendingRequests++;
    const request = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, {
      method: 'POST',
      agent: this.agent!,
      headers: { ...this.options.headers, 'Content-Type': 'text/plain; charset=utf-8' },
    });
    request.on('response', (response) => {
      response.resume();
      this.pendingRequests--;
      const status = response.statusCode ?? 0;
      if (status < 200 || status > 299) this.error('publish', `POST ${url} answered ${status}`);
    });
    request.on('error', (error) => {
      this.pendingRequests--;
      this.error('publish', `POST ${url}: ${error.message}`);
    });
    request.end(body);
  }
}
