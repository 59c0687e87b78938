// `hivectl backup create|list|describe|verify|prune|status`. Light at top level: everything heavy is
// imported inside the actions (src/backup/commands.ts).
import type { Command } from 'commander';

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command): void {
  const backup = program
    .command('backup')
    .description('back up the database, agent workspaces and cluster state; list, verify, prune');
  backup
    .command('create')
    .description('write one backup (manifest last), then copy it to the DR bucket and verify it there')
    .option('--components <list>', 'comma-separated: db, workspaces, k8s (default: all)')
    .option('--tag <k=v>', 'tag the backup (repeatable)', collect, [])
    .action(async (opts: { components?: string; tag: string[] }, cmd: Command) => {
      const m = await import('../backup/commands.js');
      await m.backupCreate(cmd, opts);
    });
  backup
    .command('list')
    .description('usable backups (with a manifest): id, age, size, components, regions, verified')
    .option('--all', 'also show incomplete backups (no manifest)', false)
    .action(async (opts: { all: boolean }, cmd: Command) => {
      const m = await import('../backup/commands.js');
      await m.backupList(cmd, opts);
    });
  backup
    .command('describe')
    .description("a backup's manifest: objects, sizes, checksums, database tables, RPO reference")
    .argument('<id>', 'backup id')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const m = await import('../backup/commands.js');
      await m.backupDescribe(cmd, id);
    });
  backup
    .command('verify')
    .description('read every object in both regions and check it against the manifest (exit 3 on mismatch)')
    .argument('<id>', 'backup id')
    .option('--deep', 'also restore the dump into a scratch database and compare row counts and checksums', false)
    .action(async (id: string, opts: { deep: boolean }, cmd: Command) => {
      const m = await import('../backup/commands.js');
      await m.backupVerify(cmd, id, opts);
    });
  backup
    .command('prune')
    .description(
      'delete backups outside the retention policy (S3 in both regions, RDS snapshots); --dry-run lists them',
    )
    .option('--keep-last <n>', 'keep the N newest backups')
    .option('--keep-daily <n>', 'keep the newest backup of each of the last N days')
    .option('--keep-weekly <n>', 'keep the newest backup of each of the last N ISO weeks')
    .option('--keep-monthly <n>', 'keep the newest backup of each of the last N months')
    .action(async (opts: Record<string, string | undefined>, cmd: Command) => {
      const m = await import('../backup/commands.js');
      await m.backupPrune(cmd, opts);
    });
  backup
    .command('status')
    .description("newest usable backup's age against the RPO SLO (exit 3 when older); RDS latest restorable time")
    .action(async (_o: unknown, cmd: Command) => {
      const m = await import('../backup/commands.js');
      await m.backupStatus(cmd);
    });
}
