// `socket.pause()` from a handler stops delivery at once, even of frames that arrived in the
// same read, and `resume()` delivers them in order; a peer that ended its side meanwhile is
// answered after them. The client writes everything in one corked write so that it is read
// together whenever the kernel allows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createServer, type Socket } from '../../src/index.js';
import { RawClient, until, within } from './helpers.js';

interface Recorded {
  readonly events: string[];
  paused: Socket | null;
  closed: Promise<{ code: number; wasClean: boolean }>;
}

async function pausingServer(): Promise<{ port: number; record: Recorded; close: () => Promise<unknown> }> {
  const server = createServer({ closeTimeout: 30_000 });
  let report: (result: { code: number; wasClean: boolean }) => void = () => {};
  const record: Recorded = {
    events: [],
    paused: null,
    closed: new Promise((resolve) => {
      report = resolve;
    }),
  };
  server.route('/', {
    message(socket, data) {
      record.events.push(`message ${data.toString()}`);
      if (record.paused === null) {
        record.paused = socket;
        socket.pause();
      }
    },
    ping(_socket, payload) {
      record.events.push(`ping ${payload.toString()}`);
    },
    close(socket, code) {
      record.events.push(`close ${code}`);
      report({ code, wasClean: socket.wasClean });
    },
  });
  const { port } = await server.listen({ port: 0 });
  return { port, record, close: () => server.close() };
}

function sendTogether(client: RawClient, send: () => void): void {
  client.socket.cork();
  send();
  client.socket.uncork();
}

describe('socket.pause() inside a handler', () => {
  it('holds the frames read with the message until resume, then delivers them in order', async () => {
    const { port, record, close } = await pausingServer();
    try {
      const client = await RawClient.open(port);
      sendTogether(client, () => {
        client.sendText('one');
        client.send(0x9, 'are you there');
        client.sendText('two');
      });
      await until(2000, 'the first message', () => record.paused !== null);
      // Let any number of turns pass: nothing more is delivered while paused.
      for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(record.events, ['message one']);
      assert.equal(record.paused!.isPaused, true);
      assert.ok(!client.frames.some((frame) => frame.opcode === 0xa), 'the ping is not answered yet');

      record.paused!.resume();
      assert.deepEqual(record.events, ['message one', 'ping are you there', 'message two']);
      await until(2000, 'the pong', () => client.frames.some((frame) => frame.opcode === 0xa));
      client.close(1000);
      const closed = await within(5000, 'the close', record.closed);
      assert.deepEqual(closed, { code: 1000, wasClean: true });
    } finally {
      await close();
    }
  });

  it('answers a close and an end of input that came during the pause after the held messages', async () => {
    const { port, record, close } = await pausingServer();
    try {
      const client = await RawClient.open(port, '/', { allowHalfOpen: true });
      sendTogether(client, () => {
        client.sendText('one');
        client.sendText('two');
        client.close(1000);
      });
      client.socket.end();
      await until(2000, 'the first message', () => record.paused !== null);
      for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(record.events, ['message one']);

      record.paused!.resume();
      const closed = await within(5000, 'the close', record.closed);
      assert.deepEqual(record.events, ['message one', 'message two', 'close 1000']);
      assert.deepEqual(closed, { code: 1000, wasClean: true });
      await within(5000, 'the server to close TCP', client.closed);
      assert.equal(client.closeCode, 1000, 'the server answered the close frame');
    } finally {
      await close();
    }
  });
});
