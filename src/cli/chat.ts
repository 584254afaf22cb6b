import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PROMETHEUS_CONTENT_TYPE, type RouteOptions, type Socket, type WebSocketServer } from '../index.js';
import { sendDashboardPage, statsOf } from './dashboard.js';
import { PAGE } from './page.js';

/**
 * `wsx serve`'s chat: a JSON pub/sub protocol over WebSocket on `/chat`, and the HTTP side
 * (the page, POST /publish/:topic, /stats, /metrics, /dashboard).
 *
 * Client → server (text frames, one JSON object each):
 *   {"type":"subscribe","topic":T}     join a topic; answered with "subscribed", then presence to all
 *   {"type":"subscribe","topic":T,"since":{"offset":N,"epoch":E}}   the same, after the messages
 *                                      missed since that position (`--redis-mode stream`), then "recovery"
 *   {"type":"unsubscribe","topic":T}   leave it; answered with "unsubscribed", then presence to the rest
 *   {"type":"publish","topic":T,"data":ANY,"exceptSelf"?:true}   send to the topic's subscribers
 * Server → client:
 *   {"type":"welcome","id":N,"name":S,"worker"?:N,"pid"?:N}   worker and pid with --workers
 *   {"type":"subscribed","topic":T,"count":N,"members":[S...]}
 *   {"type":"unsubscribed","topic":T}
 *   {"type":"message","topic":T,"data":ANY,"from":S|null,"at":MS}   from null: POST /publish
 *   {"type":"presence","topic":T,"event":"join"|"leave","name":S,"count":N,"members":[S...]}
 *   {"type":"recovery","topic":T,"recovered":B,"missed":N,"reason":S|null,"position":{"offset","epoch"}|null}
 *   {"type":"error","error":S}
 * `members` lists at most 100 names; `count` is exact (both count this node's subscribers). With
 * `--redis-mode stream` every "message" and "presence" also carries its "offset" and "epoch": the
 * position to give as "since" when resubscribing after a reconnect, to this node or another.
 * "recovery" says whether every missed message was replayed; when not ("reason" says why: the
 * history was trimmed or lost), the client should refetch whatever state it keeps. A node that
 * loses messages it cannot replay (Redis lost its history) sends "recovery" unasked.
 *
 * With `--workers`, each worker is a server of its own joined to the others by topics: a
 * socket's `id` is unique within its worker, `count` and `members` are those of the worker that
 * published the presence, and `/stats`, `/metrics` and POST /publish's `delivered` are per worker.
 */

export interface ChatData {
  readonly id: number;
  readonly name: string;
}

export interface ChatOptions {
  readonly maxTopics: number;
  readonly maxPayload: number;
  readonly publishToken: string | undefined;
  /** Set in a worker of `wsx serve --workers`: which one this is. */
  readonly worker?: WorkerIdentity;
}

/** A worker of `wsx serve --workers`, as clients see it in `welcome` and `/stats`. */
export interface WorkerIdentity {
  /** The cluster's worker id: a restarted worker gets a new one. */
  readonly worker: number;
  readonly pid: number;
}

const MAX_TOPIC_LENGTH = 128;
const MAX_NAME_LENGTH = 32;
const MAX_MEMBERS_LISTED = 100;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const HAS_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

let nextId = 1;

