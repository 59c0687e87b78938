// The actions behind `hivectl backup ...` and `hivectl restore` (loaded lazily by src/commands/*).
import type { Command } from 'commander';
import { type CommandEnv, loadCommandEnv, type RunOutcome, runRunbookCommand } from '../core/command.js';
import { formatDuration, parseDurationMs } from '../core/duration.js';
import { GateError, UsageError } from '../core/errors.js';
import type { Ctx } from '../core/step.js';
import { textTable } from '../core/table.js';
import { isBackupId, newBackupId } from './ids.js';
import { drLocation, type Location, primaryLocation, sourceLocation } from './location.js';
import {
  type BackupManifest,
  type Component,
  type PostgresDb,
  parseComponents,
  totalSize,
  type VerifyRecord,
} from './manifest.js';
import { listBackups, readManifest } from './store.js';

function components(s: string | undefined): Component[] {
  try {
    return parseComponents(s);
  } catch (e) {
    throw new UsageError(`--components: ${(e as Error).message}`);
  }
}

function parseTags(tags: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags) {
    const i = t.indexOf('=');
    if (i <= 0) throw new UsageError(`--tag ${t}: use key=value`);
    out[t.slice(0, i)] = t.slice(i + 1);
  }
  return out;
}

function checkId(id: string): void {
  if (!isBackupId(id))
    throw new UsageError(`"${id}" is not a backup id (e.g. 20261127T010203Z-abcd)`, {
      hint: 'see `hivectl backup list`',
    });
}

const encryptionKey = (env: CommandEnv) => process.env[env.config.backup.encryptionKeyEnv] || undefined;

/** A minimal ctx for read-only helpers outside a runbook. */
function helperCtx(env: CommandEnv): Pick<Ctx, 'config' | 'target'> {
  return { config: env.config, target: env.target };
}

const human = (n: number) =>
  n >= 1 << 30
    ? `${(n / (1 << 30)).toFixed(2)} GiB`
    : n >= 1 << 20
      ? `${(n / (1 << 20)).toFixed(1)} MiB`
      : n >= 1024
        ? `${(n / 1024).toFixed(1)} KiB`
        : `${n} B`;

export async function backupCreate(cmd: Command, opts: { components?: string; tag: string[] }): Promise<void> {
  const comps = components(opts.components);
  const tags = parseTags(opts.tag ?? []);
  const startedAt = new Date();
  const backupId = newBackupId(startedAt);
  await runRunbookCommand(
    cmd,
    async (env) => {
      primaryLocation(helperCtx(env)); // bucket + region configured, or exit 2 before anything runs
      const { backupCreateRunbook } = await import('../runbooks/backup-create.js');
      const key = encryptionKey(env);
      if (key) (env.io as { redactor?: { add(v: string): void } }).redactor?.add(key);
      return backupCreateRunbook(
        { backupId, startedAt: startedAt.toISOString(), components: comps, tags, dbKind: env.config.database.kind },
        key ? { encryptionKey: key } : {},
      );
    },
    (o: RunOutcome) => {
      const m = o.results.manifest as { objects: number; rpoReference: string } | undefined;
      return {
        backupId,
        ...(m ? { objects: m.objects, rpoReference: m.rpoReference } : {}),
        dr: o.results['copy-dr'] ? 'copied and verified' : 'not configured',
      };
    },
  );
}

interface ListRow {
  id: string;
  createdAt: string;
  ageSeconds: number;
  size: number;
  components: string[];
  regions: string[];
  verified: boolean;
  complete: boolean;
  rpoReference?: string;
}

async function listRows(env: CommandEnv, all: boolean): Promise<ListRow[]> {
  const ctx = helperCtx(env);
  const p = primaryLocation(ctx);
  const dr = drLocation(ctx);
  const primary = await listBackups(await env.adapters.s3(p.region), p);
  const drList = dr ? await listBackups(await env.adapters.s3(dr.region), dr) : [];
  const drComplete = new Set(drList.filter((b) => b.manifest).map((b) => b.id));
  const ids = new Map(primary.map((b) => [b.id, b]));
  for (const b of drList) if (!ids.has(b.id)) ids.set(b.id, b);
  const now = Date.now();
  return [...ids.values()]
    .filter((b) => all || b.manifest)
    .sort((a, b) => (a.id < b.id ? 1 : -1))
    .map((b) => {
      const inPrimary = primary.some((x) => x.id === b.id && x.manifest);
      return {
        id: b.id,
        createdAt: b.time.toISOString(),
        ageSeconds: Math.round((now - b.time.getTime()) / 1000),
        size: b.manifest ? totalSize(b.manifest) : b.size,
        components: b.manifest?.components ?? [],
        regions: [...(inPrimary ? [p.region] : []), ...(dr && drComplete.has(b.id) ? [dr.region] : [])],
        verified: Boolean(b.verified?.ok),
        complete: Boolean(b.manifest),
        ...(b.manifest ? { rpoReference: b.manifest.rpoReference } : {}),
      };
    });
}

