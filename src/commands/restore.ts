// `hivectl restore ID`: verified pre-flight, quiesce, database, cluster objects, workspaces, unquiesce,
// verify; reports the measured RTO and RPO. `--region <dr-region>` restores from the DR copies alone.
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('restore')
    .description('restore a backup (plan lists what is overwritten; checksums verified before any change)')
    .argument('<id>', 'backup id (`hivectl backup list`)')
    .option('--components <list>', 'comma-separated: db, workspaces, k8s (default: all in the backup)')
    .option('--target-db <url>', 'PostgreSQL URL to restore into (default: database.url)')
    .option('--new-instance <name>', 'RDS: restore into a new DB instance of this name')
    .option('--to-time <time>', 'RDS: restore the source instance to this point in time (ISO 8601)')
    .option('--force', 'overwrite a non-empty target database', false)
    .option('--jobs <n>', 'PostgreSQL: pg_restore parallel jobs (default: min(4, CPU cores))')
    .option('--work-dir <dir>', "PostgreSQL: directory for the dump's temp file (default: the OS temp dir)")
    .option('--stream', 'PostgreSQL: pipe the dump from S3 into pg_restore (no disk needed, single-threaded)', false)
    .action(async (id: string, opts: Record<string, unknown>, cmd: Command) => {
      const m = await import('../backup/commands.js');
      await m.restoreCommand(cmd, id, opts);
    });
}
