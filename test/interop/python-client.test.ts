// Interop: the Python `websockets` client (python_client.py) against the wsx server.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import {
  assertCloseEcho,
  type CloseInfo,
  killAll,
  type Proc,
  python,
  pythonWebsockets,
  SIZES,
  startWsxServer,
  type WsxServer,
  withTimeout,
} from './helpers.js';
import { startEchoServer } from './wsx-peer.js';

type Report = Record<string, unknown>;

/** Runs python_client.py to its end and returns its reports, checking that it exited 0. */
async function runClient(url: string, scenario: string, args: string[] = []): Promise<Report[]> {
  const proc = python(`python client (${scenario})`, 'python_client.py', [url, scenario, ...args]);
  return finish(proc);
}

async function finish(proc: Proc): Promise<Report[]> {
  const exit = await proc.waitForExit();
  const reports: Report[] = [];
  for (;;) {
    const line = await proc.takeLine('a report').catch(() => undefined);
    if (line === undefined) break;
    reports.push(JSON.parse(line) as Report);
  }
  const errors = reports.filter((r) => r.event === 'error');
  assert.deepEqual(errors, [], `the Python client reported errors; stderr: ${proc.stderr}`);
  assert.deepEqual(exit, { code: 0, signal: null }, proc.diagnostics());
  return reports;
}

function only(reports: Report[], event: string): Report {
  const found = reports.filter((r) => r.event === event);
  assert.equal(found.length, 1, `expected one "${event}" report in ${JSON.stringify(reports)}`);
  return found[0];
}

function closeOf(reports: Report[]): CloseInfo {
  const { code, reason } = only(reports, 'closed');
  return { code: code as number, reason: reason as string };
}

function assertEchoes(reports: Report[], cases: string[]): void {
  const echoes = reports.filter((r) => r.event === 'echo');
  assert.deepEqual(
    echoes.map((r) => r.case),
    cases,
  );
  for (const echo of echoes) {
    assert.deepEqual(echo.received, echo.sent, `echo of case ${String(echo.case)}`);
  }
}

const ECHO_CASES = [
  'text',
  'binary',
  'empty-text',
  'empty-binary',
  'utf8',
  'fragmented-text',
  'fragmented-binary',
];

describe('Python websockets client ↔ wsx server', () => {
  let server: WsxServer;

  before(async () => {
    server = await startWsxServer(['--max-payload', String(16 * 1024 * 1024)]);
  });

  after(killAll);

  pythonWebsockets.it('echoes text, binary, empty, UTF-8 and fragmented messages', async () => {
    const reports = await runClient(server.url, 'echo');
    const open = only(reports, 'open');
    assert.deepEqual(open.extensions, []);
    assert.equal(open.subprotocol, null);
    assertEchoes(reports, ECHO_CASES);
    assert.deepEqual(only(reports, 'closed'), { event: 'closed', code: 1000, reason: '' });
  });

  pythonWebsockets.it('echoes messages of 0 B to 16 MiB, binary and text', async () => {
    const reports = await runClient(server.url, 'sizes');
    // python_client.py sends the same SIZES.
    assertEchoes(
      reports,
      SIZES.flatMap((size) => [`binary-${size}`, `text-${size}`]),
    );
  });

  pythonWebsockets.it('keeps the order of many small messages', async () => {
    const reports = await runClient(server.url, 'order');
    assert.equal(only(reports, 'order').in_order, true);
  });

  pythonWebsockets.it('answers pings with pongs that carry the same payload', async () => {
    const reports = await runClient(server.url, 'ping');
    assert.deepEqual(
      reports.filter((r) => r.event === 'pong'),
      [0, 12, 125].map((size) => ({ event: 'pong', size, matched: true })),
    );
  });

  pythonWebsockets.it('echoes the close code and reason of the client', async () => {
    const reports = await runClient(server.url, 'close', ['--close-code', '4001', '--close-reason', 'bye']);
    assertCloseEcho(closeOf(reports), { code: 4001, reason: 'bye' });
    const utf8 = await runClient(server.url, 'close', ['--close-code', '1000', '--close-reason', 'ça va 👋']);
    assertCloseEcho(closeOf(utf8), { code: 1000, reason: 'ça va 👋' });
  });

  pythonWebsockets.it(
    'interoperates when the client offers permessage-deflate (websockets default)',
    async () => {
      const reports = await runClient(server.url, 'echo', ['--compression', 'deflate']);
      // wsx declines the offer until permessage-deflate lands (issue 3); either answer must work.
      const { extensions } = only(reports, 'open');
      assert.ok(
        Array.isArray(extensions) && extensions.every((e) => e === 'permessage-deflate'),
        `extensions: ${JSON.stringify(extensions)}`,
      );
      assertEchoes(reports, ECHO_CASES);
      assert.equal(only(reports, 'closed').code, 1000);
    },
  );

  pythonWebsockets.it('the library server sees the message types and the close code and reason', async () => {
    const { server: library, sockets, url } = await startEchoServer();
    try {
      const reports = await runClient(url, 'echo', ['--close-code', '4001', '--close-reason', 'bye']);
      assertEchoes(reports, ECHO_CASES);
      assertCloseEcho(closeOf(reports), { code: 4001, reason: 'bye' });
      const seen = await sockets.next('the server-side socket');
      const types: boolean[] = [];
      for (const _ of ECHO_CASES) types.push((await seen.messages.next('a message')).isBinary);
      assert.deepEqual(types, [false, true, false, true, false, false, true]);
      assert.deepEqual(await seen.waitClosed(), { code: 4001, reason: 'bye' });
    } finally {
      await withTimeout(library.close(), 'server.close()');
    }
  });

  describe('subprotocols', () => {
    let chat: WsxServer;

    before(async () => {
      chat = await startWsxServer(['--subprotocol', 'chat', '--subprotocol', 'superchat']);
    });

    const cases: Array<[string, string[], string | null]> = [
      ['selects the first offered subprotocol that it supports', ['superchat', 'chat'], 'superchat'],
      ['skips offers that it does not support', ['other', 'chat', 'superchat'], 'chat'],
      ['selects none when none is offered', [], null],
      ['selects none when no offered subprotocol is supported', ['other', 'unknown'], null],
    ];
    for (const [name, offered, selected] of cases) {
      pythonWebsockets.it(name, async () => {
        const args = offered.flatMap((p) => ['--subprotocol', p]);
        const reports = await runClient(chat.url, 'echo', args);
        assert.equal(only(reports, 'open').subprotocol, selected);
        assertEchoes(reports, ECHO_CASES);
      });
    }
  });

  pythonWebsockets.it('on SIGTERM closes the connection with 1001 and exits 0', async () => {
    const doomed = await startWsxServer();
    const client = python('python client (wait-close)', 'python_client.py', [doomed.url, 'wait-close']);
    await client.takeJson('the ready report', (r) => r.event === 'ready');
    doomed.proc.kill('SIGTERM');
    const reports = await finish(client);
    assert.equal(only(reports, 'closed').code, 1001);
    assert.deepEqual(await doomed.proc.waitForExit(), { code: 0, signal: null }, doomed.proc.diagnostics());
  });
});