/** The `/chat` route. One handlers object for every socket. */
export function chatRoute(server: WebSocketServer, options: ChatOptions): RouteOptions<ChatData> {
  const send = (socket: Socket<ChatData>, message: object) => socket.sendText(JSON.stringify(message));
  const worker = options.worker;
  const fail = (socket: Socket<ChatData>, error: string) => send(socket, { type: 'error', error });
  const presence = (topic: string, event: 'join' | 'leave', name: string) => {
    server.publish(
      topic,
      JSON.stringify({
        type: 'presence',
        topic,
        event,
        name,
        count: server.subscribers(topic),
        members: members(topic),
      }),
    );
  };
  const members = (topic: string): string[] => {
    const names: string[] = [];
    for (const socket of server.subscribersOf(topic)) {
      if (names.length === MAX_MEMBERS_LISTED) break;
      names.push((socket.data as ChatData).name);
    }
    return names;
  };

  return {
    upgrade({ query }) {
      const id = nextId++;
      const name = (query.get('name') ?? '').replace(CONTROL, '').trim().slice(0, MAX_NAME_LENGTH);
      // Ids count per worker: the worker's id keeps the guest names of the workers apart.
      const guest = worker === undefined ? `guest-${id}` : `guest-${worker.worker}.${id}`;
      return { data: { id, name: name === '' ? guest : name } };
    },
    open(socket) {
      send(
        socket,
        worker === undefined
          ? { type: 'welcome', id: socket.data.id, name: socket.data.name }
          : {
              type: 'welcome',
              id: socket.data.id,
              name: socket.data.name,
              worker: worker.worker,
              pid: worker.pid,
            },
      );
    },
    message(socket, data, isBinary) {
      if (isBinary) return fail(socket, 'binary messages are not part of this protocol: send JSON text');
      let request: Record<string, unknown>;
      try {
        request = JSON.parse(data.toString('utf8'));
      } catch {
        return fail(socket, 'not JSON');
      }
      if (typeof request !== 'object' || request === null || Array.isArray(request)) {
        return fail(socket, 'expected a JSON object with a "type"');
      }
      const topic = request.topic;
      if (request.type !== 'subscribe' && request.type !== 'unsubscribe' && request.type !== 'publish') {
        return fail(
          socket,
          `unknown type ${JSON.stringify(request.type)}: subscribe, unsubscribe or publish`,
        );
      }
      if (
        typeof topic !== 'string' ||
        topic === '' ||
        topic.length > MAX_TOPIC_LENGTH ||
        HAS_CONTROL.test(topic)
      ) {
        return fail(socket, `"topic" must be a string of 1 to ${MAX_TOPIC_LENGTH} characters`);
      }
      switch (request.type) {
        case 'subscribe':
          if (socket.isSubscribed(topic)) return fail(socket, `already subscribed to ${topic}`);
          if (socket.subscriptions.length >= options.maxTopics) {
            return fail(socket, `at most ${options.maxTopics} topics per connection`);
          }
          if (request.since !== undefined && !isPosition(request.since)) {
            return fail(socket, '"since" must be {"offset": integer >= 0, "epoch": string}');
          }
          socket.subscribe(topic, request.since === undefined ? undefined : { since: request.since });
          send(socket, {
            type: 'subscribed',
            topic,
            count: server.subscribers(topic),
            members: members(topic),
          });
          return presence(topic, 'join', socket.data.name);
        case 'unsubscribe':
          if (!socket.unsubscribe(topic)) return fail(socket, `not subscribed to ${topic}`);
          send(socket, { type: 'unsubscribed', topic });
          return presence(topic, 'leave', socket.data.name);
        case 'publish':
          if (request.data === undefined) return fail(socket, 'a publish needs "data"');
          socket.publish(
            topic,
            JSON.stringify({
              type: 'message',
              topic,
              data: request.data,
              from: socket.data.name,
              at: Date.now(),
            }),
            { exceptSelf: request.exceptSelf === true },
          );
          return;
      }
    },
    recovery(socket, result) {
      send(socket, { type: 'recovery', ...result });
    },
    close(socket) {
      // Leave first, so that the presence goes to those who remain.
      for (const topic of socket.subscriptions) {
        socket.unsubscribe(topic);
        presence(topic, 'leave', socket.data.name);
      }
    },
  };
}

function isPosition(value: unknown): value is { offset: number; epoch: string } {
  if (typeof value !== 'object' || value === null) return false;
  const { offset, epoch } = value as Record<string, unknown>;
  return (
    Number.isSafeInteger(offset) && (offset as number) >= 0 && typeof epoch === 'string' && epoch.length <= 64
  );
}

