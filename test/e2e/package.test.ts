// The npm package as users get it: what `npm pack` puts in the tarball (and its size, printed),
// the types as a consumer's TypeScript resolves them under each module resolution it may use
// (`tsc --strict` over the installed tarball, declaration files included), and require('wsx')
// from a CommonJS file doing real work: a server and a client echoing a message.
import assert from 'node:assert/strict';
import { symlinkSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NODE } from '../shared/cli.js';
import { NPM_FLAGS, type Packed, pack, ROOT, run, scratchProject, succeed } from './npm.js';

const INSTALL_TIMEOUT = 5 * 60_000;
const TSC = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');

/** What the tarball may hold besides dist/ and src/. */
const TOP_LEVEL_FILES = ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'SECURITY.md'];
/**
 * A test or fixture file, wherever it is. (The repository's bench/, test/ and scripts/ are kept
 * out by the rule that all but the notes is under dist/ or src/; `src/cli/bench/` is `wsx bench`.)
 */
const TEST_FILE = /(^|\/)(test|tests|__tests__|fixtures?|\.build)(\/|$)|\.(test|spec)\.[cm]?[jt]s$/;

/** The file paths in a package.json field: a string, or the strings nested in an object (exports, bin). */
function pathsIn(field: unknown): string[] {
  if (typeof field === 'string') return field.startsWith('./') ? [field] : [];
  if (typeof field === 'object' && field !== null) return Object.values(field).flatMap(pathsIn);
  return [];
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

describe('the npm package', () => {
  it('npm pack: built code, sources and notes; no tests, fixtures or benchmarks', async () => {
    const packed: Packed = await pack();
    const paths = packed.files.map((file) => file.path);
    // Printed for the CI log: how big the package is.
    console.log(
      `# ${packed.filename}: ${kib(packed.size)} packed, ${kib(packed.unpackedSize)} unpacked, ${paths.length} files`,
    );
    const stray = paths.filter(
      (path) => !path.startsWith('dist/') && !path.startsWith('src/') && !TOP_LEVEL_FILES.includes(path),
    );
    assert.deepEqual(stray, [], 'files outside dist/, src/ and the notes');
    assert.deepEqual(
      paths.filter((path) => TEST_FILE.test(path)),
      [],
      'test or fixture files',
    );
    for (const name of ['LICENSE', 'README.md', 'CHANGELOG.md', 'dist/cli/main.js']) {
      assert.ok(paths.includes(name), `${name} is not in the tarball`);
    }
    // Whatever package.json's main, types, bin and exports name must be there.
    const manifest = createRequire(import.meta.url)(join(ROOT, 'package.json')) as Record<string, unknown>;
    const targets = [manifest.main, manifest.types, manifest.bin, manifest.exports].flatMap(pathsIn);
    assert.ok(targets.length >= 4, `package.json names ${targets.join(', ')}`);
    for (const target of targets) {
      assert.ok(
        paths.includes(target.replace(/^\.\//, '')),
        `package.json names ${target}, not in the tarball`,
      );
    }
    // A sanity bound, far above today's size, that a stray folder (node_modules, a profile) would break.
    assert.ok(packed.unpackedSize < 8 * 1024 * 1024, `unpacked size ${kib(packed.unpackedSize)}`);
  });

  describe('installed from the tarball into a scratch project', () => {
    let dir: string;
    let project: string;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'wsx-package-'));
      const { filename } = await pack(dir);
      project = scratchProject(join(dir, 'consumer'), { type: 'module' });
      await succeed('npm', ['install', join(dir, filename), ...NPM_FLAGS], project);
      // What a TypeScript user of wsx has too: Node's types, and `redis` for wsx/redis (its
      // optional peer dependency), taken from this repository's own install.
      await mkdir(join(project, 'node_modules', '@types'), { recursive: true });
      symlinkSync(
        join(ROOT, 'node_modules', '@types', 'node'),
        join(project, 'node_modules', '@types', 'node'),
      );
      symlinkSync(join(ROOT, 'node_modules', 'redis'), join(project, 'node_modules', 'redis'));
    });

    after(async () => {
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    });

    /** Writes a tsconfig for `files` and runs `tsc --strict` on it. */
    async function typecheck(name: string, options: object, files: string[]) {
      const compilerOptions = {
        strict: true,
        noEmit: true,
        target: 'ES2022',
        lib: ['ES2022'],
        types: ['node'],
        // The package's declaration files are checked too, as a strict consumer would.
        skipLibCheck: false,
        ...options,
      };
      writeFileSync(join(project, `tsconfig.${name}.json`), JSON.stringify({ compilerOptions, files }));
      return run(NODE, [TSC, '-p', `tsconfig.${name}.json`, '--pretty', 'false'], project);
    }

    const USE = `import { type CloseInfo, Opcode } from 'wsx/protocol';
import { createRedisAdapter, type RedisAdapterOptions } from 'wsx/redis';
import { connect, createServer, type ServerStats, WebSocket } from 'wsx';

const server = createServer({ maxMessageSize: 1024 });
server.route('/echo', { message: (socket, data, isBinary) => socket.send(data, { binary: isBinary }) });
const { port } = await server.listen();
const ws = new WebSocket(\`ws://127.0.0.1:\${port}/echo\`);
ws.addEventListener('message', (event) => console.log(event.data));
const stats: ServerStats = server.stats();
const info: CloseInfo = { code: 1000, reason: '' };
const text: number = Opcode.Text;
const options: RedisAdapterOptions = { mode: 'stream' };
export const used = [connect, stats, info, text, options, createRedisAdapter];
`;
    // Must not compile: if it did, the types would be \`any\` (not found, or not strict).
    const CANARY = `import { createServer } from 'wsx';
export const wrong: string = createServer().connections;
`;

    const MODES = [
      { resolution: 'node16', module: 'node16' },
      { resolution: 'nodenext', module: 'nodenext' },
      { resolution: 'bundler', module: 'preserve' },
    ];
    for (const { resolution, module } of MODES) {
      it(`types resolve under moduleResolution ${resolution} (tsc --strict)`, {
        timeout: INSTALL_TIMEOUT,
      }, async () => {
        writeFileSync(join(project, `use-${resolution}.ts`), USE);
        writeFileSync(join(project, `canary-${resolution}.ts`), CANARY);
        const options = { module, moduleResolution: resolution };
        const use = await typecheck(resolution, options, [`use-${resolution}.ts`]);
        assert.equal(use.code, 0, `tsc (${resolution}):\n${use.stdout}${use.stderr}`);
        const canary = await typecheck(`${resolution}-canary`, options, [`canary-${resolution}.ts`]);
        assert.match(canary.stdout, /error TS2322: Type 'number' is not assignable to type 'string'/);
      });
    }

    it('types resolve for a CommonJS TypeScript file (module nodenext)', {
      timeout: INSTALL_TIMEOUT,
    }, async () => {
      // TypeScript lets a CommonJS file import an ES module under nodenext (or node20), the
      // modes that know Node's require() loads ES modules.
      writeFileSync(
        join(project, 'use.cts'),
        "import { createServer, type ServerOptions } from 'wsx';\nconst options: ServerOptions = {};\nexport const server = createServer(options);\n",
      );
      const use = await typecheck('cjs', { module: 'nodenext', moduleResolution: 'nodenext' }, ['use.cts']);
      assert.equal(use.code, 0, `tsc:\n${use.stdout}${use.stderr}`);
    });

    it("require('wsx') from a CommonJS file: a server and a client echo a message", async () => {
      writeFileSync(
        join(project, 'echo.cjs'),
        `const { createServer, WebSocket } = require('wsx');
const { Opcode } = require('wsx/protocol');
const { createRedisAdapter } = require('wsx/redis');

async function main() {
  const server = createServer();
  server.route('/echo', { message: (socket, data, isBinary) => socket.send(data, { binary: isBinary }) });
  const { port } = await server.listen();
  const ws = new WebSocket('ws://127.0.0.1:' + port + '/echo');
  ws.addEventListener('open', () => ws.send('hello from CommonJS'));
  const echoed = await new Promise((resolve, reject) => {
    ws.addEventListener('message', (event) => resolve(event.data));
    ws.addEventListener('close', () => reject(new Error('closed before the echo')));
  });
  ws.close(1000);
  const report = await server.close();
  console.log(JSON.stringify({ echoed, text: Opcode.Text, redis: typeof createRedisAdapter, report }));
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
`,
      );
      const result = await run(NODE, ['echo.cjs'], project);
      assert.equal(result.code, 0, `node echo.cjs:\n${result.stdout}${result.stderr}`);
      const printed = JSON.parse(result.stdout) as { echoed: string; text: number; redis: string };
      assert.equal(printed.echoed, 'hello from CommonJS');
      assert.equal(printed.text, 1);
      assert.equal(printed.redis, 'function');
      assert.doesNotMatch(result.stderr, /Error/, result.stderr);
    });
  });
});
