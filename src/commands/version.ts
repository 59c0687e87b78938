import type { Command } from 'commander';
import { VERSION } from '../core/version.js';

export function register(program: Command): void {
  program
    .command('version')
    .description('print the hivectl version, Node version and platform')
    .action(() => {
      const out = { version: VERSION, node: process.versions.node, platform: `${process.platform}-${process.arch}` };
      const format = program.opts().output as string;
      if (format === 'json') process.stdout.write(`${JSON.stringify(out)}\n`);
      // Flat string values: YAML by hand, so `version` loads nothing beyond the CLI itself.
      else if (format === 'yaml')
        process.stdout.write(
          Object.entries(out)
            .map(([k, v]) => `${k}: ${JSON.stringify(v)}\n`)
            .join(''),
        );
      else process.stdout.write(`hivectl ${out.version} (node ${out.node}, ${out.platform})\n`);
    });
}
