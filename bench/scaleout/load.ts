/**
 * A load process of the scale-out benchmark: holds subscribers (half on node A, half on node B),
 * counts what they receive and measures publish -> deliver latency from the timestamp in the
 * payload. Driven by the runner over IPC.
 *
 *   node load.js --client=wsx|wsx-stream|sio
 *
 * `wsx` and `wsx-stream` use the `ws` client; `sio` uses socket.io-client (websocket transport).
 * With `wsx-stream` each message carries its offset and epoch; a subscriber whose node goes
 * away reconnects to node A presenting the last position it saw, and the process counts, per
 * subscriber, messages skipped (a gap in offsets) and received twice.
 */
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { Histogram, type LoadCommand, type LoadReply, nowUs } from './common.js';

const client = (process.argv.find((a) => a.startsWith('--client=')) ?? '--client=wsx').slice(9);
const stream = client === 'wsx-stream';

interface Subscriber {
  node: number;
  last: number;
  epoch: string;
  lost: number;
  duplicated: number;
  lostNode: boolean;
  recoverMs: number;
  close(): void;
}

const subscribers: Subscriber[] = [];
const histogram = new Histogram();
let measuring = false;
let received = 0;
let killAt = Number.POSITIVE_INFINITY;
let closing = false;
let ports: [number, number] = [0, 0];
const outcome = { recovered: 0, notRecovered: 0, reconnected: 0 };

function reply(message: LoadReply): void {
  process.send!(message);
}

function onText(sub: Subscriber, text: string): void {
  const now = nowUs();
  if (text.charCodeAt(0) === 82 /* R: the recovery handler's outcome */) {
    if (text.startsWith('R,true')) outcome.recovered++;
    else outcome.notRecovered++;
    return;
  }
  received++;
  const c1 = text.indexOf(',');
  let t: number;
  if (stream) {
    const c2 = text.indexOf(',', c1 + 1);
    const c3 = text.indexOf(',', c2 + 1);
    const offset = Number(text.slice(0, c1));
    t = Number(text.slice(c2 + 1, c3));
    if (sub.last > 0 && offset <= sub.last) sub.duplicated++;
    else {
      if (sub.last > 0 && offset > sub.last + 1) sub.lost += offset - sub.last - 1;
      sub.last = offset;
      sub.epoch = text.slice(c3 + 1);
    }
  } else {
    t = Number(text.slice(c1 + 1));
  }
  if (measuring) histogram.add(now - t);
  if (sub.lostNode && sub.recoverMs < 0 && t > killAt) sub.recoverMs = (now - killAt) / 1000;
}

function openWs(sub: Subscriber, port: number, query: string): Promise<void> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/${query}`, { perMessageDeflate: false });
  sub.close = () => ws.terminate();
  ws.on('message', (data: Buffer) => onText(sub, data.toString('latin1')));
  ws.on('close', () => {
    if (closing || !stream || sub.lostNode) return;
    // Its node is gone: come back on node A with the last position seen.
    sub.lostNode = true;
    sub.node = 0;
    outcome.reconnected++;
    void openWs(sub, ports[0], `?offset=${sub.last}&epoch=${encodeURIComponent(sub.epoch)}`);
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
}

function openSio(sub: Subscriber, port: number): Promise<void> {
  const socket = io(`http://127.0.0.1:${port}`, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
  });
  sub.close = () => socket.close();
  socket.on('m', (text: string) => onText(sub, text));
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
}

async function connect(first: number, count: number): Promise<void> {
  // In batches, so the listen backlogs never overflow.
  for (let i = 0; i < count; i += 100) {
    const batch: Promise<void>[] = [];
    for (let j = i; j < Math.min(count, i + 100); j++) {
      const node = (first + j) % 2;
      const sub: Subscriber = {
        node,
        last: 0,
        epoch: '',
        lost: 0,
        duplicated: 0,
        lostNode: false,
        recoverMs: -1,
        close: () => {},
      };
      subscribers.push(sub);
      batch.push(client === 'sio' ? openSio(sub, ports[node]!) : openWs(sub, ports[node]!, ''));
    }
    await Promise.all(batch);
  }
}

process.on('SIGTERM', () => process.exit(0)); // a clean exit writes the --cpu-prof profile

let reported = -1;
setInterval(() => {
  if (received === reported) return;
  reported = received;
  reply({ kind: 'progress', received });
}, 5).unref();

process.on('message', (message: LoadCommand) => {
  switch (message.cmd) {
    case 'connect':
      ports = message.ports;
      connect(message.first, message.count).then(
        () => reply({ kind: 'connected', count: subscribers.length }),
        (error: Error) => {
          console.error(`load: connect failed: ${error.message}`);
          process.exit(1);
        },
      );
      break;
    case 'window':
      measuring = message.on;
      if (message.on) {
        histogram.counts.fill(0);
        histogram.total = 0;
      } else {
        reply({ kind: 'window', received: histogram.total, histogram: histogram.sparse() });
      }
      break;
    case 'kill':
      killAt = message.atUs;
      for (const sub of subscribers) sub.lost = sub.duplicated = 0;
      break;
    case 'recovery':
      reply({
        kind: 'recovery',
        report: {
          recoverMs: subscribers.filter((s) => s.lostNode).map((s) => s.recoverMs),
          lost: subscribers.map((s) => s.lost),
          duplicated: subscribers.map((s) => s.duplicated),
          last: subscribers.map((s) => s.last),
          ...outcome,
        },
      });
      break;
    case 'close':
      closing = true;
      for (const sub of subscribers) sub.close();
      setTimeout(() => process.exit(0), 200);
      break;
  }
});
