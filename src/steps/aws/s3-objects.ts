// The backup's objects as a whole: the manifest (written last), the server-side copy to the DR bucket
// verified there, and the integrity check of every object against the manifest (verify, and restore's
// pre-flight before anything destructive).
import type { S3 } from '../../adapters/s3.js';
import { HashSink } from '../../backup/checksum.js';
import type { K8sStateResult } from '../../backup/cluster-state-steps.js';
import { drLocation, type Location, primaryLocation, s3url } from '../../backup/location.js';
import {
  type BackupManifest,
  type Component,
  MANIFEST_FORMAT,
  MANIFEST_KEY,
  type ManifestObject,
  VERIFIED_KEY,
  type VerifyRecord,
} from '../../backup/manifest.js';
import { rememberManifest, runManifest } from '../../backup/store.js';
import { checkTarStream } from '../../backup/tar-safety.js';
import { StepError } from '../../core/errors.js';
import type { Ctx, Step } from '../../core/step.js';
import { VERSION } from '../../core/version.js';
import type { WorkspaceBackupResult } from '../exec/workspace-backup.js';
import type { DumpResult } from '../pg/dump-to-s3.js';
import type { RdsCopyResult, RdsSnapshotResult } from './rds-snapshot.js';

export interface CreateInputs {
  backupId: string;
  startedAt: string;
  components: Component[];
  tags: Record<string, string>;
}

/** Builds the manifest from the capture steps' results (ctx.results: journalled, so resume works too). */
export function buildManifest(ctx: Ctx, o: CreateInputs): BackupManifest {
  const loc = primaryLocation(ctx);
  const dump = ctx.results.get('db-dump') as DumpResult | undefined;
  const ws = ctx.results.get('workspaces') as WorkspaceBackupResult | undefined;
  const st = ctx.results.get('k8s-state') as K8sStateResult | undefined;
  const snap = ctx.results.get('rds-snapshot') as RdsSnapshotResult | undefined;
  const copy = ctx.results.get('rds-copy-dr') as RdsCopyResult | undefined;
  const objects: ManifestObject[] = [];
  const m: BackupManifest = {
    format: MANIFEST_FORMAT,
    id: o.backupId,
    startedAt: o.startedAt,
    completedAt: new Date().toISOString(),
    rpoReference: dump?.rpoReference ?? snap?.snapshotTime ?? o.startedAt,
    components: o.components,
    tags: o.tags,
    source: {
      ...(ctx.target.context ? { context: ctx.target.context } : {}),
      ...(loc.region ? { region: loc.region } : {}),
      bucket: loc.bucket,
      prefix: loc.prefix,
      namespaces: [ctx.config.platform.namespaces.api, ctx.config.platform.namespaces.agents],
      hivectlVersion: VERSION,
    },
    objects,
  };
  if (dump) {
    objects.push({ key: 'db.dump', component: 'db', size: dump.size, sha256: dump.sha256 });
    m.database = {
      kind: 'postgres',
      key: 'db.dump',
      database: dump.database,
      serverVersion: dump.serverVersion,
      compression: dump.compression,
      tables: dump.tables,
    };
  }
  if (snap) {
    m.database = {
      kind: snap.kind,
      sourceId: snap.sourceId,
      snapshotId: snap.snapshotId,
      snapshotArn: snap.snapshotArn,
      region: snap.region,
      snapshotTime: snap.snapshotTime,
      ...(copy ? { drSnapshotId: copy.snapshotId, drSnapshotArn: copy.snapshotArn, drRegion: copy.region } : {}),
    };
  }
  if (ws) {
    m.workspaces = ws.workspaces.map(({ namespace, pod, key, dir }) => ({ namespace, pod, key, dir }));
    for (const w of ws.workspaces)
      objects.push({ key: w.key, component: 'workspaces', size: w.size, sha256: w.sha256 });
  }
  if (st && !st.key) {
    // Journalled by an older hivectl (resume): one object per file, as manifest format 1 lists them.
    const old = st.objects as unknown as (ManifestObject & { kind: string; namespace: string; name: string })[];
    m.k8s = {
      secrets: st.secrets,
      ...(st.keyParams ? { keyParams: st.keyParams } : {}),
      objects: old.map(({ kind, namespace, name, key }) => ({ kind, namespace, name, key })),
    };
    for (const x of old) objects.push({ key: x.key, component: 'k8s', size: x.size, sha256: x.sha256 });
  } else if (st) {
    m.k8s = {
      secrets: st.secrets,
      ...(st.keyParams ? { keyParams: st.keyParams } : {}),
      key: st.key,
      objects: st.objects.map(({ kind, namespace, name }) => ({ kind, namespace, name })),
    };
    objects.push({ key: st.key, component: 'k8s', size: st.size, sha256: st.sha256 });
  }
  const dr = drLocation(ctx);
  if (dr) m.dr = { bucket: dr.bucket, region: dr.region };
  return m;
}

