// Interop with compression on against Python websockets 10.4 (Debian's python3-websockets, only
// importable by /usr/bin/python3), which compresses by default: a Python client against
// `wsx serve --echo`, and a Python server against `wsx connect --echo`. Both sides must report
// permessage-deflate as negotiated, every echo must match, and compressed frames must have gone
// both ways (counted inside the Python codec).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Peer } from '../shared/peer.js';
import { Child, PYTHON, paramList, startWsxServe, WAIT_MS, withTimeout, wsx } from './helpers.js';

const SCRIPT = fileURLToPath(new URL('../../../test/deflate/deflate_peer.py', import.meta.url));

const probe = spawnSync(PYTHON, ['-c', 'import websockets; print(websockets.__version__)'], {
  encoding: 'utf8',
  timeout: WAIT_MS,
});
const version = probe.status === 0 ? probe.stdout.trim() : null;
const pythonWebsockets = new Peer(
  'python3-websockets',
  version !== null,
  `apt-get install python3-websockets; ${PYTHON} must import websockets`,
);

function python(args: string[]): Child {
  return new Child('python websockets', PYTHON, ['-u', SCRIPT, ...args]);
}

interface PyExtension {
  name: string;
  remote_no_context_takeover: boolean;
  local_no_context_takeover: boolean;
  remote_max_window_bits: number;
  local_max_window_bits: number;
}

/** Reads the echo reports up to the close and checks them. */
async function checkExchange(peer: Child): Promise<Record<string, unknown>> {
  const cases = new Set<string>();
  for (;;) {
    const report = await peer.json('an echo or the close', 'echo', 'closed', 'error');
    if (report.event === 'error') assert.fail(`python: ${String(report.error)} ${peer.describe()}`);
    if (report.event === 'closed') {
      assert.equal(cases.size, 9 * 3 + 1, 'every case was echoed');
      return report;
    }
    const label = `${String(report.case)} ${String(report.size)} B`;
    assert.equal(report.same_type, true, `${label}: same type back`);
    assert.equal(report.equal, true, `${label}: same bytes back`);
    cases.add(label);
  }
}

describe('Python websockets with compression on', () => {
  pythonWebsockets.it(`a Python ${version ?? ''} client against wsx serve --echo`, async () => {
    const server = await startWsxServe(['--max-payload', String(64 * 1024 * 1024)]);
    const peer = python(['client', server.url]);
    try {
      const open = await peer.json('the open report', 'open');
      // websockets offers client_max_window_bits bare; wsx keeps 15-bit windows and declares that
      // it compresses each message on its own (its shared compressor)
      assert.equal(open.header, 'permessage-deflate; server_no_context_takeover');
      const extensions = open.extensions as PyExtension[];
      assert.equal(extensions.length, 1);
      assert.equal(extensions[0].name, 'permessage-deflate');
      assert.equal(extensions[0].remote_max_window_bits, 15);
      const closed = await checkExchange(peer);
      assert.equal(closed.code, 1000);
      assert.ok(
        Number(closed.compressed_in) > 10,
        `wsx sent compressed frames (${String(closed.compressed_in)})`,
      );
      assert.ok(
        Number(closed.compressed_out) > 10,
        `python sent compressed frames (${String(closed.compressed_out)})`,
      );
      assert.equal(await withTimeout(peer.exited, 'python to exit'), 0);
    } finally {
      peer.kill();
      await server.child.stop();
    }
  });

  pythonWebsockets.it(`a Python ${version ?? ''} server against wsx connect --echo`, async () => {
    const peer = python(['server']);
    const listening = await peer.json('the listening report', 'listening');
    const client = wsx('wsx connect', [
      'connect',
      `ws://127.0.0.1:${String(listening.port)}/`,
      '--echo',
      '--max-payload',
      String(64 * 1024 * 1024),
    ]);
    try {
      const open = await peer.json('the open report', 'open');
      assert.equal(open.header, 'permessage-deflate; client_max_window_bits', 'what wsx connect offered');
      // websockets' server defaults: 12-bit windows both ways
      assert.deepEqual(paramList(String(open.response)), [
        'client_max_window_bits=12',
        'server_max_window_bits=12',
      ]);
      const extensions = open.extensions as PyExtension[];
      assert.equal(extensions.length, 1);
      assert.equal(extensions[0].name, 'permessage-deflate');
      const closed = await checkExchange(peer);
      assert.equal(closed.code, 1000);
      assert.ok(
        Number(closed.compressed_in) > 10,
        `wsx sent compressed frames (${String(closed.compressed_in)})`,
      );
      assert.ok(
        Number(closed.compressed_out) > 10,
        `python sent compressed frames (${String(closed.compressed_out)})`,
      );
      assert.equal(await withTimeout(client.exited, `wsx connect to exit ${client.describe()}`), 0);
      assert.equal(await withTimeout(peer.exited, 'python to exit'), 0);
    } finally {
      client.kill();
      peer.kill();
    }
  });
});
