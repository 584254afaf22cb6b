// Libraries written for ws, running on wsx/ws with their own clients: graphql-ws (server and
// client), express-ws (its ws server made by wsx/ws, a ws client), and y-websocket's server
// utilities with two Yjs documents, each behind its own y-websocket provider, converging.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { createClient } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocket as WsClient } from 'ws';
import WebSocket, { WebSocketServer } from '../../src/ws/index.js';
import { until, within } from '../shared/wait.js';

const require = createRequire(import.meta.url);

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('graphql-ws on wsx/ws', () => {
  const greetings = ['hello', 'bonjour', 'hallo'];
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({
      name: 'Query',
      fields: { hello: { type: GraphQLString, resolve: () => 'world' } },
    }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        greetings: {
          type: GraphQLString,
          subscribe: async function* () {
            for (const greeting of greetings) yield { greetings: greeting };
          },
        },
      },
    }),
  });

  it('answers a query and streams a subscription to graphql-ws’s own client', async () => {
    const http = createServer();
    const port = await listen(http);
    const wss = new WebSocketServer({ server: http, path: '/graphql' });
    // graphql-ws is typed against @types/ws: wsx/ws's server is assignable to it as it is.
    const cleanup = useServer({ schema }, wss);
    const client = createClient({
      url: `ws://127.0.0.1:${port}/graphql`,
      webSocketImpl: WebSocket,
      lazy: true,
    });
    try {
      const query = await within(5_000, 'the query result', collect(client, '{ hello }'));
      assert.deepEqual(query, [{ data: { hello: 'world' } }]);
      const stream = await within(5_000, 'the subscription', collect(client, 'subscription { greetings }'));
      assert.deepEqual(
        stream.map((result) => (result.data as { greetings: string }).greetings),
        greetings,
      );
    } finally {
      await client.dispose();
      await cleanup.dispose();
      await close(http);
    }
  });

  function collect(
    client: ReturnType<typeof createClient>,
    query: string,
  ): Promise<Array<{ data?: unknown }>> {
    return new Promise((resolve, reject) => {
      const results: Array<{ data?: unknown }> = [];
      client.subscribe(
        { query },
        { next: (value) => void results.push(value), error: reject, complete: () => resolve(results) },
      );
    });
  }
});

/** What the test uses of express-ws (it ships no types). */
interface ExpressWs {
  getWss(): unknown;
  app: { ws(path: string, handler: (ws: WebSocket, req: { params: Record<string, string> }) => void): void };
}

describe('express-ws on wsx/ws', () => {
  after(() => {
    delete require.cache[require.resolve('express-ws')];
  });

  it('routes a WebSocket to an express handler, with a ws client', async () => {
    // express-ws makes its server with require('ws'): that name resolves to wsx/ws here, as an
    // alias would in an application.
    const wsPath = require.resolve('ws', { paths: [require.resolve('express-ws')] });
    const saved = require.cache[wsPath];
    require.cache[wsPath] = {
      id: wsPath,
      filename: wsPath,
      loaded: true,
      exports: WebSocket,
    } as NodeJS.Module;
    let server: Server;
    try {
      const express = require('express') as () => (req: unknown, res: unknown) => void;
      const expressWs = require('express-ws') as (app: unknown, server: Server) => ExpressWs;
      const app = express();
      server = createServer(app);
      const instance = expressWs(app, server);
      assert.ok(instance.getWss() instanceof WebSocketServer, 'express-ws made its server with wsx/ws');
      instance.app.ws('/echo/:name', (ws: WebSocket, req: { params: Record<string, string> }) => {
        ws.on('message', (data: Buffer) => ws.send(`${req.params.name}: ${data}`));
      });
    } finally {
      if (saved === undefined) delete require.cache[wsPath];
      else require.cache[wsPath] = saved;
    }
    const port = await listen(server);
    const client = new WsClient(`ws://127.0.0.1:${port}/echo/ada`);
    try {
      await within(
        5_000,
        'the connection',
        new Promise((resolve, reject) => client.once('open', resolve).once('error', reject)),
      );
      const reply = new Promise<string>((resolve) => client.once('message', (data) => resolve(String(data))));
      client.send('hi');
      assert.equal(await within(5_000, 'the echo', reply), 'ada: hi');
    } finally {
      client.terminate();
      await close(server);
    }
  });
});

describe('y-websocket on wsx/ws', () => {
  it('keeps two Yjs documents in sync through its server utilities', async () => {
    // The CommonJS builds throughout, so that server and providers share one copy of yjs.
    const Y = require('yjs') as typeof import('yjs');
    const { WebsocketProvider } = require('y-websocket') as typeof import('y-websocket');
    const { setupWSConnection, docs } = require('y-websocket/bin/utils') as {
      setupWSConnection: (conn: unknown, req: unknown, options?: { docName?: string; gc?: boolean }) => void;
      docs: Map<string, { destroy(): void }>;
    };
    const http = createServer();
    const port = await listen(http);
    const wss = new WebSocketServer({ server: http });
    wss.on('connection', (conn, req) => setupWSConnection(conn, req));
    const left = new Y.Doc();
    const right = new Y.Doc();
    const options = { WebSocketPolyfill: WebSocket as never, disableBc: true };
    const a = new WebsocketProvider(`ws://127.0.0.1:${port}`, 'room', left, options);
    const b = new WebsocketProvider(`ws://127.0.0.1:${port}`, 'room', right, options);
    try {
      await until(5_000, 'both providers synced', () => a.synced && b.synced);
      left.getText('t').insert(0, 'left ');
      right.getText('t').insert(0, 'right ');
      left.getMap('m').set('from', 'left');
      const same = () =>
        left.getText('t').toString() === right.getText('t').toString() &&
        right.getMap('m').get('from') === 'left';
      await until(5_000, 'the documents to converge', same);
      assert.equal(left.getText('t').length, 'left right '.length);
      assert.deepEqual(Y.encodeStateVector(left), Y.encodeStateVector(right));
    } finally {
      a.destroy();
      b.destroy();
      // The documents' awareness timers stop with them (the server keeps its documents otherwise).
      left.destroy();
      right.destroy();
      for (const doc of docs.values()) doc.destroy();
      docs.clear();
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await close(http);
    }
  });
});