export function writeManifestStep(
  o: CreateInputs,
): Step<{ key: string }, { key: string; objects: number; rpoReference: string }> {
  return {
    id: 'manifest',
    title: 'Write the manifest (marks the backup complete)',
    async plan(ctx) {
      const loc = primaryLocation(ctx);
      const key = `${loc.prefix}${o.backupId}/${MANIFEST_KEY}`;
      return {
        summary: s3url(loc, key),
        changes: [{ action: 'create', target: s3url(loc, key), detail: 'sizes and SHA-256 of every object' }],
        payload: { key },
      };
    },
    async apply(ctx, p) {
      const loc = primaryLocation(ctx);
      const m = buildManifest(ctx, o);
      const s3 = await ctx.adapters.s3();
      const text = JSON.stringify(m, null, 2);
      await s3.putBytes(loc.bucket, p.key, text, {
        contentType: 'application/json',
        ...(loc.kmsKeyId ? { kmsKeyId: loc.kmsKeyId } : {}),
      });
      rememberManifest(ctx, loc, o.backupId, text);
      return { key: p.key, objects: m.objects.length, rpoReference: m.rpoReference };
    },
    async rollback(ctx, r) {
      // A failed run must not leave a backup that looks complete.
      await (await ctx.adapters.s3()).deleteKeys(primaryLocation(ctx).bucket, [r.key]);
    },
  };
}

export interface Mismatch {
  key: string;
  problem: string;
}

/** Read every object (of the given components) and compare size + SHA-256; tars are also safety-checked. */
export async function verifyObjects(
  s3: S3,
  loc: Location,
  m: BackupManifest,
  opts: { components?: Component[]; signal?: AbortSignal; tarSafety?: boolean } = {},
): Promise<Mismatch[]> {
  const out: Mismatch[] = [];
  const objs = m.objects.filter((x) => !opts.components || opts.components.includes(x.component));
  for (const x of objs) {
    const key = `${loc.prefix}${m.id}/${x.key}`;
    let body: import('node:stream').Readable;
    try {
      body = await s3.getStream(loc.bucket, key, opts.signal);
    } catch (e) {
      out.push({ key: x.key, problem: `unreadable: ${(e as Error).message}` });
      continue;
    }
    const sink = new HashSink();
    const { PassThrough } = await import('node:stream');
    const { pipeline } = await import('node:stream/promises');
    const checkTar = opts.tarSafety && x.component === 'workspaces';
    const tee = checkTar ? new PassThrough() : undefined;
    const tarCheck = tee ? checkTarStream(tee) : undefined;
    if (tee) body.on('data', (c: Buffer) => tee.write(c)).on('end', () => tee.end());
    await pipeline(body, sink);
    if (sink.bytes !== x.size) out.push({ key: x.key, problem: `size ${sink.bytes}, manifest says ${x.size}` });
    else if (sink.sha256() !== x.sha256)
      out.push({ key: x.key, problem: `sha256 ${sink.sha256()}, manifest says ${x.sha256}` });
    if (tarCheck) {
      try {
        const r = await tarCheck;
        if (r.problem) out.push({ key: x.key, problem: `unsafe tar entry "${r.problem.entry}": ${r.problem.reason}` });
      } catch (e) {
        out.push({ key: x.key, problem: `not a readable tar: ${(e as Error).message}` });
      }
    }
  }
  return out;
}

export async function writeVerifyRecord(s3: S3, loc: Location, id: string, rec: VerifyRecord): Promise<void> {
  await s3.putBytes(loc.bucket, `${loc.prefix}${id}/${VERIFIED_KEY}`, JSON.stringify(rec, null, 2), {
    contentType: 'application/json',
  });
}

