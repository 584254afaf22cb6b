import { createInterface } from 'node:readline';
import { connect, type Socket } from '../index.js';
import { headerOptions, integerOption, parse, usageError } from './args.js';

export const CONNECT_HELP = `Usage: wsx connect URL [options]

Connects to a WebSocket server. Each line read from standard input is sent as a
text message; each message received is printed (binary ones as hex). When input
ends, the connection is closed with 1000.

Options:
  --echo               send every message received back, with its type, until the peer closes
  -H, --header 'N: V'  an extra request header (repeatable)
  --subprotocol NAME   a subprotocol to offer (repeatable), most preferred first
  --max-payload BYTES  largest message accepted (default 16777216)
  -h, --help           show this help

Exit status: 0 when the closing handshake completed, 1 when the connection failed.
`;

export async function connectCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parse({
    args: argv,
    allowPositionals: true,
    options: {
      echo: { type: 'boolean' },
      header: { type: 'string', short: 'H', multiple: true },
      subprotocol: { type: 'string', multiple: true },
      'max-payload': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(CONNECT_HELP);
    return;
  }
  if (positionals.length !== 1) usageError('connect expects one URL');
  const echoMode = values.echo === true;
  let input: ReturnType<typeof createInterface> | null = null;

  let socket: Socket;
  try {
    socket = await connect(positionals[0], {
      protocols: values.subprotocol ?? [],
      headers: headerOptions(values.header),
      maxMessageSize: integerOption('max-payload', values['max-payload'], 16 * 1024 * 1024),
      handlers: {
        message(ws, data, isBinary) {
          if (echoMode) {
            if (isBinary) ws.sendBinary(data);
            else ws.sendText(data);
          } else {
            process.stdout.write(
              isBinary
                ? `[binary ${data.length} bytes] ${data.toString('hex')}\n`
                : `${data.toString('utf8')}\n`,
            );
          }
        },
        error(_ws, error) {
          process.stderr.write(`wsx: ${error.message}\n`);
        },
        close(ws, code, reason) {
          process.stderr.write(`wsx: closed ${code}${reason ? ` ${reason}` : ''}\n`);
          process.exitCode = ws.wasClean ? 0 : 1;
          input?.close();
        },
      },
    });
  } catch (error) {
    process.stderr.write(`wsx: ${(error as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  if (socket.protocol) process.stderr.write(`wsx: connected (subprotocol ${socket.protocol})\n`);
  if (echoMode || socket.readyState !== 'open') return;
  input = createInterface({ input: process.stdin });
  input.on('line', (line) => socket.sendText(line));
  input.on('close', () => {
    if (socket.readyState === 'open') socket.close(1000);
  });
}
