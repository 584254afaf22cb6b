#!/usr/bin/env node
// `npm run docs`: the API reference, built by TypeDoc into docs/api/ from typedoc.jsonc, which
// makes every warning (an undocumented export, a broken link) fail the build.
//
// TypeDoc drives the compiler through TypeScript's JavaScript API, which TypeScript 7 (the
// compiler wsx builds with) no longer ships. TypeScript 6 is installed beside it under the name
// `typescript6`, and a resolve hook hands it to TypeDoc's own imports of `typescript` only.
import * as module from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolve } from './typedoc-typescript.mjs';

// In-thread hooks where Node has them (22.15 and later); on Node 20, a hooks thread.
if (typeof module.registerHooks === 'function') module.registerHooks({ resolve });
else module.register(new URL('./typedoc-typescript.mjs', import.meta.url));
const typedoc = dirname(module.createRequire(import.meta.url).resolve('typedoc/package.json'));
// TypeDoc's command line (its exports do not name it): reads the arguments and exits.
await import(pathToFileURL(join(typedoc, 'dist', 'cli.js')).href);
