// Table-driven runner: each conformance case is a script run by a WsPeer against the
// implementation, once with the implementation as server (one `serve --echo` process per test
// file, one connection per case) and once as client (one `connect URL --echo` process per case
// connecting to RawWsServer).
import { after, before, describe, it } from 'node:test';
import type { Frame } from './frames.js';
import { connectPeer, FAIL_FAST_TIMEOUT, type WsPeer } from './peer.js';
import { RawWsServer } from './raw-server.js';
import { type ServerProcess, spawnClient, startServer, TARGET, type TargetName, within } from './target.js';

/** The role the implementation under test plays. */
export type Role = 'server' | 'client';

export interface CaseContext {
  role: Role;
  target: TargetName;
  /**
   * Whether fail-fast UTF-8 checks are strict (the close must arrive before the rest of the
   * message is sent). Off for the `ws` reference, which validates complete messages only;
   * WSX_CONFORMANCE_STRICT=1 turns it on there too.
   */
  failFast: boolean;
  /** Server role only: opens one more connection to the server under test. */
  open(): Promise<WsPeer>;
}

export interface Case {
  /** Autobahn-style number: category.group.case. */
  id: string;
  title: string;
  /** Roles of the implementation this case applies to; default both. */
  roles?: readonly Role[];
  tags?: readonly string[];
  /** Client role: expected exit status; default 0 after a clean close, anything after a failure. */
  clientExit?: 'zero' | 'nonzero' | 'any';
  timeoutMs?: number;
  /** The script. A case that leaves the connection open is closed normally (1000) by the runner. */
  run(peer: WsPeer, ctx: CaseContext): Promise<void>;
}

export interface SuiteOptions {
  /** Extra arguments for `serve --echo`. */
  serverArgs?: string[];
  serverConcurrency?: number;
  clientConcurrency?: number;
}

const STRICT_FAIL_FAST = TARGET === 'wsx' || process.env.WSX_CONFORMANCE_STRICT === '1';

/**
 * Differences of the `ws` reference from what wsx promises, by case tag. Only consulted with
 * WSX_CONFORMANCE_TARGET=ws; such cases are reported as TODO instead of failing.
 */
const WS_DEVIATIONS: Record<string, string> = {
  'fail-fast': 'ws validates UTF-8 only once the whole message has arrived',
  'len64-high-bit': 'ws answers a 64-bit length >= 2^53 with 1009 instead of 1002',
  'client-closes-tcp-first': 'the ws client half-closes TCP right after the closing handshake',
};

function deviation(c: Case): string | undefined {
  if (TARGET !== 'ws') return undefined;
  for (const tag of c.tags ?? [])
    if (WS_DEVIATIONS[tag]) return `ws reference deviation: ${WS_DEVIATIONS[tag]}`;
  return undefined;
}

function annotate(err: unknown, c: Case, role: Role, peer: WsPeer | null, extra = ''): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  const who =
    role === 'server'
      ? 'test peer = client, implementation = server'
      : 'test peer = server, implementation = client';
  e.message +=
    `\n  case ${c.id} (${c.title}) [${who}]` +
    (peer ? `\n  --- wire transcript ---\n${peer.transcript().replace(/^/gm, '  ')}` : '') +
    extra;
  return e;
}

export function conformance(name: string, cases: readonly Case[], opts: SuiteOptions = {}): void {
  const ids = new Set<string>();
  for (const c of cases) {
    if (ids.has(c.id)) throw new Error(`duplicate case id ${c.id}`);
    ids.add(c.id);
  }
  const serverCases = cases.filter((c) => (c.roles ?? ['server', 'client']).includes('server'));
  const clientCases = cases.filter((c) => (c.roles ?? ['server', 'client']).includes('client'));

  if (serverCases.length)
    describe(`${name} [${TARGET} as server]`, { concurrency: opts.serverConcurrency ?? 1 }, () => {
      let server: ServerProcess | null = null;
      before(async () => {
        server = await startServer(opts.serverArgs);
      });
      after(async () => {
        await server?.stop();
      });
      for (const c of serverCases) {
        const todo = deviation(c);
        it(`${c.id} ${c.title}`, { timeout: c.timeoutMs ?? 20_000, ...(todo ? { todo } : {}) }, async () => {
          if (!server) throw new Error('server did not start');
          if (server.proc.exitCode !== null || server.proc.signalCode !== null)
            throw new Error(`the server process has exited; stderr:\n${server.stderr().slice(-2000)}`);
          await runServerCase(c, server);
        });
      }
    });

  if (clientCases.length)
    describe(`${name} [${TARGET} as client]`, { concurrency: opts.clientConcurrency ?? 3 }, () => {
      let raw: RawWsServer | null = null;
      before(async () => {
        raw = await RawWsServer.start();
      });
      after(async () => {
        await raw?.close();
      });
      for (const c of clientCases) {
        const todo = deviation(c);
        it(`${c.id} ${c.title}`, { timeout: c.timeoutMs ?? 20_000, ...(todo ? { todo } : {}) }, async () => {
          if (!raw) throw new Error('raw server did not start');
          await runClientCase(c, raw);
        });
      }
    });
}

