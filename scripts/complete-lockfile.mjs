#!/usr/bin/env node
// npm 11's `npm ci` wants package-lock.json to name every optional platform package of every
// dependency (Biome ships one per OS and CPU). The registry reachable here lacks some of them
// (the Android builds), so `npm install` leaves them out and `npm ci` then refuses the lock.
// This adds the missing ones as optional entries restricted to their OS and CPU: `npm ci`
// never fetches them on another platform. Run it after changing dependencies.
import { readFileSync, writeFileSync } from 'node:fs';

const lockPath = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
let added = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    const platform = /-(linux|darwin|win32|android|freebsd)-(x64|arm64|arm|ia32)/.exec(name);
    if (lock.packages[key] || !platform) continue;
    lock.packages[key] = { version, dev: entry.dev, optional: true, os: [platform[1]], cpu: [platform[2]] };
    if (name.endsWith('-musl')) lock.packages[key].libc = ['musl'];
    added++;
    console.log(`added ${key}@${version} (for ${path})`);
  }
}
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`${added} platform entries added`);
