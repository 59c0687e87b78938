// `hivectl resume RUN_ID`: re-verify the steps a run completed, then continue from the failed or
// interrupted one with the same inputs and target.
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('resume')
    .description('continue a failed or interrupted run from its journal (completed steps are re-verified)')
    .argument('<run-id>', 'run id (or a unique prefix of it), see `hivectl runs list`')
    .option('--from-step <id>', 'start from this step instead of the first one that did not complete')
    .action(async (runId: string, opts: { fromStep?: string }, cmd: Command) => {
      const { resumeCommand } = await import('./runs-impl.js');
      await resumeCommand(cmd, runId, opts.fromStep);
    });
}
