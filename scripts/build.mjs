// Bundles src/cli.ts into dist/ with code splitting: every SDK that a command loads with a
// dynamic import() lands in its own chunk, so `hivectl --help` never pays for it.

import { readFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { cli: 'src/cli.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  sourcemap: 'linked',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  define: {
    __HIVECTL_VERSION__: JSON.stringify(
      JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version,
    ),
  },
  logLevel: 'warning',
  // CJS dependencies inside an ESM bundle still call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __hivectlCR } from 'node:module'; const require = __hivectlCR(import.meta.url);",
  },
});
