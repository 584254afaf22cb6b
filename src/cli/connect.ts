import type { Interface } from 'node:readline';
import { Backoff } from '../client/backoff.js';
import { type DialOptions, dial } from '../client/dial.js';
import { Heartbeat } from '../client/heartbeat.js';
import type { Socket, SocketHandlers } from '../node/socket.js';
import { headerOptions, integerOption, parse, usageError } from './args.js';
import { parseTarget, tlsOptions } from './client-options.js';
import { ConnectOutput } from './connect-output.js';
import { connectFailure } from './failures.js';

export const CONNECT_HELP = `Usage: wsx connect URL [options]

Connects to a WebSocket server (ws://, wss://, or ws+unix:/path/to.sock:/request/path).
Each line read from standard input is sent as a text message; each message received is
printed (binary ones as hex, or base64). When input ends, the connection is closed with 1000.
On a terminal, lines sent are marked '> ' and lines received '< ' (^C ends the input too);
piped, messages are printed as they are.

Options:
  --echo               send every message received back, with its type, until the peer closes
  -H, --header 'N: V'  an extra request header (repeatable)
  --subprotocol NAME   a subprotocol to offer (repeatable), most preferred first
  --no-deflate         do not offer permessage-deflate (offered by default)
  --max-payload BYTES  largest message accepted (default 16777216)
  --proxy URL          tunnel through this HTTP proxy with CONNECT (http://[user:pass@]host:port);
                       'env' uses HTTPS_PROXY / HTTP_PROXY / ALL_PROXY unless NO_PROXY lists the host
  --ca FILE            trust this CA certificate (PEM) for wss://
  --cert FILE          client certificate (PEM) for wss:// (needs --key)
  --key FILE           client private key (PEM)
  --insecure           do not verify the server's certificate
  --http2              open the WebSocket over HTTP/2 (RFC 8441): h2 for wss://, h2c for ws://;
                       fails when the server does not offer it
  --ping-interval MS   ping every MS milliseconds; a pong later than that fails the connection
  --reconnect          when the connection fails or drops, or the server closes with 1001, 1012
                       or 1013, connect again with exponential backoff (lines typed meanwhile wait)
  --max-retries N      with --reconnect: give up after N failed attempts in a row (default: never)
  --follow-redirects   follow HTTP redirects (at most 10); credentials are not sent to another host
  --binary-format F    print binary messages as hex (default) or base64
  --commands           take /commands from standard input even when it is not a terminal
  -h, --help           show this help

Commands (when standard input is a terminal, or with --commands):
  /ping [PAYLOAD]      send a ping; its pong is reported on standard error
  /close [CODE [REASON]]  close with CODE (default 1000) and REASON
  //TEXT               send the line /TEXT as it is

Exit status: 0 when the closing handshake completed, 1 when the connection failed,
2 for bad arguments.
`;

/** Close codes after which --reconnect tries again although the close was clean. */
const RETRY_CLOSE_CODES = new Set([1001, 1012, 1013]);
/** Lines kept while reconnecting; older ones are dropped first. */
const MAX_PENDING_LINES = 1000;

interface Closed {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}

