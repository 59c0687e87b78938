// `hivectl runs list|show`: what ran, when, how it ended, from the journals (no cluster needed).
import type { Command } from 'commander';

export function register(program: Command): void {
  const runs = program.command('runs').description('list past runs and show one run from its journal');

  runs
    .command('list')
    .description('list runs, newest first (id, runbook, status, started, duration)')
    .option('--limit <n>', 'show at most this many runs', '50')
    .action(async (opts: { limit: string }, cmd: Command) => {
      const { listRunsCommand } = await import('./runs-impl.js');
      await listRunsCommand(cmd, Number(opts.limit));
    });

  runs
    .command('show')
    .description('show one run: target, inputs, every step with its status, the error and the journal path')
    .argument('<run-id>', 'run id (or a unique prefix of it)')
    .option('--records', 'print every journal record (with -o json: include them as `records`)', false)
    .action(async (runId: string, opts: { records: boolean }, cmd: Command) => {
      const { showRunCommand } = await import('./runs-impl.js');
      await showRunCommand(cmd, runId, opts.records);
    });
}
