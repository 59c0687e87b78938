// Where backups live: the primary bucket in the primary region, the DR bucket in the DR region.
import { UsageError } from '../core/errors.js';
import type { Ctx } from '../core/step.js';

export interface Location {
  bucket: string;
  region: string;
  prefix: string;
  kmsKeyId?: string;
  role: 'primary' | 'dr';
}

export function primaryLocation(ctx: Pick<Ctx, 'config' | 'target'>): Location {
  const b = ctx.config.backup;
  if (!b.bucket)
    throw new UsageError('no backup bucket configured', {
      hint: 'set backup.bucket in hivectl.yaml (or HIVECTL_BACKUP_BUCKET)',
    });
  const region = ctx.target.region ?? ctx.config.aws.region;
  if (!region)
    throw new UsageError('no AWS region configured', {
      hint: 'pass --region, set AWS_REGION, or set aws.region in hivectl.yaml',
    });
  return {
    bucket: b.bucket,
    region,
    prefix: b.prefix,
    ...(b.kmsKeyId ? { kmsKeyId: b.kmsKeyId } : {}),
    role: 'primary',
  };
}

export function drLocation(ctx: Pick<Ctx, 'config' | 'target'>): Location | undefined {
  const b = ctx.config.backup;
  const region = ctx.target.drRegion ?? ctx.config.aws.drRegion;
  if (!b.drBucket || !region) return undefined;
  return {
    bucket: b.drBucket,
    region,
    prefix: b.prefix,
    ...(b.drKmsKeyId ? { kmsKeyId: b.drKmsKeyId } : {}),
    role: 'dr',
  };
}

/** The location to read a backup from: `--region` equal to the DR region reads the DR copies alone. */
export function sourceLocation(ctx: Pick<Ctx, 'config' | 'target'>, region: string | undefined): Location {
  const dr = drLocation(ctx);
  if (region && dr && region === dr.region) return dr;
  const p = primaryLocation(ctx);
  if (region && region !== p.region)
    throw new UsageError(
      `region ${region} is neither the primary (${p.region}) nor the DR region (${dr?.region ?? 'not configured'})`,
      {
        hint: 'pass --region with the primary or DR region, and set backup.drBucket + aws.drRegion for DR copies',
      },
    );
  return p;
}

export const s3url = (l: Location, key: string) => `s3://${l.bucket}/${key}`;
