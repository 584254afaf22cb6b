// ws tests whose outcome depends on the Node release, not on wsx: the probe asks this Node how
// it behaves, and the test is expected to fail only where this Node makes ws itself fail it.
import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

const TOO_MANY_HEADERS =
  'websocket-server.test.js: WebSocketServer Connection establishing fails if the Upgrade header field value cannot be read';

/**
 * Node releases with the fix for CVE-2026-58044 (22.23.2, 24.18.1, 26.5.1 and later) answer a
 * request over `server.maxHeadersCount` with 431 themselves, so the 'upgrade' event that ws's
 * test relies on never fires; older releases cut the headers and emit it.
 */
export async function nodeRejectsExtraHeaders(): Promise<boolean> {
  const server = createServer((_req, res) => res.end());
  server.maxHeadersCount = 1;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    const req = request({ port, host: '127.0.0.1', headers: { foo: 'bar', bar: 'baz' } });
    req.end();
    const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
    res.resume();
    return res.statusCode === 431;
  } finally {
    server.close();
    server.closeAllConnections();
  }
}

/** Listed failures that hold on this Node only, each with its reason. */
export async function nodeDependentFailures(): Promise<Record<string, string>> {
  const failures: Record<string, string> = {};
  if (await nodeRejectsExtraHeaders())
    failures[TOO_MANY_HEADERS] =
      `Node ${process.version}: answers a request over maxHeadersCount with 431 itself ` +
      "(CVE-2026-58044 fix), so no 'upgrade' event; ws itself fails this test on this Node";
  return failures;
}
