// RDS / Aurora: a manual snapshot tagged with the backup id, waited on (SDK waiter, abortable), then
// copied to the DR region (SourceRegion presigning by the SDK; the DR KMS key when configured).
import { drLocation } from '../../backup/location.js';
import { StepError } from '../../core/errors.js';
import type { Ctx, Step } from '../../core/step.js';

export interface RdsSnapshotResult {
  kind: 'rds' | 'aurora';
  sourceId: string;
  snapshotId: string;
  snapshotArn: string;
  region: string;
  snapshotTime: string;
}

export interface RdsCopyResult {
  snapshotId: string;
  snapshotArn: string;
  region: string;
}

export const TAG_BACKUP_ID = 'hivectl.dev/backup-id';

export function rdsKind(ctx: Ctx): 'rds' | 'aurora' {
  return ctx.config.database.kind === 'aurora' ? 'aurora' : 'rds';
}

function sourceId(ctx: Ctx): string {
  const kind = rdsKind(ctx);
  const id = kind === 'aurora' ? ctx.config.database.clusterId : ctx.config.database.instanceId;
  if (!id)
    throw new StepError(
      `database.kind is ${ctx.config.database.kind} but database.${kind === 'aurora' ? 'clusterId' : 'instanceId'} is not set`,
      {
        hint: 'set it in hivectl.yaml',
      },
    );
  return id;
}

export const snapshotName = (backupId: string) => `hivectl-${backupId.toLowerCase()}`;
const waitS = (ctx: Ctx) => Math.max(60, Math.round(ctx.mode.timeoutMs / 1000));

export function rdsSnapshotStep(o: {
  backupId: string;
}): Step<{ sourceId: string; snapshotId: string }, RdsSnapshotResult> {
  return {
    id: 'rds-snapshot',
    title: 'Snapshot the RDS database',
    async plan(ctx) {
      const src = sourceId(ctx);
      const snapshotId = snapshotName(o.backupId);
      return {
        summary: `${rdsKind(ctx) === 'aurora' ? 'CreateDBClusterSnapshot' : 'CreateDBSnapshot'} ${src} -> ${snapshotId}`,
        changes: [
          {
            action: 'create',
            target: `rds snapshot ${snapshotId}`,
            detail: `of ${src}, tagged ${TAG_BACKUP_ID}=${o.backupId}`,
          },
        ],
        payload: { sourceId: src, snapshotId },
      };
    },
    async apply(ctx, p) {
      const rds = await ctx.adapters.rds();
      const kind = rdsKind(ctx);
      const s = await rds.createSnapshot(kind, p.sourceId, p.snapshotId, { [TAG_BACKUP_ID]: o.backupId });
      await rds.waitSnapshot(kind, p.snapshotId, ctx.signal, waitS(ctx));
      const done = (await rds.describeSnapshot(kind, p.snapshotId)) ?? s;
      return {
        kind,
        sourceId: p.sourceId,
        snapshotId: p.snapshotId,
        snapshotArn: done.arn,
        region: rds.region,
        snapshotTime: done.createdAt ?? new Date().toISOString(),
      };
    },
    async verify(ctx, r) {
      const rds = await ctx.adapters.rds();
      await rds.waitSnapshot(r.kind, r.snapshotId, ctx.signal, waitS(ctx));
    },
    async rollback(ctx, r) {
      await (await ctx.adapters.rds()).deleteSnapshot(r.kind, r.snapshotId);
    },
  };
}

export function rdsCopyDrStep(o: { backupId: string }): Step<{ region: string; snapshotId: string }, RdsCopyResult> {
  return {
    id: 'rds-copy-dr',
    title: 'Copy the snapshot to the DR region',
    async plan(ctx) {
      const dr = drLocation(ctx);
      const region = ctx.target.drRegion ?? ctx.config.aws.drRegion;
      if (!region)
        return { summary: 'no DR region configured', changes: [], payload: { region: '', snapshotId: '' }, noop: true };
      const snapshotId = snapshotName(o.backupId);
      return {
        summary: `CopyDBSnapshot -> ${region}/${snapshotId}${ctx.config.backup.drKmsKeyId ? ' (DR KMS key)' : ''}`,
        changes: [
          {
            action: 'create',
            target: `rds snapshot ${region}/${snapshotId}`,
            detail: `copy of ${snapshotId}${dr ? '' : ''}`,
          },
        ],
        payload: { region, snapshotId },
      };
    },
    async apply(ctx, p) {
      const snap = ctx.results.get('rds-snapshot') as RdsSnapshotResult | undefined;
      if (!snap) throw new StepError('no snapshot to copy (rds-snapshot did not run)');
      const rds = await ctx.adapters.rds(p.region);
      const kind = rdsKind(ctx);
      const c = await rds.copySnapshotFrom(
        kind,
        snap.snapshotArn,
        snap.region,
        p.snapshotId,
        { [TAG_BACKUP_ID]: o.backupId },
        ctx.config.backup.drKmsKeyId,
      );
      await rds.waitSnapshot(kind, p.snapshotId, ctx.signal, waitS(ctx));
      return { snapshotId: p.snapshotId, snapshotArn: c.arn, region: p.region };
    },
    async verify(ctx, r) {
      await (await ctx.adapters.rds(r.region)).waitSnapshot(rdsKind(ctx), r.snapshotId, ctx.signal, waitS(ctx));
    },
    async rollback(ctx, r) {
      await (await ctx.adapters.rds(r.region)).deleteSnapshot(rdsKind(ctx), r.snapshotId);
    },
  };
}
