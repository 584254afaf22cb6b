// Interop: a `ws` npm server (in this process) against the wsx client, `wsx connect`.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebSocketServer } from 'ws';
import {
  assertCloseEcho,
  assertPeerCloseEcho,
  type CloseInfo,
  killAll,
  type Proc,
  pattern,
  text,
  UTF8_SAMPLE,
  WsPeer,
  withTimeout,
  wsx,
} from './helpers.js';
import { WsxClient } from './wsx-peer.js';

type Scenario = (peer: WsPeer, request: IncomingMessage) => Promise<void>;

/** Messages the server sends and expects back unchanged, with their types. */
const MESSAGES: Array<[string, Buffer | string, boolean]> = [
  ['text', 'hello', false],
  ['binary', Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80, 0x7f]), true],
  ['empty text', '', false],
  ['empty binary', Buffer.alloc(0), true],
  ['UTF-8 text', UTF8_SAMPLE, false],
  ...[125, 126, 65535, 65536, 1024 * 1024, 16 * 1024 * 1024].flatMap(
    (size): Array<[string, Buffer | string, boolean]> => [
      [`${size}-byte binary`, pattern(size, size), true],
      [`${size}-byte text`, text(size), false],
    ],
  ),
];

/** Sends each message and checks its echo, one at a time. */
async function expectEchoes(peer: WsPeer): Promise<void> {
  for (const [name, data, binary] of MESSAGES) {
    await peer.send(data, { binary });
    const reply = await peer.next(`the echo of the ${name} message`);
    assert.equal(reply.isBinary, binary, `type of the ${name} echo`);
    assert.ok(reply.data.equals(Buffer.from(data)), `the ${name} echo differs from what was sent`);
  }
}

