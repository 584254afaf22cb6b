#!/usr/bin/env node
import { CONNECT_HELP, connectCommand } from './connect.js';
import { SERVE_HELP, serve } from './serve.js';

const HELP = `Usage: wsx <command> [options]

Commands:
  serve     run the real-time server: a chat page at /, topics, publish over HTTP, echo
  connect   connect to a WebSocket server: send stdin lines, print messages

Run 'wsx <command> --help' for a command's options.

${SERVE_HELP}
${CONNECT_HELP}`;

const [command, ...rest] = process.argv.slice(2);
switch (command) {
  case 'serve':
    await serve(rest);
    break;
  case 'connect':
    await connectCommand(rest);
    break;
  case undefined:
  case '-h':
  case '--help':
  case 'help':
    process.stdout.write(HELP);
    break;
  default:
    process.stderr.write(`wsx: unknown command ${JSON.stringify(command)}\n\n${HELP}`);
    process.exitCode = 2;
}
