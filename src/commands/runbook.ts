// `hivectl runbook list|show|run`: the runbook catalogue. `show` prints a runbook's steps without
// running anything; `run` runs any registered runbook (site runbooks from HIVECTL_RUNBOOK_MODULES too).
import type { Command } from 'commander';

function collect(value: string, prev: string[]): string[] {
  return [...prev, value];
}

export function register(program: Command): void {
  const rb = program.command('runbook').description('list runbooks, show their steps, run one by name');

  rb.command('list')
    .description('list every registered runbook')
    .action(async (_opts: unknown, cmd: Command) => {
      const { runbookListCommand } = await import('./runs-impl.js');
      await runbookListCommand(cmd);
    });

  rb.command('show')
    .description("print a runbook's steps in order (parallel groups, destructive flags) without running it")
    .argument('<name>', 'runbook name, see `hivectl runbook list`')
    .option(
      '-i, --input <key=value>',
      'an input to build the runbook with (repeatable; JSON values allowed)',
      collect,
      [],
    )
    .option('--inputs <file>', 'a JSON file of inputs')
    .action(async (name: string, opts: { input: string[]; inputs?: string }, cmd: Command) => {
      const { runbookShowCommand } = await import('./runs-impl.js');
      await runbookShowCommand(cmd, name, opts);
    });

  rb.command('run')
    .description('run a registered runbook by name with the given inputs')
    .argument('<name>', 'runbook name, see `hivectl runbook list`')
    .option('-i, --input <key=value>', 'an input (repeatable; JSON values allowed)', collect, [])
    .option('--inputs <file>', 'a JSON file of inputs')
    .action(async (name: string, opts: { input: string[]; inputs?: string }, cmd: Command) => {
      const { runbookRunCommand } = await import('./runs-impl.js');
      await runbookRunCommand(cmd, name, opts);
    });
}
