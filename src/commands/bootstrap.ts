// `hivectl bootstrap [--env E] [--render|--diff]`, `bootstrap history`, `bootstrap rollback [--to REV]`.
// Light at top level: the work is in src/runbooks/bootstrap-cli.ts, imported inside the actions.
import { type Command, Option } from 'commander';

export function register(program: Command): void {
  const bootstrap = program
    .command('bootstrap')
    .description('install or update the Agent Hive stack: server-side apply, rollout wait, prune, revision')
    .addOption(
      new Option('--env <env>', 'environment values to use (default: platform.env)').choices([
        'dev',
        'staging',
        'prod',
      ]),
    )
    .option('--render', 'print the rendered manifests (-o yaml|json) and touch no cluster', false)
    .option('--diff', 'print a per-object diff against the cluster and change nothing', false)
    .option('--exit-code', 'with --diff: exit 3 when there are changes (like kubectl diff)', false)
    .option('--force-conflicts', 'take over fields another field manager owns', false)
    .option('--secret-file <file>', 'application secret values (KEY=VALUE lines or JSON); HIVECTL_SECRET_<KEY> too')
    .option('--no-prune', 'keep objects that are no longer rendered')
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      const m = await import('../runbooks/bootstrap-cli.js');
      await m.bootstrapCommand(cmd, opts);
    });
  bootstrap
    .command('history')
    .description('recorded revisions of the stack: number, time, environment, changes, status')
    .action(async (_o: unknown, cmd: Command) => {
      const m = await import('../runbooks/bootstrap-cli.js');
      await m.bootstrapHistory(cmd);
    });
  bootstrap
    .command('rollback')
    .description('apply a recorded revision again (default: the one before the current), wait, prune')
    .option('--to <rev>', 'revision number (see `hivectl bootstrap history`)')
    .option('--force-conflicts', 'take over fields another field manager owns', false)
    .action(async (opts: { to?: string; forceConflicts: boolean }, cmd: Command) => {
      const m = await import('../runbooks/bootstrap-cli.js');
      await m.bootstrapRollback(cmd, opts);
    });
}