export async function connectCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parse({
    args: argv,
    allowPositionals: true,
    options: {
      echo: { type: 'boolean' },
      header: { type: 'string', short: 'H', multiple: true },
      subprotocol: { type: 'string', multiple: true },
      'no-deflate': { type: 'boolean' },
      'max-payload': { type: 'string' },
      proxy: { type: 'string' },
      ca: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      insecure: { type: 'boolean' },
      http2: { type: 'boolean' },
      'ping-interval': { type: 'string' },
      reconnect: { type: 'boolean' },
      'max-retries': { type: 'string' },
      'follow-redirects': { type: 'boolean' },
      'binary-format': { type: 'string' },
      commands: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(CONNECT_HELP);
    return;
  }
  if (positionals.length !== 1) usageError('connect expects one URL');
  const url = positionals[0];
  const target = parseTarget(url);
  const echoMode = values.echo === true;
  const binaryFormat = values['binary-format'] ?? 'hex';
  if (binaryFormat !== 'hex' && binaryFormat !== 'base64')
    usageError('--binary-format expects hex or base64');
  const pingInterval = integerOption('ping-interval', values['ping-interval'], 0);
  const reconnect = values.reconnect === true;
  if (values['max-retries'] !== undefined && !reconnect) usageError('--max-retries needs --reconnect');
  const maxRetries = integerOption('max-retries', values['max-retries'], Number.MAX_SAFE_INTEGER);
  const commands = values.commands === true || process.stdin.isTTY === true;
  const output = new ConnectOutput(process.stdout.isTTY === true);
  const options: DialOptions = {
    protocols: values.subprotocol ?? [],
    perMessageDeflate: values['no-deflate'] !== true,
    headers: headerOptions(values.header),
    maxMessageSize: integerOption('max-payload', values['max-payload'], 16 * 1024 * 1024),
    proxy: values.proxy,
    tls: tlsOptions(values),
    followRedirects: values['follow-redirects'] === true,
    http2: values.http2 === true,
  };

  let socket: Socket | null = null;
  let input: Interface | null = null;
  /** We asked for the close (input ended, /close): no reconnection. */
  let closing = false;
  let pingsAwaited = 0;
  const pending: string[] = [];
  let wake: (() => void) | null = null;

  const print = (data: Buffer, isBinary: boolean) => {
    output.received(
      isBinary ? `[binary ${data.length} bytes] ${data.toString(binaryFormat)}` : data.toString('utf8'),
    );
  };
  const send = (ws: Socket, text: string) => {
    ws.sendText(text);
    output.sent(text);
  };

  const startInput = () => {
    if (input !== null || echoMode) return;
    input = output.readLines();
    input.on('line', (line) => {
      if (commands && line.startsWith('/') && !line.startsWith('//')) {
        command(line);
      } else {
        const text = commands && line.startsWith('//') ? line.slice(1) : line;
        if (socket !== null && socket.readyState === 'open') send(socket, text);
        else if (reconnect && !closing) {
          pending.push(text);
          if (pending.length > MAX_PENDING_LINES) pending.shift();
        }
      }
      output.lineTaken();
    });
    input.on('close', () => {
      input = null;
      if (closing) return;
      closing = true;
      if (socket !== null && socket.readyState === 'open') socket.close(1000);
      else wake?.(); // waiting to reconnect: stop
    });
  };

  const command = (line: string) => {
    const [name, ...args] = line.split(' ');
    try {
      if (name === '/ping') {
        if (socket === null || socket.readyState !== 'open') throw new Error('not connected');
        socket.ping(args.join(' '));
        pingsAwaited++;
      } else if (name === '/close') {
        const code = args.length > 0 && args[0] !== '' ? Number(args[0]) : 1000;
        const reason = args.slice(1).join(' ');
        if (socket === null || socket.readyState !== 'open') throw new Error('not connected');
        socket.close(code, reason);
        closing = true;
      } else {
        throw new Error(
          `unknown command ${name} (try /ping [PAYLOAD], /close [CODE [REASON]], or // to send /)`,
        );
      }
    } catch (error) {
      output.status((error as Error).message);
    }
  };

  const backoff = new Backoff({ minDelay: 250, maxDelay: 10_000 });
  let failures = 0;
  for (;;) {
    let heartbeat: Heartbeat | null = null;
    let closedResolve!: (closed: Closed) => void;
    const closed = new Promise<Closed>((resolve) => {
      closedResolve = resolve;
    });
    const handlers: SocketHandlers = {
      open(ws) {
        if (pingInterval > 0) {
          heartbeat = new Heartbeat(
            { interval: pingInterval },
            () => ws.ping(),
            (error) => {
              output.status(error.message);
              ws.terminate();
            },
          );
          heartbeat.start();
        }
      },
      message(ws, data, isBinary) {
        if (echoMode) {
          if (isBinary) ws.sendBinary(data);
          else ws.sendText(data);
        } else {
          print(data, isBinary);
        }
      },
      pong(_ws, payload) {
        heartbeat?.pong();
        if (pingsAwaited > 0) {
          pingsAwaited--;
          output.status(`pong ${payload.toString('utf8')}`);
        }
      },
      error(_ws, error) {
        output.status(error.message);
      },
      close(ws, code, reason) {
        heartbeat?.stop();
        output.status(`closed ${code}${reason ? ` ${reason}` : ''}`);
        closedResolve({ code, reason, wasClean: ws.wasClean });
      },
    };

    let result: Closed;
    try {
      socket = await dial(url, { ...options, handlers });
    } catch (error) {
      output.status(connectFailure(error, target));
      socket = null;
      result = { code: 1006, reason: '', wasClean: false };
    }
    if (socket !== null) {
      // `failures` counts the attempts since the connection was lost, this one included.
      if (failures > 0) output.status(`reconnected to ${url} (attempt ${failures})`);
      failures = 0;
      if (socket.protocol) output.status(`connected (subprotocol ${socket.protocol})`);
      if (socket.readyState === 'open') {
        for (const line of pending.splice(0)) send(socket, line);
        if (closing) socket.close(1000);
        else startInput();
      }
      result = await closed;
    }
    const retry = reconnect && !closing && (!result!.wasClean || RETRY_CLOSE_CODES.has(result!.code));
    if (!retry) {
      process.exitCode = result!.wasClean ? 0 : 1;
      break;
    }
    failures++;
    if (failures > maxRetries) {
      output.status(`giving up after ${failures} failed attempts`);
      process.exitCode = 1;
      break;
    }
    const delay = backoff.delay(failures);
    output.status(`reconnecting in ${delay} ms (attempt ${failures})`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    wake = null;
    if (closing) {
      // Input ended while disconnected: nothing was closed cleanly.
      process.exitCode = 1;
      break;
    }
  }
  socket = null;
  closing = true;
  (input as Interface | null)?.close();
}
