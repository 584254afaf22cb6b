#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { fail, usageFor } from './args.js';
import { BENCH_HELP, benchCommand } from './bench/command.js';
import { CONNECT_HELP, connectCommand } from './connect.js';
import { serveFailure, unexpectedFailure } from './failures.js';
import { SERVE_HELP, serve } from './serve.js';

const USAGE = 'Usage: wsx <command> [options]   (commands: serve, connect, bench)\n';

const HELP = `Usage: wsx <command> [options]

Commands:
  serve     run the real-time server: a chat page at /, topics, publish over HTTP, echo
  connect   connect to a WebSocket server: send stdin lines, print messages
  bench     load a WebSocket server: echo, connect, idle or broadcast; rates and latency

Options:
  -h, --help      show this help; 'wsx <command> --help' shows a command's options
  -V, --version   print the version of wsx
`;

const HELPS: Record<string, string> = { serve: SERVE_HELP, connect: CONNECT_HELP, bench: BENCH_HELP };

/** The version in the package.json beside the built files (dist/cli/main.js → package.json). */
function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return String(manifest.version);
}

const [command, ...rest] = process.argv.slice(2);
try {
  switch (command) {
    case 'serve':
      usageFor(command);
      await serve(rest);
      break;
    case 'connect':
      usageFor(command);
      await connectCommand(rest);
      break;
    case 'bench':
      usageFor(command);
      await benchCommand(rest);
      break;
    case '-h':
    case '--help':
      process.stdout.write(HELP);
      break;
    case 'help': {
      // `wsx help serve` is `wsx serve --help`.
      const topic = rest[0];
      if (topic !== undefined && HELPS[topic] === undefined) {
        fail(2, `no help for ${JSON.stringify(topic)}: commands are serve, connect and bench`);
      }
      process.stdout.write(topic === undefined ? HELP : HELPS[topic]);
      break;
    }
    case '-V':
    case '--version':
    case 'version':
      process.stdout.write(`wsx ${version()}\n`);
      break;
    case undefined:
      process.stderr.write(`${USAGE}Run 'wsx --help' for more.\n`);
      process.exitCode = 2;
      break;
    default:
      fail(
        2,
        `unknown ${command.startsWith('-') ? 'option' : 'command'} ${JSON.stringify(command)}: commands are serve, connect and bench (see 'wsx --help')`,
      );
  }
} catch (error) {
  // Failures at run time that escaped a command: one line for those of everyday use.
  fail(1, command === 'serve' ? serveFailure(error) : unexpectedFailure(error));
}