export async function backupList(cmd: Command, opts: { all: boolean }): Promise<void> {
  const env = await loadCommandEnv(cmd);
  const rows = await listRows(env, opts.all);
  env.io.result(rows, () =>
    rows.length === 0
      ? 'no usable backups\n'
      : textTable([
          ['ID', 'AGE', 'SIZE', 'COMPONENTS', 'REGIONS', 'VERIFIED', ...(opts.all ? ['COMPLETE'] : [])],
          ...rows.map((r) => [
            r.id,
            formatDuration(r.ageSeconds * 1000),
            human(r.size),
            r.components.join(','),
            r.regions.join(','),
            r.verified ? 'yes' : 'no',
            ...(opts.all ? [r.complete ? 'yes' : 'no (no manifest)'] : []),
          ]),
        ]),
  );
}

export async function backupDescribe(cmd: Command, id: string): Promise<void> {
  checkId(id);
  const env = await loadCommandEnv(cmd);
  const region = (cmd.optsWithGlobals() as { region?: string }).region;
  const loc = sourceLocation(helperCtx(env), region);
  const m = await readManifest(await env.adapters.s3(loc.region), loc, id);
  env.io.result(m, () => {
    const lines = [
      `backup ${m.id}  (${loc.bucket}, ${loc.region})`,
      `started ${m.startedAt}, completed ${m.completedAt}, RPO reference ${m.rpoReference}`,
      `components: ${m.components.join(', ')}; ${m.objects.length} objects, ${human(totalSize(m))}`,
    ];
    if (m.database?.kind === 'postgres') {
      const d = m.database as PostgresDb;
      lines.push(
        `database: ${d.database} (PostgreSQL ${d.serverVersion}, pg_dump -Fc -Z${d.compression}), ${d.tables.length} tables, ${d.tables.reduce((a, t) => a + t.rows, 0)} rows`,
      );
    } else if (m.database)
      lines.push(
        `database: ${m.database.kind} snapshot ${m.database.snapshotId} (${m.database.region})${m.database.drSnapshotId ? `, DR copy ${m.database.drRegion}/${m.database.drSnapshotId}` : ''}`,
      );
    if (m.k8s) {
      const kinds = new Map<string, number>();
      for (const x of m.k8s.objects) kinds.set(x.kind, (kinds.get(x.kind) ?? 0) + 1);
      lines.push(
        `cluster state: ${m.k8s.objects.length} objects${m.k8s.key ? ` in ${m.k8s.key}` : ''} (${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')}); Secret values ${m.k8s.secrets === 'encrypt' ? 'encrypted' : 'omitted'}`,
      );
    }
    if (m.dr) lines.push(`DR copy: s3://${m.dr.bucket} (${m.dr.region})`);
    lines.push(
      '',
      textTable([['OBJECT', 'SIZE', 'SHA-256'], ...m.objects.map((o) => [o.key, String(o.size), o.sha256])]).trimEnd(),
    );
    return `${lines.join('\n')}\n`;
  });
}

async function deepVerify(env: CommandEnv, loc: Location, m: BackupManifest): Promise<{ ok: boolean; detail: string }> {
  const db = m.database;
  if (db?.kind !== 'postgres')
    return {
      ok: true,
      detail: 'no PostgreSQL dump (RDS snapshots are verified by AWS; scratch-instance restore not implemented)',
    };
  const url = env.config.database.url;
  if (!url) throw new UsageError('--deep needs database.url (a server to create the scratch database on)');
  const pg = await env.adapters.pg();
  const scratch = `hivectl_verify_${m.id.toLowerCase().replace(/[^a-z0-9]/g, '_')}_${process.pid}`;
  const maint = new URL(url);
  maint.pathname = '/postgres';
  const target = new URL(url);
  target.pathname = `/${scratch}`;
  const { pipeline } = await import('node:stream/promises');
  const { compareChecks, tableChecks } = await import('../steps/pg/table-checks.js');
  await pg.query(maint.toString(), `CREATE DATABASE ${scratch}`);
  try {
    const s3 = await env.adapters.s3(loc.region);
    const body = await s3.getStream(loc.bucket, `${loc.prefix}${m.id}/${(db as PostgresDb).key}`);
    const proc = pg.restore(target.toString(), { clean: false });
    await Promise.all([pipeline(body, proc.stdin!), proc.done]);
    const problems = compareChecks(
      (db as PostgresDb).tables,
      await tableChecks((sql) => pg.query(target.toString(), sql)),
    );
    return problems.length
      ? { ok: false, detail: `scratch restore differs: ${problems.slice(0, 5).join('; ')}` }
      : {
          ok: true,
          detail: `restored into scratch database ${scratch}: ${(db as PostgresDb).tables.length} tables match`,
        };
  } catch (e) {
    return { ok: false, detail: `scratch restore failed: ${(e as Error).message}` };
  } finally {
    await pg.query(maint.toString(), `DROP DATABASE IF EXISTS ${scratch} WITH (FORCE)`).catch(() => {});
  }
}

