// Step: the backup buckets (primary + DR region) with versioning, default encryption, a public access
// block, lifecycle rules and replication primary -> DR. Skipped, with a plan line, when no bucket is set.
import type { BucketSetting, BucketSpec } from '../../adapters/s3-buckets.js';
import { UsageError } from '../../core/errors.js';
import type { Change, Ctx, Step } from '../../core/step.js';

export interface BucketsPayload {
  buckets: { spec: BucketSpec; settings: BucketSetting[] }[];
}

function specs(ctx: Ctx): BucketSpec[] {
  const b = ctx.config.backup;
  if (!b.bucket) return [];
  const region = ctx.target.region ?? ctx.config.aws.region;
  if (!region)
    throw new UsageError('backup.bucket is set but no AWS region is configured', {
      hint: 'pass --region or set aws.region in hivectl.yaml',
    });
  const out: BucketSpec[] = [];
  const drRegion = ctx.target.drRegion ?? ctx.config.aws.drRegion;
  if (b.drBucket) {
    if (!drRegion)
      throw new UsageError('backup.drBucket is set but no DR region is configured', {
        hint: 'pass --dr-region or set aws.drRegion in hivectl.yaml',
      });
    // The DR bucket first: replication needs its destination to exist (and be versioned).
    out.push({ bucket: b.drBucket, region: drRegion, kmsKeyId: b.drKmsKeyId, noncurrentDays: 30 });
  }
  out.push({
    bucket: b.bucket,
    region,
    kmsKeyId: b.kmsKeyId,
    noncurrentDays: 30,
    ...(b.drBucket && drRegion ? { replicateTo: { bucket: b.drBucket, region: drRegion } } : {}),
  });
  return out;
}

async function client(ctx: Ctx) {
  const { connectS3Buckets } = await import('../../adapters/s3-buckets.js');
  return connectS3Buckets({
    region: ctx.target.region,
    endpointUrl: ctx.target.endpointUrl,
    profile: ctx.target.profile,
  });
}

export function backupBucketsStep(): Step<BucketsPayload, { configured: string[] }> {
  return {
    id: 'backup-buckets',
    title: 'Backup buckets: versioning, encryption, public access block, lifecycle, replication',
    async plan(ctx) {
      const list = specs(ctx);
      if (list.length === 0) {
        return {
          summary: 'skipped: no backup bucket configured',
          changes: [{ action: 'skip', target: 's3 backup bucket', detail: 'backup.bucket is not set in hivectl.yaml' }],
          payload: { buckets: [] },
          noop: true,
        };
      }
      const s3 = await client(ctx);
      const buckets = await Promise.all(
        list.map(async (spec) => ({ spec, settings: s3.diff(spec, await s3.inspect(spec)) })),
      );
      const changes: Change[] = buckets.flatMap((b) =>
        b.settings.map((s) => ({
          action: s === 'create' ? ('create' as const) : ('update' as const),
          target: `s3://${b.spec.bucket} (${b.spec.region})`,
          detail: s === 'replication' ? `replication to s3://${b.spec.replicateTo?.bucket}` : s,
        })),
      );
      return {
        summary: changes.length ? `${changes.length} bucket setting(s) to apply` : 'backup buckets are configured',
        changes,
        payload: { buckets },
        noop: changes.length === 0,
      };
    },
    async apply(ctx, payload) {
      const s3 = await client(ctx);
      for (const b of payload.buckets) await s3.ensure(b.spec, b.settings);
      return { configured: payload.buckets.map((b) => b.spec.bucket) };
    },
  };
}
