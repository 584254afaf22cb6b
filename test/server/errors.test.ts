// What happens to an exception thrown by a route's handler: the socket is failed with 1011,
// and the error reaches the route's `error` handler, or else the server's `onError`, or else
// standard error. Real sockets on 127.0.0.1, a `ws` client as the peer.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import WebSocket from 'ws';
import {
  createServer,
  OperationalNotice,
  type RouteOptions,
  type ServerErrorContext,
  type ServerOptions,
  type WebSocketServer,
} from '../../src/index.js';
import { until, within } from './helpers.js';

const servers: WebSocketServer[] = [];
after(async () => {
  for (const server of servers) await server.close({ timeout: 500 });
});

interface Reported {
  error: Error;
  context: ServerErrorContext;
}

/** A server with one route at /boom, listening on a free port; `onError` collects into `reported`. */
async function serverWith(
  route: RouteOptions,
  options: ServerOptions = {},
): Promise<{ url: string; reported: Reported[]; nextReport: () => Promise<Reported> }> {
  const reported: Reported[] = [];
  let waiting: ((report: Reported) => void) | null = null;
  const server = createServer({
    onError(error, context) {
      reported.push({ error, context });
      waiting?.(reported.at(-1)!);
      waiting = null;
    },
    ...options,
  });
  servers.push(server);
  server.route('/boom', route);
  const { port } = await server.listen({ port: 0 });
  return {
    url: `ws://127.0.0.1:${port}/boom`,
    reported,
    nextReport: () =>
      within(3000, 'a report to onError', new Promise<Reported>((resolve) => (waiting = resolve))),
  };
}

/** Opens a client, sends one message once open, and resolves with the close code it sees. */
async function closeCodeAfterSending(url: string): Promise<number> {
  const client = new WebSocket(url);
  client.on('open', () => client.send('hello'));
  const [code] = (await within(3000, 'the close', once(client, 'close'))) as [number];
  return code;
}

describe('errors thrown by route handlers', () => {
  it('fails the socket with 1011 and hands the original error to onError with where it came from', async () => {
    const thrown = new Error('handler bug');
    const { url, nextReport } = await serverWith({
      message() {
        throw thrown;
      },
    });
    const report = nextReport();
    assert.equal(await closeCodeAfterSending(`${url}?token=secret`), 1011);
    const { error, context } = await report;
    assert.equal(error, thrown);
    assert.equal(context.kind, 'handler');
    assert.equal(context.handler, 'message');
    assert.equal(context.path, '/boom'); // the query string stays out of logs
    assert.equal(context.socket?.url, '/boom?token=secret');
  });

  it('prints which handler of which path threw, then the stack, when there is no onError', async () => {
    const printed: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => {
      printed.push(args.join(' '));
    };
    try {
      const { url } = await serverWith(
        {
          open() {
            throw new Error('open went wrong');
          },
        },
        { onError: undefined },
      );
      const client = new WebSocket(url);
      const [code] = (await within(3000, 'the close', once(client, 'close'))) as [number];
      assert.equal(code, 1011);
    } finally {
      console.error = original;
    }
    assert.equal(printed.length, 1);
    const [first, ...stack] = printed[0].split('\n');
    assert.equal(first, 'wsx: the open handler for /boom threw (socket closed with 1011):');
    assert.match(stack[0], /^Error: open went wrong$/);
    assert.match(stack[1], /^ {4}at /);
  });

  it("gives the route's own error handler precedence: it gets the error as the cause, onError nothing", async () => {
    const thrown = new Error('handler bug');
    const seen: Error[] = [];
    const { url, reported } = await serverWith({
      message() {
        throw thrown;
      },
      error(_socket, error) {
        seen.push(error);
      },
    });
    assert.equal(await closeCodeAfterSending(url), 1011);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].cause, thrown);
    assert.deepEqual(reported, []);
  });

  it('reports an error handler that throws, and a close handler that throws after a failure', async () => {
    const { url, reported } = await serverWith({
      message() {
        throw new Error('first');
      },
      error() {
        throw new Error('second');
      },
      close() {
        throw new Error('third');
      },
    });
    assert.equal(await closeCodeAfterSending(url), 1011);
    // The close handler runs once the server's side of the TCP connection has closed, which
    // can be just after the client saw its close.
    await until(3000, 'the close handler', () => reported.length === 2);
    assert.deepEqual(
      reported.map(({ error, context }) => [error.message, context.handler]),
      [
        ['second', 'error'],
        ['third', 'close'],
      ],
    );
  });

  it('answers 500 to an upgrade hook that throws, and reports it', async () => {
    const { url, nextReport } = await serverWith({
      upgrade() {
        throw new Error('hook bug');
      },
    });
    const report = nextReport();
    const client = new WebSocket(url);
    client.on('error', () => {}); // ws reports the refusal as an error too
    const [, response] = (await within(3000, 'the refusal', once(client, 'unexpected-response'))) as [
      unknown,
      { statusCode: number },
    ];
    assert.equal(response.statusCode, 500);
    client.terminate();
    const { error, context } = await report;
    assert.equal(error.message, 'hook bug');
    assert.deepEqual({ ...context }, { kind: 'handler', handler: 'upgrade', path: '/boom' });
  });

  it('prints the error and what onError threw when onError itself throws, and goes on serving', async () => {
    const printed: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => {
      printed.push(args.join(' '));
    };
    try {
      const { url } = await serverWith(
        {
          message(socket, data) {
            if (data.toString() === 'hello') throw new Error('handler bug');
            socket.sendText(data);
          },
        },
        {
          onError() {
            throw new Error('reporter bug');
          },
        },
      );
      assert.equal(await closeCodeAfterSending(url), 1011);
      const client = new WebSocket(url);
      client.on('open', () => client.send('still here'));
      const [reply] = (await within(3000, 'an echo', once(client, 'message'))) as [Buffer];
      assert.equal(reply.toString(), 'still here');
      client.close();
    } finally {
      console.error = original;
    }
    assert.equal(printed.length, 2);
    assert.match(printed[0], /^wsx: the onError handler threw:\nError: reporter bug\n/);
    assert.match(printed[1], /^wsx: the message handler for \/boom threw .*\nError: handler bug\n/);
  });

  it('prints an operational notice as one line, and a failure with its stack', async () => {
    const printed: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => {
      printed.push(args.join(' '));
    };
    const server = createServer();
    servers.push(server);
    try {
      server.reportError(new OperationalNotice('link is back'), { kind: 'topics' });
      server.reportError(new Error('link broke'), { kind: 'topics' });
    } finally {
      console.error = original;
    }
    assert.deepEqual(printed[0], 'wsx: topic adapter: link is back');
    assert.match(printed[1]!, /^wsx: topic adapter:\nError: link broke\n {4}at /);
  });
});
