// Interop: Debian's Chromium loads a page from a wsx server over https (h2 by ALPN) and opens
// wss:// WebSockets on that connection (RFC 8441); the server proves they ran over HTTP/2.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { createServer, type Socket } from '../../src/index.js';
import { browser, joinRoom, launch, serve, stop } from '../browser/chat-page.js';
import { within } from '../shared/wait.js';
import { TLS } from './helpers.js';

const PAGE = `<!doctype html><title>h2</title><script>
window.run = async (size) => {
  const ws = new WebSocket('wss://' + location.host + '/echo');
  ws.binaryType = 'arraybuffer';
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  const big = 'x'.repeat(size);
  const reply = new Promise((resolve) => { ws.onmessage = (event) => resolve(event.data); });
  ws.send(big);
  const echoed = await reply;
  const closed = new Promise((resolve) => { ws.onclose = (event) => resolve(event); });
  ws.close(1000, 'done');
  const event = await closed;
  return { extensions: ws.extensions, length: echoed.length, same: echoed === big, code: event.code, wasClean: event.wasClean };
};
</script>`;

describe('Chromium over HTTP/2', () => {
  browser.it('opens wss:// sockets over h2, with deflate, large messages and a clean close', async () => {
    const server = createServer();
    const opened: Socket[] = [];
    const closes: number[] = [];
    server.route('/echo', {
      open: (socket) => {
        opened.push(socket);
      },
      message: (socket, data, isBinary) => socket.send(data, { binary: isBinary }),
      close: (_socket, code) => closes.push(code),
    });
    const pageVersions: string[] = [];
    const { port } = await server.listen({
      tls: TLS,
      http2: true,
      request: (request, response) => {
        pageVersions.push(request.httpVersion);
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        response.end(PAGE);
      },
    });
    const { context, close } = await launchIgnoringCertificates();
    try {
      const page = await context.newPage();
      await page.goto(`https://localhost:${port}/`);
      const results = await within(
        30_000,
        'the page’s WebSockets',
        page.evaluate(
          `(async () => [await run(16), await run(${4 * 1024 * 1024}), await run(100000)])()`,
        ) as Promise<Record<string, unknown>[]>,
      );
      assert.equal(pageVersions[0], '2.0', 'the page came over HTTP/2');
      assert.deepEqual(
        opened.map((socket) => socket.httpVersion),
        ['2', '2', '2'],
        'every WebSocket ran on an HTTP/2 stream',
      );
      for (const [index, result] of results.entries()) {
        assert.match(String(result.extensions), /^permessage-deflate/);
        assert.equal(result.same, true, `message ${index} came back whole`);
        assert.equal(result.code, 1000);
        assert.equal(result.wasClean, true);
      }
      assert.equal(results[1].length, 4 * 1024 * 1024);
      await within(
        5_000,
        'the server to see the closes',
        waitFor(() => closes.length === 3),
      );
      assert.deepEqual(closes, [1000, 1000, 1000]);
      assert.ok(opened.every((socket) => socket.wasClean));
    } finally {
      await close();
      await server.close({ timeout: 1_000 });
    }
  });

  browser.it('the chat page of `wsx serve --http2` works over h2', async () => {
    const fixtures = new URL('../../../test/fixtures/', import.meta.url).pathname;
    const { child, port } = await serve(
      '--http2',
      '--cert',
      `${fixtures}cert.pem`,
      '--key',
      `${fixtures}key.pem`,
    );
    const { context, close } = await launchIgnoringCertificates();
    try {
      const url = `https://localhost:${port}/`;
      const alice = await context.newPage();
      const bob = await context.newPage();
      await joinRoom(alice, url, 'alice');
      await joinRoom(bob, url, 'bob');
      const protocol = await alice.evaluate(
        '(performance.getEntriesByType("navigation")[0] || {}).nextHopProtocol',
      );
      assert.equal(protocol, 'h2', 'the page came over HTTP/2');
      await alice.fill('#text', 'hello over h2');
      await alice.press('#text', 'Enter');
      await bob.locator('#log .message', { hasText: 'hello over h2' }).waitFor();
    } finally {
      await close();
      await stop(child);
    }
  });
});

/** Chromium as the browser tests launch it, told to accept the self-signed test certificate. */
async function launchIgnoringCertificates(): ReturnType<typeof launch> {
  return launch(['--ignore-certificate-errors']);
}

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}
