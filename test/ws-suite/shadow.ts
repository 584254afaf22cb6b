// ws's test suite loads what it tests from the directory above its test/ folder:
// `require('..')` and `require('../lib/<module>')`. This builds that directory in a temporary
// place: index.js is wsx/ws, the lib modules of ws's public API point at the facade, and the
// few ws internals the public tests use as tools (Sender.frame to build raw frames, constants)
// come from the ws devDependency.
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The test files that exercise ws's public API; the others test ws's internal modules. */
export const PUBLIC_FILES = [
  'websocket.test.js',
  'websocket-server.test.js',
  'create-websocket-stream.test.js',
  'event-target.test.js',
] as const;

/** Test files of ws's internal modules, with what they test: not applicable to another implementation. */
export const INTERNAL_FILES: Readonly<Record<string, string>> = {
  'buffer-util.test.js': "ws's lib/buffer-util (masking helpers)",
  'extension.test.js': "ws's lib/extension (its header parser and formatter)",
  'limiter.test.js': "ws's lib/limiter (its zlib concurrency queue)",
  'permessage-deflate.test.js': "ws's lib/permessage-deflate (its negotiation and zlib wrapper objects)",
  'receiver.test.js': "ws's lib/receiver (its Writable frame parser)",
  'sender.test.js': "ws's lib/sender (its frame writer and queue)",
  'subprotocol.test.js': "ws's lib/subprotocol (its header parser)",
  'validation.test.js': "ws's lib/validation (its UTF-8 and close code helpers)",
};

/**
 * A mocha reporter that appends each result to a JSON-lines file as it happens, so that a run
 * that dies of an uncaught exception still leaves what it had done.
 */
const REPORTER = `const { appendFileSync } = require('node:fs');
module.exports = function LineReporter(runner, options) {
  const out = options.reporterOptions.output;
  const write = (state, test, error) =>
    appendFileSync(out, JSON.stringify({ file: test.file, title: test.fullTitle(), state,
      error: error ? String(error.message).split('\\n')[0] : undefined }) + '\\n');
  runner.on('pass', (test) => write('passed', test));
  runner.on('fail', (test, error) => write('failed', test, error));
  runner.on('pending', (test) => write('pending', test));
};
`;

/** Builds the directory; returns its path. `repoRoot` has dist/ (built) and node_modules/ws. */
export function buildShadow(suiteDir: string, repoRoot: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'wsx-ws-suite-'));
  cpSync(join(suiteDir, 'test'), join(dir, 'test'), { recursive: true });
  const ws = createRequire(join(repoRoot, 'package.json'))
    .resolve('ws/package.json')
    .replace(/package\.json$/, '');
  const facade = (module: string) => JSON.stringify(join(repoRoot, 'dist', 'ws', `${module}.js`));
  const wsLib = (module: string) => JSON.stringify(join(ws, 'lib', `${module}.js`));
  const files: Record<string, string> = {
    'index.js': `module.exports = require(${facade('index')});\n`,
    'lib/websocket.js': `module.exports = require(${facade('index')}).WebSocket;\n`,
    'lib/websocket-server.js': `module.exports = require(${facade('index')}).WebSocketServer;\n`,
    'lib/stream.js': `module.exports = require(${facade('index')}).createWebSocketStream;\n`,
    'lib/event-target.js': [
      `const events = require(${facade('events')});`,
      'module.exports = { ...events, EventTarget: { addEventListener(type, handler, options) { events.addEventListener(this, type, handler, options); }, removeEventListener(type, handler) { events.removeEventListener(this, type, handler); } } };',
      '',
    ].join('\n'),
    // ws's constants, with the facade's own objects where the tests compare identities.
    'lib/constants.js': [
      `const wsConstants = require(${wsLib('constants')});`,
      `const facade = require(${facade('constants')});`,
      `const errors = require(${facade('errors')});`,
      'module.exports = { ...wsConstants, EMPTY_BUFFER: facade.EMPTY_BUFFER, kListener: facade.kListener, kForOnEventAttribute: facade.kForOnEventAttribute, kStatusCode: errors.kStatusCode };',
      '',
    ].join('\n'),
    'lib/sender.js': `module.exports = require(${wsLib('sender')});\n`,
    'reporter.js': REPORTER,
  };
  mkdirSync(join(dir, 'lib'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