async function runServerCase(c: Case, server: ServerProcess): Promise<void> {
  let peer: WsPeer | null = null;
  try {
    ({ peer } = await connectPeer(server.url, { path: `/${c.id}` }));
    const open = async () => (await connectPeer(server.url, { path: `/${c.id}` })).peer;
    await c.run(peer, { role: 'server', target: TARGET, failFast: STRICT_FAIL_FAST, open });
    if (peer.outcome === 'open' && !peer.tcpClosed) await peer.closeNormally();
    peer.assertNoViolations();
  } catch (err) {
    throw annotate(err, c, 'server', peer);
  } finally {
    peer?.destroy();
  }
}

async function runClientCase(c: Case, raw: RawWsServer): Promise<void> {
  const path = `/${c.id}`;
  const accepted = raw.accept(path);
  const client = spawnClient(raw.url(path));
  void client.exited.then((e) =>
    raw.cancel(path, new Error(`client exited (code ${e.code}, signal ${e.signal}) before connecting`)),
  );
  let peer: WsPeer | null = null;
  const extra = () => `\n  --- client stderr ---\n${client.stderr().slice(-1500).replace(/^/gm, '  ')}`;
  try {
    const a = await accepted;
    if (a.problems.length) throw new Error(`client's opening handshake is invalid: ${a.problems.join('; ')}`);
    if (!a.peer) throw new Error('no peer');
    peer = a.peer;
    const open = () => Promise.reject(new Error('open() is only available in the server role'));
    await c.run(peer, { role: 'client', target: TARGET, failFast: STRICT_FAIL_FAST, open });
    if (peer.outcome === 'open' && !peer.tcpClosed) await peer.closeNormally();
    peer.assertNoViolations();
    const exit = await within(client.exited, 5000);
    if (!exit) throw new Error('the client process did not exit within 5 s after the connection closed');
    const expected = c.clientExit ?? (peer.outcome === 'clean' ? 'zero' : 'any');
    if (expected === 'zero' && exit.code !== 0)
      throw new Error(
        `client exited with ${exit.code ?? exit.signal}, expected 0 after a completed closing handshake`,
      );
    if (expected === 'nonzero' && exit.code === 0)
      throw new Error('client exited with 0, expected a failure status');
  } catch (err) {
    throw annotate(err, c, 'client', peer, extra());
  } finally {
    peer?.destroy();
    client.kill();
  }
}

/**
 * Sends `first` (which contains the invalid bytes), expects the failure before `rest` is sent
 * when fail-fast checking is on, else sends `rest` and then expects the failure.
 */
export async function expectFailFast(
  peer: WsPeer,
  ctx: CaseContext,
  code: number,
  first: () => Promise<void>,
  rest: () => Promise<void>,
  strict = ctx.failFast,
): Promise<void> {
  await first();
  if (!strict) {
    await rest();
    await peer.expectFailure(code);
    return;
  }
  let frame: Frame;
  try {
    frame = await peer.expectClose(code, FAIL_FAST_TIMEOUT);
  } catch (err) {
    throw new Error(`not fail-fast: ${(err as Error).message} (the rest of the message was not sent yet)`);
  }
  await peer.answerClose(frame);
}

/**
 * Runs `fn` once per item, each on its own new connection (server role), collecting failures so
 * that one case reports every failing item. A connection left open is closed normally.
 */
export async function perConnection<T>(
  ctx: CaseContext,
  items: readonly T[],
  label: (item: T) => string,
  fn: (peer: WsPeer, item: T) => Promise<void>,
): Promise<void> {
  const failures: string[] = [];
  for (const item of items) {
    let p: WsPeer | null = null;
    try {
      p = await ctx.open();
      await fn(p, item);
      if (p.outcome === 'open' && !p.tcpClosed) await p.closeNormally();
      p.assertNoViolations();
    } catch (err) {
      failures.push(
        `[${label(item)}] ${(err as Error).message}\n${p ? p.transcript(12).replace(/^/gm, '    ') : ''}`,
      );
    } finally {
      p?.destroy();
    }
  }
  if (failures.length)
    throw new Error(
      `${failures.length} of ${items.length} variants failed:\n${failures.slice(0, 4).join('\n')}` +
        (failures.length > 4
          ? `\n… and ${failures.length - 4} more: ${failures
              .slice(4)
              .map((f) => f.slice(0, f.indexOf(']') + 1))
              .join(' ')}`
          : ''),
    );
}