describe('ws server ↔ wsx client', () => {
  const scenarios = new Map<string, { scenario: Scenario; done: (outcome: Promise<void>) => void }>();
  let wss: WebSocketServer;
  let base: string;

  before(async () => {
    wss = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      verifyClient: ({ req }: { req: IncomingMessage }) => !req.url?.startsWith('/reject'),
      handleProtocols: (protocols, request) => {
        if (request.url === '/bogus-protocol') return 'not-offered';
        return protocols.has('chat') ? 'chat' : false;
      },
    });
    await withTimeout(new Promise((resolve) => wss.once('listening', resolve)), 'the ws server to listen');
    base = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    wss.on('connection', (ws, request) => {
      const peer = new WsPeer(ws);
      const entry = scenarios.get(request.url ?? '');
      if (!entry) {
        ws.terminate();
        return;
      }
      const outcome = entry.scenario(peer, request);
      outcome.catch(() => ws.terminate());
      entry.done(outcome);
    });
  });

  after(async () => {
    for (const client of wss.clients) client.terminate();
    await killAll();
    await new Promise((resolve) => wss.close(resolve));
  });

  /** Registers `scenario` at `path`; the promise settles with its outcome once a client has come. */
  function serve(path: string, scenario: Scenario): Promise<void> {
    const outcome = new Promise<void>((resolve, reject) => {
      scenarios.set(path, { scenario, done: (result) => result.then(resolve, reject) });
    });
    outcome.catch(() => {}); // reported by whoever awaits it
    return outcome;
  }

  /** Runs `wsx connect` and waits for the scenario and for the process to exit. */
  async function run(path: string, args: string[], scenario: Scenario): Promise<Proc> {
    const outcome = serve(path, scenario);
    const proc = wsx(`wsx connect ${path}`, ['connect', `${base}${path}`, ...args]);
    try {
      await withTimeout(outcome, `the scenario on ${path}`);
    } catch (error) {
      proc.kill();
      throw new Error(`${(error as Error).message} ${proc.diagnostics()}`);
    }
    return proc;
  }

  async function assertExitZero(proc: Proc): Promise<void> {
    assert.deepEqual(await proc.waitForExit(), { code: 0, signal: null }, proc.diagnostics());
  }

  async function assertExitNonZero(proc: Proc): Promise<void> {
    const exit = await proc.waitForExit();
    assert.ok(exit.code !== null && exit.code !== 0, `exit ${JSON.stringify(exit)} ${proc.diagnostics()}`);
  }

  test('--echo returns every message with its type, then completes the close', async () => {
    let closed: { code: number; reason: string } | undefined;
    const proc = await run('/echo', ['--echo'], async (peer) => {
      await expectEchoes(peer);
      peer.ws.close(4001, 'bye');
      closed = await peer.waitClosed();
    });
    assert.ok(closed);
    assertCloseEcho(closed, { code: 4001, reason: 'bye' });
    await assertExitZero(proc);
  });

  test("--echo answers the server's close of 4000 'bye-é' with the same code and reason", async () => {
    let closed: CloseInfo | undefined;
    const proc = await run('/close-reason', ['--echo'], async (peer) => {
      peer.ws.close(4000, 'bye-é');
      closed = await peer.waitClosed();
    });
    assertCloseEcho(closed!, { code: 4000, reason: 'bye-é' });
    await assertExitZero(proc);
  });

  test('--echo reassembles fragmented messages from the server', async () => {
    const proc = await run('/fragmented', ['--echo'], async (peer) => {
      const binary = [pattern(10, 1), Buffer.alloc(0), pattern(70_000, 2)];
      binary.forEach((part, i) => {
        peer.ws.send(part, { binary: true, fin: i === binary.length - 1 });
      });
      const reply = await peer.next('the reassembled binary message');
      assert.equal(reply.isBinary, true);
      assert.ok(reply.data.equals(Buffer.concat(binary)));
      // Cut every 3 bytes, so multi-byte UTF-8 sequences straddle frames.
      const bytes = Buffer.from(UTF8_SAMPLE);
      const parts: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += 3) parts.push(bytes.subarray(i, i + 3));
      parts.forEach((part, i) => {
        peer.ws.send(part, { binary: false, fin: i === parts.length - 1 });
      });
      const textReply = await peer.next('the reassembled text message');
      assert.equal(textReply.isBinary, false);
      assert.equal(textReply.data.toString(), UTF8_SAMPLE);
      peer.ws.close(1000);
      assert.equal((await peer.waitClosed()).code, 1000);
    });
    await assertExitZero(proc);
  });

  test('answers pings from the server with the same payload', async () => {
    const proc = await run('/ping', ['--echo'], async (peer) => {
      for (const payload of [Buffer.alloc(0), Buffer.from('ping payload'), pattern(125, 7)]) {
        const pong = new Promise<Buffer>((resolve) => peer.ws.once('pong', resolve));
        peer.ws.ping(payload);
        assert.deepEqual(await withTimeout(pong, `the pong for a ${payload.length}-byte ping`), payload);
      }
      peer.ws.close(1000);
      await peer.waitClosed();
    });
    await assertExitZero(proc);
  });

  test('sends the -H headers and offers the --subprotocol values in order', async () => {
    let headers: IncomingMessage['headers'] = {};
    let protocol = '';
    const args = [
      '--echo',
      '-H',
      'X-Interop: yes',
      '-H',
      'X-Colon: a: b',
      '--subprotocol',
      'other',
      '--subprotocol',
      'chat',
    ];
    const proc = await run('/headers', args, async (peer, request) => {
      headers = request.headers;
      protocol = peer.ws.protocol;
      await peer.send('still works');
      assert.equal((await peer.next('the echo')).data.toString(), 'still works');
      peer.ws.close(1000);
      await peer.waitClosed();
    });
    assert.equal(headers['x-interop'], 'yes');
    assert.equal(headers['x-colon'], 'a: b');
    const offered = String(headers['sec-websocket-protocol']).split(',');
    assert.deepEqual(
      offered.map((p) => p.trim()),
      ['other', 'chat'],
    );
    assert.equal(protocol, 'chat');
    await assertExitZero(proc);
  });

  test('without --echo prints text messages and sends stdin lines, then closes with 1000', async () => {
    let received: string[] = [];
    let closed: { code: number; reason: string } | undefined;
    const lines = ['line one', UTF8_SAMPLE, ''];
    const outcome = serve('/stdio', async (peer) => {
      peer.ws.send('from server 1');
      peer.ws.send(`from server 2 ${UTF8_SAMPLE}`);
      received = [];
      for (const _ of lines) {
        const message = await peer.next('a stdin line as a message');
        assert.equal(message.isBinary, false, 'stdin lines are sent as text');
        received.push(message.data.toString());
      }
      closed = await peer.waitClosed();
    });
    const proc = wsx('wsx connect /stdio', ['connect', `${base}/stdio`]);
    assert.equal(await proc.takeLine('the first message'), 'from server 1');
    assert.equal(await proc.takeLine('the second message'), `from server 2 ${UTF8_SAMPLE}`);
    proc.child.stdin!.end(lines.map((line) => `${line}\n`).join(''));
    await withTimeout(outcome, 'the stdio scenario');
    assert.deepEqual(received, lines);
    assert.equal(closed?.code, 1000);
    await assertExitZero(proc);
  });

  test('--max-payload: closes with 1009 on a message over the limit', async () => {
    let closed: CloseInfo | undefined;
    const proc = await run('/client-limit', ['--echo', '--max-payload', '1024'], async (peer) => {
      await peer.send(pattern(1024), { binary: true });
      assert.equal((await peer.next('the echo of a message at the limit')).data.length, 1024);
      await peer.send(pattern(1025), { binary: true });
      closed = await peer.waitClosed();
    });
    assert.equal(closed?.code, 1009);
    await proc.waitForExit();
  });

  describe('library client, connect()', () => {
    const clients: WsxClient[] = [];
    after(() => {
      for (const client of clients) client.socket.terminate();
    });

    async function open(path: string, options: Parameters<typeof WsxClient.connect>[1] = {}) {
      const client = await WsxClient.connect(`${base}${path}`, options);
      clients.push(client);
      return client;
    }

    /** A ws server side that echoes until the client closes, and reports how it closed. */
    const echoUntilClosed = (sink: (close: CloseInfo) => void): Scenario => {
      return async (peer) => {
        peer.ws.on('message', (data, isBinary) => peer.ws.send(data, { binary: isBinary }));
        sink(await peer.waitClosed());
      };
    };

    test('echoes what the server sends, then answers its close', async () => {
      const outcome = serve('/lib-echo', async (peer) => {
        await expectEchoes(peer);
        peer.ws.close(4001, 'bye');
        assertCloseEcho(await peer.waitClosed(), { code: 4001, reason: 'bye' });
      });
      const client = await open('/lib-echo', { echo: true });
      await withTimeout(outcome, 'the /lib-echo scenario');
      assert.deepEqual(await client.waitClosed(), { code: 4001, reason: 'bye' });
    });

    test("answers the server's close of 4000 'bye-é' with the same code and reason", async () => {
      const outcome = serve('/lib-close-reason', async (peer) => {
        peer.ws.close(4000, 'bye-é');
        assertCloseEcho(await peer.waitClosed(), { code: 4000, reason: 'bye-é' });
      });
      const client = await open('/lib-close-reason');
      await withTimeout(outcome, 'the /lib-close-reason scenario');
      assert.deepEqual(await client.waitClosed(), { code: 4000, reason: 'bye-é' });
    });

    test('sends whole and fragmented messages and closes with its code and reason', async () => {
      let serverSaw: CloseInfo | undefined;
      const outcome = serve(
        '/lib-send',
        echoUntilClosed((close) => {
          serverSaw = close;
        }),
      );
      const client = await open('/lib-send');
      for (const [name, data, binary] of MESSAGES) {
        if (binary) client.socket.sendBinary(data as Buffer);
        else client.socket.sendText(data as string);
        const reply = await client.messages.next(`the echo of the ${name} message`);
        assert.equal(reply.isBinary, binary, `type of the ${name} echo`);
        assert.ok(reply.data.equals(Buffer.from(data)), `the ${name} echo differs from what was sent`);
      }
      const bytes = Buffer.from(UTF8_SAMPLE);
      for (let i = 0; i < bytes.length; i += 3) {
        client.socket.sendFragment(bytes.subarray(i, i + 3), { binary: false, fin: i + 3 >= bytes.length });
      }
      const reassembled = await client.messages.next('the echo of the fragmented text');
      assert.equal(reassembled.isBinary, false);
      assert.equal(reassembled.data.toString(), UTF8_SAMPLE);
      client.socket.close(4001, 'bye');
      await withTimeout(outcome, 'the /lib-send scenario');
      assert.deepEqual(serverSaw, { code: 4001, reason: 'bye' });
      assertPeerCloseEcho(await client.waitClosed(), { code: 4001, reason: 'bye' });
    });

    test('offers its protocols, sends its headers and gets pongs for its pings', async () => {
      let headers: IncomingMessage['headers'] = {};
      const outcome = serve('/lib-handshake', async (peer, request) => {
        headers = request.headers;
        await peer.waitClosed();
      });
      const client = await open('/lib-handshake', {
        protocols: ['other', 'chat'],
        headers: { 'X-Interop': 'yes' },
      });
      assert.equal(client.socket.protocol, 'chat');
      client.socket.ping(Buffer.from('are you there'));
      assert.equal((await client.pongs.next('the pong')).toString(), 'are you there');
      client.socket.close(1000);
      await withTimeout(outcome, 'the /lib-handshake scenario');
      assert.equal(headers['x-interop'], 'yes');
      assert.equal((await client.waitClosed()).code, 1000);
    });
  });

  describe('failures', () => {
    test('exits non-zero when nothing listens on the port', async () => {
      const probe = new WebSocketServer({ host: '127.0.0.1', port: 0 });
      await withTimeout(new Promise((resolve) => probe.once('listening', resolve)), 'a free port');
      const { port } = probe.address() as AddressInfo;
      await new Promise((resolve) => probe.close(resolve));
      await assertExitNonZero(wsx('wsx connect (refused)', ['connect', `ws://127.0.0.1:${port}/`, '--echo']));
    });

    test('exits non-zero when the server refuses the upgrade', async () => {
      await assertExitNonZero(wsx('wsx connect (rejected)', ['connect', `${base}/reject`, '--echo']));
    });

    test('exits non-zero when the server selects a subprotocol that was not offered', async () => {
      const path = '/bogus-protocol';
      serve(path, async (peer) => {
        await peer.closed;
      });
      const proc = wsx('wsx connect (bogus protocol)', [
        'connect',
        `${base}${path}`,
        '--echo',
        '--subprotocol',
        'chat',
      ]);
      await assertExitNonZero(proc);
    });

    test('exits non-zero when the connection drops without a closing handshake', async () => {
      const proc = await run('/drop', ['--echo'], async (peer) => {
        await peer.send('one message first');
        await peer.next('the echo');
        peer.terminate();
      });
      await assertExitNonZero(proc);
    });
  });
});
