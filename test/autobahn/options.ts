// The command line of `npm run autobahn`: which cases, which testees, where the reports go.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

export const USAGE = `Usage: npm run autobahn -- [options]

Runs Autobahn|TestSuite against wsx: the server role (wsx serve --echo) and the client role
through each client surface (the wsx CLI, connect(), the WHATWG WebSocket), prints a table and
exits 1 when a case is FAILED, NON-STRICT or UNIMPLEMENTED (but for the known outcomes listed,
with their reason, in test/autobahn/accepted.ts), or a testee gave no results.

Options:
  --cases LIST     case ids or patterns, comma-separated (default '*': all 517)
  --ci             the CI preset: categories 1-10 and a subset of 12.* and 13.* (permessage-deflate);
                   the CLI surface, a process per case, runs a smaller set (options.ts says which)
  --roles LIST     comma-separated: server, client, or one client surface (cli, connect,
                   websocket); default server,client
  --out DIR        report directory, one subdirectory per testee (default test-artifacts/autobahn)
  --timeout S      stop a testee's run after S seconds (default 3600)
  -h, --help       show this help

The suite is looked for in $AUTOBAHN_DIR, else ../shared/autobahn beside the repository.
Exit status: 0 all passed, 1 a testee did not pass, 2 bad arguments or no usable suite.
`;

/** What a run can test: wsx serve as the server, and the three ways to be a client. */
export const TESTEES = ['server', 'cli', 'connect', 'websocket'] as const;
export type Testee = (typeof TESTEES)[number];

/**
 * The CI preset. Categories 1-10 run whole (about 300 cases, seconds each at most). Of the 216
 * permessage-deflate cases, 12.* and 13.* are groups of 18 that send the same 1000 messages at
 * growing sizes, the 18 sizes alike in every group: 12.1-12.5 differ in the data (JSON and HTML
 * as text, a bitmap, a book and a PDF as binary) under the default offer; 13.1-13.7 differ in the
 * offer and the answer (no context takeover either way, max_window_bits 9 or 15, and a list of
 * three offers the answer must pick from), on the JSON data. Case 1 of each group (16-byte
 * messages) runs every data set and every parameter combination, where context takeover across
 * 1000 messages is what matters; case 11 (8 KiB messages auto-fragmented into 256-byte frames)
 * runs them again with compressed messages that span continuation frames and exceed the 512-byte
 * window of max_window_bits 9. The larger sizes repeat those paths with more bytes: the full
 * run (`npm run autobahn`) covers them.
 */
export const CI_CASES: readonly string[] = [
  ...Array.from({ length: 10 }, (_, i) => `${i + 1}.*`),
  ...[1, 2, 3, 4, 5].flatMap((n) => [`12.${n}.1`, `12.${n}.11`]),
  ...[1, 2, 3, 4, 5, 6, 7].flatMap((n) => [`13.${n}.1`, `13.${n}.11`]),
];

/**
 * The CI preset of the CLI surface, which starts a process per case (most of a second on a busy
 * 2-core machine, so the whole preset would take minutes). Under `wsx connect --echo` is the
 * same dial() and socket that the connect() surface runs through the whole preset; what the CLI
 * adds is its echo (text as text, binary as binary), --max-payload, its deflate offer and how it
 * ends. So: categories 1-5 (echo of text and binary, pings, protocol errors, fragmentation),
 * 7.1.* (closing handshake), 9.1.6 and 9.2.6 (16 MiB text and binary, over the default limit
 * of other clients), 10.1.1, and permessage-deflate on text and binary data (12.1.1, 12.2.1)
 * and under every server answer (13.1.1-13.7.1).
 */
export const CI_CLI_CASES: readonly string[] = [
  ...['1.*', '2.*', '3.*', '4.*', '5.*', '7.1.*', '9.1.6', '9.2.6', '10.1.1', '12.1.1', '12.2.1'],
  ...[1, 2, 3, 4, 5, 6, 7].map((n) => `13.${n}.1`),
];

export interface RunnerOptions {
  readonly help: boolean;
  /** The cases given with --cases, or null for a preset (all cases, or --ci). */
  readonly cases: readonly string[] | null;
  readonly ci: boolean;
  readonly testees: readonly Testee[];
  readonly outDir: string;
  readonly timeoutSeconds: number;
}

/** A bad command line: the runner prints the message and the usage, and exits 2. */
export class RunnerUsageError extends Error {}

export function parseOptions(argv: readonly string[], cwd: string): RunnerOptions {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (error) {
    throw new RunnerUsageError((error as Error).message);
  }
  if (values.ci && values.cases !== undefined)
    throw new RunnerUsageError('--ci and --cases exclude each other');
  const cases = values.cases === undefined ? null : list(values.cases);
  if (cases !== null && cases.length === 0) throw new RunnerUsageError('--cases is empty');
  for (const id of cases ?? []) {
    if (!/^(\*|\d+(\.(\d+|\*))*)$/.test(id)) throw new RunnerUsageError(`not a case id or pattern: ${id}`);
  }
  const testees = new Set<Testee>();
  for (const name of list(values.roles ?? 'server,client')) {
    if (name === 'client') for (const t of TESTEES.slice(1)) testees.add(t);
    else if ((TESTEES as readonly string[]).includes(name)) testees.add(name as Testee);
    else throw new RunnerUsageError(`unknown role ${name} (server, client, cli, connect, websocket)`);
  }
  if (testees.size === 0) throw new RunnerUsageError('--roles is empty');
  const timeoutSeconds = Number(values.timeout ?? 3600);
  if (!Number.isSafeInteger(timeoutSeconds) || timeoutSeconds < 1)
    throw new RunnerUsageError(`--timeout expects a whole number of seconds, got ${values.timeout}`);
  return {
    help: values.help === true,
    cases,
    ci: values.ci === true,
    // In the order of TESTEES, whatever the order given: the table always reads the same way.
    testees: TESTEES.filter((t) => testees.has(t)),
    outDir: resolve(cwd, values.out ?? 'test-artifacts/autobahn'),
    timeoutSeconds,
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    options: {
      cases: { type: 'string' },
      ci: { type: 'boolean' },
      roles: { type: 'string' },
      out: { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** The cases one testee runs. */
export function casesFor(options: RunnerOptions, testee: Testee): readonly string[] {
  if (options.cases !== null) return options.cases;
  if (!options.ci) return ['*'];
  return testee === 'cli' ? CI_CLI_CASES : CI_CASES;
}
