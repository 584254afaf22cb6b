import type { ServerResponse } from 'node:http';
import {
  PreparedMessage,
  type RouteOptions,
  reject,
  type ServerSocket,
  type ServerStats,
  type WebSocketServer,
} from '../index.js';
import type { WorkerIdentity } from './chat.js';
import { DASHBOARD_CSP, DASHBOARD_PAGE } from './dashboard-page.js';

/**
 * The live side of `wsx serve`'s dashboard: `/dashboard/live` pushes `server.stats()` to every
 * dashboard socket, once when it opens and then once a second, from one timer shared by all of
 * them that runs only while at least one is open.
 *
 * A push is `{"type":"stats","at":MS,"dashboards":N,...}` followed by the very fields `GET /stats`
 * answers (`worker` and `pid` with `--workers`): counters since the start and gauges, no rates.
 * The page computes the rates from successive snapshots, over the server's own `uptime`: a push
 * that was skipped (a slow dashboard) or arrived late (a throttled tab) then widens one interval
 * instead of losing a sample or bending a rate, the server keeps no history for anyone, and every
 * number on the page can be checked against `/stats`.
 *
 * The feed is public, as `/stats` and `/metrics` are: `--publish-token` guards POST /publish only.
 * The dashboard's own sockets count among the connections and their pushes among the messages
 * out, as any client's would; `dashboards` says how many there are.
 */

/** Push period. */
export const DASHBOARD_INTERVAL_MS = 1000;
/** Dashboards one server feeds at once; more get 503 (each one costs a write a second). */
export const MAX_DASHBOARDS = 32;
/** A dashboard with this much unsent is not fed until it catches up (a gap on its charts, no drop counted). */
const MAX_UNSENT_BYTES = 256 * 1024;

export interface StatsFeedOptions {
  /** Set in a worker of `wsx serve --workers`: each worker answers for itself. */
  readonly worker?: WorkerIdentity;
  /** Push period in ms; default `DASHBOARD_INTERVAL_MS`. */
  readonly interval?: number;
  /** Default `MAX_DASHBOARDS`. */
  readonly maxDashboards?: number;
}

/** What `GET /stats` answers: the server's stats, said to be this worker's with `--workers`. */
export function statsOf(
  server: WebSocketServer,
  worker: WorkerIdentity | undefined,
): ServerStats | (WorkerIdentity & ServerStats) {
  const stats = server.stats();
  return worker === undefined ? stats : { worker: worker.worker, pid: worker.pid, ...stats };
}

/** The `/dashboard/live` feed: its route, and its state for tests. */
export class StatsFeed {
  readonly route: RouteOptions;
  private tickCount = 0;
  private readonly dashboards = new Set<ServerSocket>();
  private timer: NodeJS.Timeout | null = null;
  private readonly interval: number;

  constructor(
    private readonly server: WebSocketServer,
    private readonly options: StatsFeedOptions = {},
  ) {
    this.interval = options.interval ?? DASHBOARD_INTERVAL_MS;
    const max = options.maxDashboards ?? MAX_DASHBOARDS;
    this.route = {
      // Counts open dashboards: a few upgrades in flight at once may pass the limit together.
      upgrade: () =>
        this.dashboards.size >= max
          ? reject(503, { body: `at most ${max} dashboards at once\n` })
          : undefined,
      open: (socket) => this.join(socket),
      message: (socket) => socket.close(1008, 'the dashboard feed only sends'),
      close: (socket) => this.leave(socket),
    };
  }

  /** Dashboard sockets open now. */
  get size(): number {
    return this.dashboards.size;
  }

  /** Snapshots taken by the timer (one per tick, whatever the number of dashboards). */
  get ticks(): number {
    return this.tickCount;
  }

  /** Whether the shared timer runs (it does exactly while a dashboard is open). */
  get running(): boolean {
    return this.timer !== null;
  }

  private join(socket: ServerSocket): void {
    this.dashboards.add(socket);
    // At once, so that the page shows numbers before the next tick.
    socket.sendPrepared(this.snapshot());
    if (this.timer === null) {
      this.timer = setInterval(() => this.tick(), this.interval);
      // The server keeps the process alive; the feed alone must not.
      this.timer.unref();
    }
  }

  private leave(socket: ServerSocket): void {
    this.dashboards.delete(socket);
    if (this.dashboards.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private tick(): void {
    this.tickCount++;
    // Framed once for every dashboard.
    const message = this.snapshot();
    for (const socket of this.dashboards) {
      // A closing socket would count the push as dropped: the dashboard's own noise on its charts.
      if (socket.readyState === 'open' && socket.bufferedAmount <= MAX_UNSENT_BYTES) {
        socket.sendPrepared(message);
      }
    }
  }

  private snapshot(): PreparedMessage {
    const head = { type: 'stats', at: Date.now(), dashboards: this.dashboards.size };
    return new PreparedMessage(
      JSON.stringify({ ...head, ...statsOf(this.server, this.options.worker) }),
      false,
    );
  }
}

/** Answers `GET /dashboard`: the page, under a policy that lets it run only its own inline code. */
export function sendDashboardPage(response: ServerResponse, head: boolean): void {
  response.writeHead(200, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': DASHBOARD_CSP,
    'Referrer-Policy': 'no-referrer',
  });
  response.end(head ? undefined : DASHBOARD_PAGE);
}
