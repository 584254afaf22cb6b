// libwebsockets (C) as an interop peer: Debian's libwebsockets-test-server package carries
// its test client and test server. The client opens two connections, dumb-increment-protocol
// and lws-mirror-protocol, offering "permessage-deflate; client_no_context_takeover", and
// sends a random number (16,384-81,919) of ~20-byte text messages on the mirror one before
// it drops TCP. The server counts on dumb-increment-protocol and repeats every message to
// all lws-mirror-protocol clients.
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Peer } from '../shared/peer.js';
import { sleep } from '../shared/wait.js';
import { Proc, WAIT_MS } from './helpers.js';

export const LWS_CLIENT = '/usr/bin/libwebsockets-test-client';
export const LWS_SERVER = '/usr/bin/libwebsockets-test-server';

/** The libwebsockets interop tests' peer: skipped without it outside CI, failed without it under CI. */
export const libwebsockets = new Peer(
  'libwebsockets-test-server',
  existsSync(LWS_CLIENT) && existsSync(LWS_SERVER) && existsSync('/proc/net/tcp'),
  'apt-get install libwebsockets-test-server',
);

export interface LwsServer {
  proc: Proc;
  url: string;
}

/**
 * Starts the lws test server on an ephemeral port. It does not print the port it got, so
 * the port is read from the kernel's table of listening sockets (the one the process holds).
 */
export async function startLwsServer(): Promise<LwsServer> {
  const proc = new Proc('libwebsockets-test-server', LWS_SERVER, ['-p', '0']);
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const pid = proc.child.pid;
    const port = pid === undefined ? undefined : listeningPorts(pid)[0];
    if (port !== undefined) return { proc, url: `ws://127.0.0.1:${port}/` };
    if (proc.child.exitCode !== null || Date.now() > deadline) {
      proc.kill();
      throw new Error(`libwebsockets-test-server did not listen ${proc.diagnostics()}`);
    }
    await sleep(20);
  }
}

/** The TCP ports process `pid` listens on (Linux /proc). */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkOrEmpty(`/proc/${pid}/fd/${fd}`));
      if (match !== null) inodes.add(match[1]);
    }
  } catch {
    return []; // not started yet, or gone
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      if (fields[3] === '0A' && inodes.has(fields[9]))
        ports.push(Number.parseInt(fields[1].split(':')[1], 16));
    }
  }
  return ports;
}

function readlinkOrEmpty(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

/** Runs the lws test client in its default mode against 127.0.0.1:`port`, once (`--once`: it exits when the mirror connection ends). */
export function runLwsClient(port: number): Proc {
  return new Proc('libwebsockets-test-client', LWS_CLIENT, ['127.0.0.1', '-p', String(port), '--once']);
}
