// Runbook: prune backups outside the retention policy, in both regions and for RDS snapshots alike.
// The plan is the retention decision (pure, src/backup/retention.ts): --dry-run lists what would go.
import { drLocation, primaryLocation } from '../backup/location.js';
import { MANIFEST_KEY } from '../backup/manifest.js';
import { applyRetention, type Decision, type HistoryEntry, type RetentionPolicy } from '../backup/retention.js';
import { listBackups } from '../backup/store.js';
import type { Ctx, Runbook, Step } from '../core/step.js';
import { rdsKind, TAG_BACKUP_ID } from '../steps/aws/rds-snapshot.js';
import { type RunbookDefinition, registerRunbook } from './index.js';

async function history(ctx: Ctx): Promise<HistoryEntry[]> {
  const loc = primaryLocation(ctx);
  const s3 = await ctx.adapters.s3(loc.region);
  const backups = await listBackups(s3, loc);
  const out: HistoryEntry[] = [];
  for (const b of backups) {
    const lockKey = b.keys.includes(`${loc.prefix}${b.id}/${MANIFEST_KEY}`)
      ? `${loc.prefix}${b.id}/${MANIFEST_KEY}`
      : b.keys[0];
    const retainUntil = lockKey ? await s3.retainUntil(loc.bucket, lockKey) : undefined;
    out.push({
      id: b.id,
      time: b.time,
      complete: Boolean(b.manifest),
      verified: Boolean(b.verified?.ok),
      ...(retainUntil ? { retainUntil } : {}),
    });
  }
  return out;
}

function pruneStep(policy: RetentionPolicy): Step<{ decisions: Decision[] }, { deleted: string[] }> {
  return {
    id: 'prune',
    title: 'Delete backups outside the retention policy',
    destructive: true,
    async plan(ctx) {
      const decisions = applyRetention(await history(ctx), policy, new Date());
      const del = decisions.filter((d) => !d.keep);
      return {
        summary: `${del.length} of ${decisions.length} backup(s) to delete`,
        changes: decisions.map((d) => ({
          action: d.keep ? ('none' as const) : ('delete' as const),
          target: `backup ${d.id}`,
          detail: d.reasons.join(', '),
        })),
        payload: { decisions },
        ...(del.length === 0 ? { noop: true } : {}),
      };
    },
    async apply(ctx, p) {
      const ids = p.decisions.filter((d) => !d.keep).map((d) => d.id);
      const loc = primaryLocation(ctx);
      const dr = drLocation(ctx);
      const kind = ctx.config.database.kind;
      for (const id of ids) {
        // Manifest first: a half-pruned backup must look incomplete, never usable.
        for (const l of dr ? [loc, dr] : [loc]) {
          const s3 = await ctx.adapters.s3(l.region);
          const { objects } = await s3.list(l.bucket, `${l.prefix}${id}/`);
          const keys = objects.map((o) => o.key);
          const mk = `${l.prefix}${id}/${MANIFEST_KEY}`;
          if (keys.includes(mk)) await s3.deleteKeys(l.bucket, [mk]);
          await s3.deleteKeys(
            l.bucket,
            keys.filter((k) => k !== mk),
          );
        }
        if (kind !== 'postgres') {
          for (const region of dr ? [loc.region, dr.region] : [loc.region]) {
            const rds = await ctx.adapters.rds(region);
            for (const s of await rds.listSnapshotsTagged(rdsKind(ctx), TAG_BACKUP_ID))
              if (s.tags[TAG_BACKUP_ID] === id) await rds.deleteSnapshot(rdsKind(ctx), s.id);
          }
        }
      }
      return { deleted: ids };
    },
  };
}

export function backupPruneRunbook(policy: RetentionPolicy): Runbook {
  return {
    name: 'backup-prune',
    title: 'Prune backups',
    inputs: { ...policy },
    mutating: true,
    lock: false,
    items: [pruneStep(policy)],
  };
}

export const runbook: RunbookDefinition = {
  name: 'backup-prune',
  title: 'Prune backups by retention policy (both regions, RDS snapshots)',
  description: 'keep-last/daily/weekly/monthly; never the newest verified backup; Object Lock respected',
  build: (inputs) => backupPruneRunbook(inputs as RetentionPolicy),
  example: { keepLast: 7, keepDaily: 7, keepWeekly: 4, keepMonthly: 12 },
};

registerRunbook(runbook);
