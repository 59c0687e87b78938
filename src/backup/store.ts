// Reading the backup history from a bucket: complete backups (with a manifest), incomplete ones, and
// their verification records. Used by list, describe, verify, prune, status and restore.
import type { S3 } from '../adapters/s3.js';
import { StepError } from '../core/errors.js';
import type { Ctx } from '../core/step.js';
import { backupIdTime, isBackupId } from './ids.js';
import type { Location } from './location.js';
import { type BackupManifest, MANIFEST_KEY, parseManifest, VERIFIED_KEY, type VerifyRecord } from './manifest.js';

export interface StoredBackup {
  id: string;
  time: Date;
  manifest?: BackupManifest;
  verified?: VerifyRecord;
  keys: string[];
  size: number;
}

export async function readManifest(s3: S3, loc: Location, id: string): Promise<BackupManifest> {
  const key = `${loc.prefix}${id}/${MANIFEST_KEY}`;
  const text = await s3.getText(loc.bucket, key);
  if (text === undefined)
    throw new StepError(`backup ${id} not found (or incomplete: no manifest) in s3://${loc.bucket}/${loc.prefix}`, {
      hint: 'run `hivectl backup list` for the usable backups',
    });
  return parseManifest(text, `s3://${loc.bucket}/${key}`);
}

// Per run (keyed on the run's results map, which verify/rollback contexts share): a restore's steps each
// need the manifest, and it never changes once written (it is written last; a backup is not rewritten).
const perRun = new WeakMap<object, Map<string, Promise<BackupManifest>>>();

function runCache(ctx: Pick<Ctx, 'results'>): Map<string, Promise<BackupManifest>> {
  let cache = perRun.get(ctx.results);
  if (!cache) {
    cache = new Map();
    perRun.set(ctx.results, cache);
  }
  return cache;
}

const cacheKey = (loc: Location, id: string) => `${loc.region}|${loc.bucket}|${loc.prefix}${id}`;

/** The run that wrote a manifest keeps it: its later steps (the DR copy) need not read it back. */
export function rememberManifest(ctx: Pick<Ctx, 'results'>, loc: Location, id: string, text: string): void {
  runCache(ctx).set(
    cacheKey(loc, id),
    Promise.resolve(parseManifest(text, `s3://${loc.bucket}/${loc.prefix}${id}/${MANIFEST_KEY}`)),
  );
}

/** readManifest once per run; a failed read is not remembered. The manifest is shared: do not mutate it. */
export function runManifest(
  ctx: Pick<Ctx, 'results' | 'adapters'>,
  loc: Location,
  id: string,
): Promise<BackupManifest> {
  const cache = runCache(ctx);
  const k = cacheKey(loc, id);
  let p = cache.get(k);
  if (!p) {
    const c = cache;
    p = ctx.adapters.s3(loc.region).then((s3) => readManifest(s3, loc, id));
    p.catch(() => c.delete(k));
    cache.set(k, p);
  }
  return p;
}

export async function readVerify(s3: S3, loc: Location, id: string): Promise<VerifyRecord | undefined> {
  const t = await s3.getText(loc.bucket, `${loc.prefix}${id}/${VERIFIED_KEY}`);
  if (!t) return undefined;
  try {
    return JSON.parse(t) as VerifyRecord;
  } catch {
    return undefined;
  }
}

/** Every backup folder under the prefix, newest first; manifests read for the complete ones. */
export async function listBackups(s3: S3, loc: Location): Promise<StoredBackup[]> {
  const { objects } = await s3.list(loc.bucket, loc.prefix);
  const byId = new Map<string, { keys: string[]; size: number }>();
  for (const o of objects) {
    const rest = o.key.slice(loc.prefix.length);
    const id = rest.split('/')[0] ?? '';
    if (!isBackupId(id)) continue;
    const e = byId.get(id) ?? { keys: [], size: 0 };
    e.keys.push(o.key);
    e.size += o.size;
    byId.set(id, e);
  }
  const out: StoredBackup[] = [];
  await Promise.all(
    [...byId].map(async ([id, e]) => {
      const hasManifest = e.keys.includes(`${loc.prefix}${id}/${MANIFEST_KEY}`);
      const b: StoredBackup = { id, time: backupIdTime(id), keys: e.keys, size: e.size };
      if (hasManifest) {
        try {
          b.manifest = await readManifest(s3, loc, id);
        } catch {
          /* unreadable manifest: treated as incomplete */
        }
        const v = await readVerify(s3, loc, id);
        if (v) b.verified = v;
      }
      out.push(b);
    }),
  );
  return out.sort((a, b) => (a.id < b.id ? 1 : -1));
}
