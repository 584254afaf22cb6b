// `wsx serve --http2` and `wsx connect --http2`: h2c without a certificate; with one, h2 and
// HTTP/1.1 on the same TLS port.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listeningUrl, portOf, runCli } from '../shared/cli.js';

const fixtures = new URL('../../../test/fixtures/', import.meta.url).pathname;

async function echoOnce(args: readonly string[]): Promise<string> {
  const client = runCli(['connect', ...args]);
  client.child.stdin!.end('hello over h2\n');
  const status = await client.exit();
  assert.equal(status, 0, client.err());
  return client.out();
}

describe('wsx serve --http2 and wsx connect --http2', () => {
  it('h2c without a certificate', async () => {
    const server = runCli(['serve', '--http2', '--echo', '--port', '0']);
    try {
      const port = portOf(await listeningUrl(server.child, 20_000));
      assert.match(await echoOnce(['--http2', `ws://127.0.0.1:${port}/`]), /hello over h2/);
    } finally {
      server.child.kill('SIGTERM');
      await server.exit();
    }
  });

  it('h2 and HTTP/1.1 on one TLS port', async () => {
    const server = runCli([
      'serve',
      '--http2',
      '--echo',
      '--port',
      '0',
      '--cert',
      `${fixtures}cert.pem`,
      '--key',
      `${fixtures}key.pem`,
    ]);
    try {
      const port = portOf(await listeningUrl(server.child, 20_000));
      const url = `wss://localhost:${port}/`;
      assert.match(await echoOnce(['--http2', '--insecure', url]), /hello over h2/);
      assert.match(await echoOnce(['--insecure', url]), /hello over h2/);
    } finally {
      server.child.kill('SIGTERM');
      await server.exit();
    }
  });
});
