/**
 * Where a server's time goes, from the V8 CPU profiles that `npm run bench -- --cpu-prof=DIR`
 * writes (one per sample, named workload.server.run.cpuprofile).
 *
 *   node .build/bench/profile.js FILE... [--top=N]
 *
 * Profiles given together are added up (e.g. every run of one server in one workload). Time
 * waiting in the event loop is left out; the rest is split into the server's own JavaScript
 * (the library under test and its bench script), Node's JavaScript (streams, net, events),
 * native calls made from JavaScript (for sockets these are the system calls: writes, close),
 * garbage collection, and V8's own work. Then the functions with the most self time.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

function category(frame: CallFrame): string {
  if (frame.url === '') {
    if (frame.functionName === '(garbage collector)') return 'garbage collection';
    if (frame.functionName === '(program)') return 'V8 (program)';
    return 'native calls (system calls)';
  }
  if (frame.url.startsWith('node:')) return "Node's JavaScript";
  return "the server's JavaScript";
}

function label(frame: CallFrame): string {
  const file = frame.url === '' ? '' : ` ${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}`;
  return `${frame.functionName || '(anonymous)'}${file}`;
}

function main(argv: string[]): void {
  const files = argv.filter((a) => !a.startsWith('--'));
  const topArg = argv.find((a) => a.startsWith('--top='));
  const top = topArg === undefined ? 25 : Number(topArg.slice(6));
  if (files.length === 0) throw new Error('usage: node .build/bench/profile.js FILE... [--top=N]');
  const byCategory = new Map<string, number>();
  const byFunction = new Map<string, { time: number; category: string }>();
  let busy = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
    profile.samples.forEach((id, i) => {
      const frame = frames.get(id)!;
      if (frame.functionName === '(idle)') return;
      const time = profile.timeDeltas[i];
      const kind = category(frame);
      busy += time;
      byCategory.set(kind, (byCategory.get(kind) ?? 0) + time);
      const key = label(frame);
      const entry = byFunction.get(key) ?? { time: 0, category: kind };
      entry.time += time;
      byFunction.set(key, entry);
    });
  }
  const percent = (time: number) => `${((time / busy) * 100).toFixed(1).padStart(5)}%`;
  const out = [`busy ${(busy / 1e6).toFixed(2)} s in ${files.length} profile(s), idle left out`, ''];
  for (const [kind, time] of [...byCategory].sort((a, b) => b[1] - a[1]))
    out.push(`${percent(time)}  ${kind}`);
  out.push('', `top ${top} functions by self time:`);
  for (const [key, { time, category: kind }] of [...byFunction]
    .sort((a, b) => b[1].time - a[1].time)
    .slice(0, top)) {
    out.push(`${percent(time)}  ${key}  [${kind}]`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

main(process.argv.slice(2));
