import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createServer, prometheusText } from '../../src/index.js';
import { RawClient, until } from './helpers.js';

describe('stats and metrics', { timeout: 90_000 }, () => {
  it('counts messages and wire bytes both ways, and closes by code', async () => {
    const server = createServer();
    server.route('/', {
      message(socket, data) {
        socket.sendText(data);
      },
    });
    const { port } = await server.listen({ port: 0 });
    try {
      const client = await RawClient.open(port);
      for (let i = 0; i < 3; i++) client.sendText('hello');
      await until(2_000, 'three echoes', () => client.messages === 3);
      client.close(1000);
      await client.closed;
      await until(2_000, 'the server to count the close', () => server.connections === 0);
      const stats = server.stats();
      assert.equal(stats.connections.open, 0);
      assert.equal(stats.connections.accepted, 1);
      assert.deepEqual(stats.messages, { in: 3, out: 3, dropped: { backpressure: 0, closing: 0 } });
      // In: three masked 5-byte text frames (11 bytes each) and a masked close frame with a code (8).
      // Out: three unmasked text frames (7 bytes each) and the close reply (4).
      assert.deepEqual(stats.bytes, { in: 3 * 11 + 8, out: 3 * 7 + 4 });
      assert.deepEqual(stats.closes, { '1000': 1 });

      const closing = await RawClient.open(port);
      closing.socket.destroy();
      await until(2_000, 'the second close', () => server.stats().closes['1006'] === 1);
      assert.equal(typeof server.stats().uptime, 'number');
    } finally {
      await server.close({ timeout: 1_000 });
    }
  });

  it('renders the Prometheus text format', async () => {
    const server = createServer({ maxConnections: 1 });
    server.route('/', {
      open(socket) {
        socket.subscribe('a');
        socket.subscribe('b');
      },
    });
    const { port } = await server.listen({ port: 0 });
    try {
      const client = await RawClient.open(port);
      await assert.rejects(RawClient.open(port), /503/);
      server.publish('a', 'x');
      await until(2_000, 'the message', () => client.messages === 1);
      const text = server.metrics();
      const lines = text.trimEnd().split('\n');
      const described = new Set<string>();
      const typed = new Set<string>();
      for (const line of lines) {
        let match = /^# HELP (\w+) .+$/.exec(line);
        if (match) {
          described.add(match[1]);
          continue;
        }
        match = /^# TYPE (\w+) (counter|gauge)$/.exec(line);
        if (match) {
          assert.ok(described.has(match[1]), `HELP before TYPE for ${match[1]}`);
          typed.add(match[1]);
          if (match[2] === 'counter') assert.match(match[1], /_total$/);
          continue;
        }
        match = /^(\w+)(\{\w+="[^"]*"(,\w+="[^"]*")*\})? (-?[0-9.e+]+|NaN|[+-]Inf)$/.exec(line);
        assert.ok(match, `a sample line: ${line}`);
        assert.ok(typed.has(match[1]), `TYPE before the samples of ${match[1]}`);
      }
      assert.match(text, /^wsx_connections 1$/m);
      assert.match(text, /^wsx_topics 2$/m);
      assert.match(text, /^wsx_subscriptions 2$/m);
      assert.match(text, /^wsx_published_total 1$/m);
      assert.match(text, /^wsx_messages_sent_total 1$/m);
      assert.match(text, /^wsx_connections_rejected_total\{limit="max_connections"\} 1$/m);
      assert.match(text, /^wsx_messages_dropped_total\{reason="backpressure"\} 0$/m);
      assert.match(server.metrics('chat'), /^chat_connections 1$/m);
      assert.throws(() => server.metrics('bad-prefix'), RangeError);
      client.socket.destroy();
      await until(2_000, 'the close', () => server.connections === 0);
      assert.match(server.metrics(), /^wsx_closes_total\{code="1006"\} 1$/m);
    } finally {
      await server.close({ timeout: 1_000 });
    }
  });

  it('escapes label values', () => {
    const stats = createServer().stats();
    const text = prometheusText({ ...stats, closes: { '4000': 2, 'a"b\\c\nd': 1 } });
    assert.match(text, /^wsx_closes_total\{code="4000"\} 2$/m);
    assert.ok(text.includes('wsx_closes_total{code="a\\"b\\\\c\\nd"} 1\n'));
  });
});
