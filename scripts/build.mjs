// Bundles src/cli.ts into dist/ with code splitting: every SDK that a command loads with a
// dynamic import() lands in its own chunk, so `hivectl --help` never pays for it.
// Builds into a temporary folder and swaps it in, so a CLI process running from dist/ never sees
// a half-written bundle.

import { readFileSync, renameSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const tmp = `${root}dist.tmp-${process.pid}`;
const old = `${root}dist.old-${process.pid}`;
const version = JSON.parse(readFileSync(`${root}package.json`, 'utf8')).version;

await build({
  entryPoints: { cli: `${root}src/cli.ts` },
  outdir: tmp,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  sourcemap: 'linked',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
  define: { __HIVECTL_VERSION__: JSON.stringify(version) },
  // CJS dependencies inside an ESM bundle still call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __hivectlCR } from 'node:module'; const require = __hivectlCR(import.meta.url);",
  },
});
try {
  renameSync(`${root}dist`, old);
} catch {
  /* first build */
}
renameSync(tmp, `${root}dist`);
rmSync(old, { recursive: true, force: true });
