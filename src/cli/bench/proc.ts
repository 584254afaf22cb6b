import { readFileSync } from 'node:fs';

/**
 * What Linux says about the server's process (`--pid`): its resident memory and its CPU time,
 * read at the start and the end of a run. Both are null where /proc cannot be read (not Linux,
 * or the process has gone).
 */

export interface ProcessSample {
  /** VmRSS, KiB. */
  readonly rssKiB: number | null;
  /** utime + stime of every thread, seconds. */
  readonly cpuSeconds: number | null;
  /** When it was taken (performance.now(), ms). */
  readonly at: number;
}

/** Clock ticks per second of /proc/PID/stat's times: 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100;

export function sampleProcess(pid: number): ProcessSample {
  return { rssKiB: readRss(pid), cpuSeconds: readCpu(pid), at: performance.now() };
}

function readRss(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? null : Number(match[1]);
  } catch {
    return null;
  }
}

function readCpu(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15, the 12th and 13th after the name and state.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}