export function copyToDrStep(o: {
  backupId: string;
}): Step<{ bucket: string; region: string }, { copied: number; region: string; bucket: string }> {
  return {
    id: 'copy-dr',
    title: 'Copy every object to the DR bucket (server-side) and verify there',
    async plan(ctx) {
      const dr = drLocation(ctx);
      if (!dr)
        return {
          summary: 'no DR bucket configured (backup.drBucket, aws.drRegion)',
          changes: [],
          payload: { bucket: '', region: '' },
          noop: true,
        };
      return {
        summary: `s3://${dr.bucket}/${dr.prefix}${o.backupId}/ in ${dr.region}`,
        changes: [
          {
            action: 'create',
            target: s3url(dr, `${dr.prefix}${o.backupId}/`),
            detail: 'CopyObject of every object, manifest last',
          },
        ],
        payload: { bucket: dr.bucket, region: dr.region },
      };
    },
    async apply(ctx) {
      const src = primaryLocation(ctx);
      const dr = drLocation(ctx)!;
      const m = await runManifest(ctx, src, o.backupId);
      const s3dr = await ctx.adapters.s3(dr.region);
      const keys = [...m.objects.map((x) => x.key), MANIFEST_KEY];
      for (const k of keys) {
        if (ctx.signal.aborted) throw new StepError('copy to DR: aborted');
        await s3dr.copy(
          src.bucket,
          src.region,
          `${src.prefix}${o.backupId}/${k}`,
          dr.bucket,
          `${dr.prefix}${o.backupId}/${k}`,
          dr.kmsKeyId,
        );
      }
      return { copied: keys.length, region: dr.region, bucket: dr.bucket };
    },
    async verify(ctx) {
      const src = primaryLocation(ctx);
      const dr = drLocation(ctx)!;
      const m = await runManifest(ctx, src, o.backupId);
      const s3dr = await ctx.adapters.s3(dr.region);
      const bad: Mismatch[] = [];
      const needRead: ManifestObject[] = [];
      for (const x of m.objects) {
        const h = await s3dr.head(dr.bucket, `${dr.prefix}${o.backupId}/${x.key}`, true);
        if (!h) bad.push({ key: x.key, problem: 'missing in the DR bucket' });
        else if (h.size !== x.size) bad.push({ key: x.key, problem: `size ${h.size} in DR, manifest says ${x.size}` });
        else if (!h.sha256) needRead.push(x);
        else if (h.sha256 !== x.sha256) bad.push({ key: x.key, problem: 'sha256 differs in DR' });
      }
      // No server-side checksum (store without CopyObject checksums): read those objects and hash them.
      if (needRead.length)
        bad.push(...(await verifyObjects(s3dr, dr, { ...m, objects: needRead }, { signal: ctx.signal })));
      if (bad.length)
        throw new StepError(
          `DR copy of ${o.backupId} does not match: ${bad
            .slice(0, 3)
            .map((b) => `${b.key}: ${b.problem}`)
            .join('; ')}`,
        );
      const rec: VerifyRecord = {
        at: new Date().toISOString(),
        ok: true,
        regions: [{ region: dr.region, bucket: dr.bucket, ok: true, mismatches: [] }],
      };
      await writeVerifyRecord(s3dr, dr, o.backupId, rec);
      await writeVerifyRecord(await ctx.adapters.s3(), src, o.backupId, rec);
    },
    async rollback(ctx) {
      const dr = drLocation(ctx);
      if (!dr) return;
      const s3dr = await ctx.adapters.s3(dr.region);
      const { objects } = await s3dr.list(dr.bucket, `${dr.prefix}${o.backupId}/`);
      await s3dr.deleteKeys(
        dr.bucket,
        objects.map((x) => x.key),
      );
    },
  };
}

/** Restore's pre-flight: every object to be used is read and proven intact before anything destructive. */
export function preflightVerifyStep(o: {
  backupId: string;
  location: (ctx: Ctx) => Location;
  components: Component[];
}): Step<{ objects: number; bytes: number }, { objects: number; bytes: number }> {
  return {
    id: 'preflight',
    title: 'Verify the backup (checksums, tar safety) before changing anything',
    async plan(ctx) {
      const loc = o.location(ctx);
      const m = await runManifest(ctx, loc, o.backupId);
      const objs = m.objects.filter((x) => o.components.includes(x.component));
      const bytes = objs.reduce((a, x) => a + x.size, 0);
      return {
        summary: `read and check ${objs.length} object(s), ${bytes} bytes, from ${s3url(loc, `${loc.prefix}${o.backupId}/`)}`,
        changes: [
          { action: 'read', target: s3url(loc, `${loc.prefix}${o.backupId}/`), detail: `${objs.length} objects` },
        ],
        payload: { objects: objs.length, bytes },
      };
    },
    async apply(ctx, p) {
      const loc = o.location(ctx);
      const s3 = await ctx.adapters.s3(loc.region);
      const m = await runManifest(ctx, loc, o.backupId);
      const bad = await verifyObjects(s3, loc, m, { components: o.components, signal: ctx.signal, tarSafety: true });
      if (bad.length)
        throw new StepError(
          `backup ${o.backupId} failed verification, nothing was changed: ${bad
            .slice(0, 3)
            .map((b) => `${b.key}: ${b.problem}`)
            .join('; ')}`,
          {
            hint: `restore another backup (\`hivectl backup list\`) or the DR copy (--region ${m.dr?.region ?? '<dr-region>'})`,
            details: { mismatches: bad },
          },
        );
      return p;
    },
  };
}