export async function backupVerify(cmd: Command, id: string, opts: { deep: boolean }): Promise<void> {
  checkId(id);
  const env = await loadCommandEnv(cmd);
  const ctx = helperCtx(env);
  const { verifyObjects, writeVerifyRecord } = await import('../steps/aws/s3-objects.js');
  const locs = [primaryLocation(ctx), ...(drLocation(ctx) ? [drLocation(ctx)!] : [])];
  const rec: VerifyRecord = { at: new Date().toISOString(), ok: true, regions: [] };
  let manifest: BackupManifest | undefined;
  for (const loc of locs) {
    const s3 = await env.adapters.s3(loc.region);
    let m: BackupManifest;
    try {
      m = await readManifest(s3, loc, id);
    } catch (e) {
      rec.regions.push({ region: loc.region, bucket: loc.bucket, ok: false, mismatches: [(e as Error).message] });
      continue;
    }
    manifest ??= m;
    env.io.info(`verifying ${m.objects.length} object(s) in s3://${loc.bucket} (${loc.region})`);
    const bad = await verifyObjects(s3, loc, m, { tarSafety: true });
    rec.regions.push({
      region: loc.region,
      bucket: loc.bucket,
      ok: bad.length === 0,
      mismatches: bad.map((b) => `${b.key}: ${b.problem}`),
    });
  }
  if (opts.deep && manifest) rec.deep = await deepVerify(env, locs[0]!, manifest);
  rec.ok = rec.regions.every((r) => r.ok) && (rec.deep?.ok ?? true);
  for (const loc of locs) {
    const r = rec.regions.find((x) => x.region === loc.region && x.bucket === loc.bucket);
    if (r && !r.mismatches.some((x) => /not found/.test(x)))
      await writeVerifyRecord(await env.adapters.s3(loc.region), loc, id, rec);
  }
  env.io.result(
    { id, ...rec },
    () =>
      `${rec.regions.map((r) => `${r.ok ? 'ok  ' : 'FAIL'} ${r.region} s3://${r.bucket}${r.mismatches.length ? `\n${r.mismatches.map((x) => `       ${x}`).join('\n')}` : ''}`).join('\n')}\n${rec.deep ? `${rec.deep.ok ? 'ok  ' : 'FAIL'} deep: ${rec.deep.detail}\n` : ''}`,
  );
  if (!rec.ok)
    throw new GateError(`backup ${id} failed verification`, {
      hint: 'do not restore from the failing region; take a new backup (`hivectl backup create`)',
    });
}

