// wsx/ws as a package: ESM import, CommonJS require (the class itself, as ws's require gives),
// and TypeScript code written for @types/ws compiling against it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { NODE } from '../shared/cli.js';

const ROOT = new URL('../../..', import.meta.url).pathname.replace(/\/$/, '');

/** Runs a script from the repository root, where the package refers to itself as 'wsx'. */
function run(args: string[]): string {
  const result = spawnSync(NODE, args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(result.status, 0, `node ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout.trim();
}

/** An echo round trip on the facade, as ws's own README shows it; prints what came back. */
const ROUND_TRIP = `
const wss = new WebSocketServer({ port: 0 }, () => {
  const ws = new WebSocket('ws://127.0.0.1:' + wss.address().port);
  ws.on('open', () => ws.send('ping'));
  ws.on('message', (data, isBinary) => { console.log(String(data), isBinary); ws.close(); });
  ws.on('close', () => wss.close());
});
wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
`;

describe('wsx/ws as a package', () => {
  it('imports from ES modules, with named exports and the default', () => {
    const out = run([
      '--input-type=module',
      '-e',
      `import WebSocket, { WebSocketServer, createWebSocketStream, Server } from 'wsx/ws';
       console.log(JSON.stringify([WebSocket.OPEN, WebSocket.Server === WebSocketServer, Server === WebSocketServer,
         WebSocket.createWebSocketStream === createWebSocketStream, WebSocket.WebSocket === WebSocket]));
       ${ROUND_TRIP}`,
    ]);
    assert.equal(out, '[1,true,true,true,true]\nping false');
  });

  it("loads with require(), which gives the WebSocket class as ws's does", () => {
    const out = run([
      '-e',
      `const WebSocket = require('wsx/ws');
       const { WebSocketServer } = WebSocket;
       console.log(typeof WebSocket, WebSocket.CLOSED, typeof WebSocket.WebSocketServer);
       ${ROUND_TRIP}`,
    ]);
    assert.equal(out, 'function 3 function\nping false');
  });

  it('compiles TypeScript written for @types/ws with only the import changed', () => {
    compileStrict('ws-style-usage.ts.txt');
  });

  it("assigns its server and sockets where @types/ws's types are expected, and passes its server to graphql-ws, without casts", () => {
    compileStrict('types-ws-assignable.ts.txt');
  });
});

/** Type-checks a fixture with tsc --strict against the built package (and @types/ws for 'ws'); fails on any error. */
function compileStrict(fixture: string): void {
  const dir = join(ROOT, '.build', 'ws-types', fixture.replace(/\.ts\.txt$/, ''));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(ROOT, 'test', 'ws', 'fixtures', fixture), join(dir, 'usage.ts'));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['ES2022'],
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules', '@types')],
      },
      files: ['usage.ts'],
    }),
  );
  run([join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir]);
}
