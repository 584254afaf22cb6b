// Every TypeScript block of the documentation must compile under `tsc --strict` against the
// built package, imported as a user imports it ('wsx', through package.json's exports), so the
// examples cannot drift from the API: the ```ts and ```typescript blocks of README.md and of
// the Markdown files under docs/, and the `@example` blocks of the TSDoc comments in src/
// (which the API reference shows). Each block is a module of its own in a temporary project;
// one tsc run checks them all, plus a canary that must fail, which proves the run can fail at all.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TSC = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');

interface Snippet {
  /** The temporary module the snippet is compiled as. */
  readonly file: string;
  /** Where it comes from: the documentation file, relative to the repository. */
  readonly source: string;
  /** The source file's line of the snippet's first line of code. */
  readonly line: number;
  /** The heading the snippet is under, or the declaration its TSDoc comment documents. */
  readonly section: string;
  readonly code: string;
}

const FENCE = /^```(ts|typescript)\s*$/;

/** The TypeScript blocks of a Markdown text, in order, with where each starts. */
function markdownBlocks(source: string, markdown: string): Omit<Snippet, 'file'>[] {
  const lines = markdown.split('\n');
  const snippets: Omit<Snippet, 'file'>[] = [];
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith('#')) section = lines[i].replace(/^#+\s*/, '');
    if (!FENCE.test(lines[i].trim())) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end].trim() !== '```') end++;
    assert.ok(end < lines.length, `${source} line ${i + 1}: a \`\`\`ts block is never closed`);
    snippets.push({ source, line: start + 1, section, code: lines.slice(start, end).join('\n') });
    i = end;
  }
  return snippets;
}

/**
 * The TypeScript blocks of the TSDoc comments of a source file (` * ```ts` ... ` * ``` `), with
 * the comment's ` * ` margin taken off, each named after the declaration that follows it.
 */
function tsdocBlocks(source: string, text: string): Omit<Snippet, 'file'>[] {
  const lines = text.split('\n');
  const snippets: Omit<Snippet, 'file'>[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*\* ?(.*)$/.exec(lines[i]);
    if (open === null || !FENCE.test(open[1].trim())) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^\s*\* ?```\s*$/.test(lines[end])) end++;
    assert.ok(end < lines.length, `${source} line ${i + 1}: a \`\`\`ts block is never closed`);
    const code = lines
      .slice(start, end)
      .map((line) => line.replace(/^\s*\* ?/, ''))
      .join('\n');
    let declaration = end;
    while (declaration < lines.length && /^\s*(\*|\/\*\*)/.test(lines[declaration])) declaration++;
    const section = (lines[declaration] ?? '').trim().replace(/\s*\{$/, '');
    snippets.push({ source, line: start + 1, section, code });
    i = end;
  }
  return snippets;
}

/** Files under `dir` (relative to the repository) whose names end with `suffix`, sorted. */
function filesUnder(dir: string, suffix: string, skip: readonly string[] = []): string[] {
  const root = join(ROOT, dir);
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .map((name) => relative(ROOT, join(root, name)))
    .filter((name) => name.endsWith(suffix) && !skip.some((prefix) => name.startsWith(prefix)))
    .sort();
}

const read = (source: string) => readFileSync(join(ROOT, source), 'utf8');
// docs/api/ is TypeDoc's output (npm run docs), not documentation written here.
const markdownSources = ['README.md', ...filesUnder('docs', '.md', ['docs/api/'])];
const snippets: Snippet[] = [
  ...markdownSources.flatMap((source) => markdownBlocks(source, read(source))),
  ...filesUnder('src', '.ts').flatMap((source) => tsdocBlocks(source, read(source))),
].map((snippet, i) => ({ ...snippet, file: `snippet-${String(i + 1).padStart(3, '0')}.ts` }));