export async function backupPrune(cmd: Command, opts: Record<string, string | undefined>): Promise<void> {
  const num = (k: string, flag: string) => {
    const v = opts[k];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} ${v}: use a whole number >= 0`);
    return n;
  };
  const policy = {
    keepLast: num('keepLast', '--keep-last'),
    keepDaily: num('keepDaily', '--keep-daily'),
    keepWeekly: num('keepWeekly', '--keep-weekly'),
    keepMonthly: num('keepMonthly', '--keep-monthly'),
  };
  if (Object.values(policy).every((v) => v === undefined))
    throw new UsageError('backup prune needs a retention policy', {
      hint: 'pass at least one of --keep-last, --keep-daily, --keep-weekly, --keep-monthly',
    });
  const clean = Object.fromEntries(Object.entries(policy).filter(([, v]) => v !== undefined));
  const { backupPruneRunbook } = await import('../runbooks/backup-prune.js');
  await runRunbookCommand(
    cmd,
    () => backupPruneRunbook(clean),
    // A copy: the output redactor marks a second reference to the same array as circular.
    (o) => ({ deleted: [...((o.results.prune as { deleted: string[] } | undefined)?.deleted ?? [])] }),
  );
}

export async function backupStatus(cmd: Command): Promise<void> {
  const env = await loadCommandEnv(cmd);
  const rows = await listRows(env, false);
  const slo = parseDurationMs(env.config.slo.rpo, 'slo.rpo');
  const newest = rows[0];
  const ageMs = newest ? Date.now() - Date.parse(newest.rpoReference ?? newest.createdAt) : undefined;
  let rds: { instance: string; latestRestorableTime?: string } | undefined;
  if (env.config.database.kind === 'rds' && env.config.database.instanceId) {
    const i = await (await env.adapters.rds()).describeInstance(env.config.database.instanceId);
    rds = {
      instance: env.config.database.instanceId,
      ...(i?.latestRestorableTime ? { latestRestorableTime: i.latestRestorableTime } : {}),
    };
  }
  const ok = ageMs !== undefined && ageMs <= slo;
  const out = {
    newest: newest?.id ?? null,
    ageSeconds: ageMs === undefined ? null : Math.round(ageMs / 1000),
    rpoSloSeconds: slo / 1000,
    withinSlo: ok,
    verified: newest?.verified ?? false,
    ...(rds ? { rds } : {}),
  };
  env.io.result(
    out,
    () =>
      `${newest ? `newest usable backup ${newest.id}, ${formatDuration(ageMs!)} old (RPO SLO ${formatDuration(slo)}): ${ok ? 'ok' : 'TOO OLD'}${newest.verified ? '' : ' (not verified)'}` : 'no usable backup'}\n${rds ? `RDS ${rds.instance}: latest restorable time ${rds.latestRestorableTime ?? 'unknown'}\n` : ''}`,
  );
  if (!ok)
    throw new GateError(
      newest
        ? `newest backup is older than the RPO SLO (${formatDuration(ageMs!)} > ${formatDuration(slo)})`
        : 'no usable backup',
      {
        hint: 'run `hivectl backup create` (and schedule it more often than the RPO SLO)',
      },
    );
}

export async function restoreCommand(cmd: Command, id: string, opts: Record<string, unknown>): Promise<void> {
  checkId(id);
  const startedAt = new Date();
  const region = (cmd.optsWithGlobals() as { region?: string }).region;
  const str = (k: string) => (typeof opts[k] === 'string' && opts[k] !== '' ? (opts[k] as string) : undefined);
  const toTime = str('toTime');
  if (toTime && Number.isNaN(Date.parse(toTime))) throw new UsageError(`--to-time ${toTime}: not an ISO 8601 time`);
  const os = await import('node:os');
  const jobs = str('jobs') ? Number(str('jobs')) : Math.min(4, os.availableParallelism());
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64)
    throw new UsageError(`--jobs ${str('jobs')}: expected a whole number from 1 to 64`);
  const { resolve } = await import('node:path');
  const workDir = resolve(str('workDir') ?? os.tmpdir());
  let manifest: BackupManifest | undefined;
  await runRunbookCommand(
    cmd,
    async (env) => {
      const loc = sourceLocation(helperCtx(env), region);
      manifest = await readManifest(await env.adapters.s3(loc.region), loc, id);
      const wanted = str('components') ? components(str('components')) : manifest.components;
      const missing = wanted.filter((c) => !manifest!.components.includes(c));
      if (missing.length)
        throw new UsageError(`backup ${id} has no ${missing.join(', ')} component`, {
          hint: `it has: ${manifest.components.join(', ')}`,
        });
      const dbKind = manifest.database?.kind ?? 'none';
      if (dbKind === 'postgres' && (str('newInstance') || toTime))
        throw new UsageError('--new-instance and --to-time are for RDS backups; this backup holds a PostgreSQL dump', {
          hint: 'use --target-db URL',
        });
      if ((dbKind === 'rds' || dbKind === 'aurora') && wanted.includes('db') && !str('newInstance'))
        throw new UsageError('restoring an RDS backup needs --new-instance NAME (RDS restores into a new instance)');
      const key = encryptionKey(env);
      if (key) (env.io as { redactor?: { add(v: string): void } }).redactor?.add(key);
      const { restoreRunbook } = await import('../runbooks/restore.js');
      return restoreRunbook(
        {
          backupId: id,
          components: wanted,
          dbKind,
          ...(str('targetDb') ? { targetDb: str('targetDb')! } : {}),
          ...(str('newInstance') ? { newInstance: str('newInstance')! } : {}),
          ...(toTime ? { toTime } : {}),
          force: Boolean(opts.force),
          ...(region ? { region } : {}),
          startedAt: startedAt.toISOString(),
          stream: Boolean(opts.stream),
          jobs,
          workDir,
        },
        key ? { encryptionKey: key } : {},
      );
    },
    (o) => {
      if (o.status !== 'succeeded' || !manifest) return { backupId: id };
      const end = Date.now();
      const ref = toTime ? Date.parse(toTime) : Date.parse(manifest.rpoReference);
      return {
        backupId: id,
        rtoSeconds: Math.round((end - startedAt.getTime()) / 100) / 10,
        rpoSeconds: Math.round((end - ref) / 1000),
        rpoReference: toTime ?? manifest.rpoReference,
      };
    },
  );
}