/** The HTTP side of `wsx serve` (without --echo). */
export function chatRequests(
  server: WebSocketServer,
  options: ChatOptions,
): (request: IncomingMessage, response: ServerResponse) => void {
  const tokenDigest =
    options.publishToken === undefined ? null : createHash('sha256').update(options.publishToken).digest();

  const authorized = (request: IncomingMessage): boolean => {
    if (tokenDigest === null) return true;
    const match = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '');
    if (match === null) return false;
    return timingSafeEqual(createHash('sha256').update(match[1]).digest(), tokenDigest);
  };

  const publish = (request: IncomingMessage, response: ServerResponse, rawTopic: string) => {
    let topic: string;
    try {
      topic = decodeURIComponent(rawTopic);
    } catch {
      return text(response, 400, 'bad topic encoding\n');
    }
    if (topic === '' || topic.length > MAX_TOPIC_LENGTH || HAS_CONTROL.test(topic)) {
      return text(response, 400, `a topic is 1 to ${MAX_TOPIC_LENGTH} characters\n`);
    }
    if (!authorized(request)) {
      response.setHeader('WWW-Authenticate', 'Bearer');
      return text(response, 401, 'POST /publish needs Authorization: Bearer TOKEN\n');
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    request.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > options.maxPayload) {
        refused = true;
        response.setHeader('Connection', 'close');
        text(response, 413, `the body is over ${options.maxPayload} bytes\n`);
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (refused) return;
      const body = Buffer.concat(chunks, size);
      let data: unknown;
      const json = /^application\/([\w.+-]+\+)?json\b/i.test(request.headers['content-type'] ?? '');
      try {
        const decoded = new TextDecoder('utf-8', { fatal: true }).decode(body);
        data = json ? JSON.parse(decoded) : decoded;
      } catch {
        return text(response, 400, json ? 'the body is not valid JSON\n' : 'the body is not UTF-8 text\n');
      }
      const message = JSON.stringify({ type: 'message', topic, data, from: null, at: Date.now() });
      // Confirmed, so that a publish the topic adapter refuses (its link down, its queue full)
      // is a 503 here rather than a 200 for a message that went nowhere.
      server.publishConfirmed(topic, message).then(
        ({ local, position }) => sendJson(response, 200, { topic, delivered: local, ...position }),
        (error: Error) => {
          response.setHeader('Retry-After', '1');
          text(response, 503, `not published: ${error.message}\n`);
        },
      );
    });
  };

  return (request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = request.method ?? 'GET';
    if (path.startsWith('/publish/')) {
      if (method !== 'POST') return notAllowed(response, 'POST');
      return publish(request, response, path.slice('/publish/'.length));
    }
    if (path !== '/' && path !== '/stats' && path !== '/metrics' && path !== '/dashboard') {
      return text(response, 404, 'not found\n');
    }
    if (method !== 'GET' && method !== 'HEAD') return notAllowed(response, 'GET, HEAD');
    const head = method === 'HEAD';
    if (path === '/') {
      response.writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
      });
      response.end(head ? undefined : PAGE);
    } else if (path === '/stats') {
      sendJson(response, 200, statsOf(server, options.worker), head);
    } else if (path === '/dashboard') {
      sendDashboardPage(response, head);
    } else {
      response.writeHead(200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE, 'Cache-Control': 'no-store' });
      response.end(head ? undefined : server.metrics());
    }
  };
}

function text(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  response.end(body);
}

function sendJson(response: ServerResponse, status: number, value: unknown, head = false): void {
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
  });
  response.end(head ? undefined : `${JSON.stringify(value)}\n`);
}

function notAllowed(response: ServerResponse, allow: string): void {
  response.setHeader('Allow', allow);
  text(response, 405, 'method not allowed\n');
}