// What must not compile: a close event has no data. If tsc ever accepted this, the run would
// not be checking the types (no types found for 'wsx', or no strict mode).
const CANARY = `import { WebSocket } from 'wsx';
new WebSocket('ws://127.0.0.1:8080/').addEventListener('close', (event) => event.data);
`;

let project: string;
/** Compiler messages by file name. */
const diagnostics = new Map<string, string[]>();
let output = '';

before(() => {
  project = mkdtempSync(join(tmpdir(), 'wsx-readme-'));
  // A user's project: ESM, with wsx and the Node types installed.
  mkdirSync(join(project, 'node_modules', '@types'), { recursive: true });
  symlinkSync(ROOT, join(project, 'node_modules', 'wsx'), 'dir');
  symlinkSync(
    join(ROOT, 'node_modules', '@types', 'node'),
    join(project, 'node_modules', '@types', 'node'),
    'dir',
  );
  writeFileSync(join(project, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['ES2022'],
        types: ['node'],
        skipLibCheck: true,
      },
      include: ['*.ts'],
    }),
  );
  // `export {}` makes every snippet a module, so that top-level await and names are its own.
  for (const snippet of snippets) writeFileSync(join(project, snippet.file), `${snippet.code}\nexport {};\n`);
  writeFileSync(join(project, 'canary.ts'), CANARY);

  const run = spawnSync(process.execPath, [TSC, '-p', project, '--pretty', 'false'], {
    cwd: project,
    encoding: 'utf8',
  });
  assert.equal(run.error, undefined, `could not run tsc: ${run.error}`);
  output = `${run.stdout}${run.stderr}`;
  // "file.ts(line,col): error TSxxxx: message", possibly followed by indented lines.
  let current: string[] | undefined;
  for (const text of output.split('\n')) {
    const match = /^([\w.-]+\.ts)\((\d+),(\d+)\): (error .*)$/.exec(text);
    if (match !== null) {
      current = diagnostics.get(match[1]) ?? [];
      diagnostics.set(match[1], current);
      current.push(`line ${match[2]}, column ${match[3]}: ${match[4]}`);
    } else if (text.startsWith(' ') && current !== undefined) {
      current.push(text);
    } else {
      current = undefined;
    }
  }
});

after(() => {
  if (project !== undefined) rmSync(project, { recursive: true, force: true });
});

describe('documentation: every TypeScript block compiles under tsc --strict against the built package', () => {
  it('has blocks to check in README.md and in the TSDoc comments', () => {
    const from = (prefix: string) => snippets.filter((snippet) => snippet.source.startsWith(prefix)).length;
    assert.ok(from('README.md') >= 4, `found ${from('README.md')} blocks in README.md`);
    assert.ok(from('src/') >= 5, `found ${from('src/')} @example blocks in src/`);
  });

  it('a canary that must not compile does not (so a failing snippet would be caught)', () => {
    const messages = diagnostics.get('canary.ts') ?? [];
    assert.ok(
      messages.some((message) => message.includes("Property 'data' does not exist")),
      `tsc did not report the canary's error; its output was:\n${output}`,
    );
  });

  for (const snippet of snippets) {
    it(`${snippet.source} line ${snippet.line} (${snippet.section})`, () => {
      const messages = diagnostics.get(snippet.file) ?? [];
      if (messages.length === 0) return;
      const numbered = snippet.code
        .split('\n')
        .map((text, i) => `${String(i + 1).padStart(3)} | ${text}`)
        .join('\n');
      assert.fail(
        `${snippet.source}: the block at line ${snippet.line} does not compile:\n${messages.join('\n')}\n\n${numbered}`,
      );
    });
  }

  it('tsc reported nothing outside the snippets and the canary', () => {
    const known = new Set([...snippets.map((snippet) => snippet.file), 'canary.ts']);
    const stray = output
      .split('\n')
      .filter((text) => /error TS/.test(text) && !known.has(text.slice(0, text.indexOf('('))));
    assert.deepEqual(stray, [], `tsc output:\n${output}`);
  });
});
