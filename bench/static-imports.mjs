// What `hivectl` loads before any command runs: follows the static imports of dist/cli.js through
// the bundle's chunks and lists the npm packages they contain (from the source maps). Heavy
// packages (SDKs, zod, yaml, listr2, execa) must only load in chunks that actions import().
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const dist = new URL('../dist/', import.meta.url).pathname;
const HEAVY = ['@kubernetes/client-node', '@aws-sdk/', '@smithy/', 'zod', 'yaml', 'listr2', 'execa', 'chalk'];
const seen = new Set();
const queue = ['cli.js'];
let bytes = 0;
const packages = new Set();
while (queue.length > 0) {
  const f = queue.shift();
  if (seen.has(f)) continue;
  seen.add(f);
  const path = join(dist, f);
  const code = readFileSync(path, 'utf8');
  bytes += statSync(path).size;
  // Static imports only: `import"./x.js"`, `from"./x.js"` (dynamic ones are `import("./x.js")`).
  for (const m of code.matchAll(/(?:\bfrom\s*|\bimport\s*)["'](\.\/[^"']+)["']/g)) queue.push(m[1].slice(2));
  if (existsSync(`${path}.map`)) {
    const map = JSON.parse(readFileSync(`${path}.map`, 'utf8'));
    for (const s of map.sources ?? []) {
      const i = s.lastIndexOf('node_modules/');
      if (i < 0) continue;
      const rest = s.slice(i + 'node_modules/'.length).split('/');
      packages.add(rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]);
    }
  }
}
const heavy = [...packages].filter((p) => HEAVY.some((h) => (h.endsWith('/') ? p.startsWith(h) : p === h)));
console.log(
  `static load: ${seen.size} file(s), ${(bytes / 1024).toFixed(0)} KiB; packages: ${[...packages].sort().join(', ') || '(none)'}`,
);
if (heavy.length > 0) console.log(`WARNING: heavy packages loaded at start-up: ${heavy.join(', ')}`);
