// pg_restore --clean --if-exists into the target database (created when missing). Default: from the temp
// file the fetch step downloaded and checksummed before anything destructive, with pg_restore -j N (it runs
// whole tables and index builds in parallel: a gain with several large tables, none when one table holds the
// data; docs/backup-format.md, Benchmarks). With `stream`: fed straight from the S3 object (no local copy), hashed again
// on the way; then the pre-flight step has read and proven the object before this step runs.
import { tmpdir } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { HashingCounter } from '../../backup/checksum.js';
import type { Location } from '../../backup/location.js';
import type { PostgresDb } from '../../backup/manifest.js';
import { runManifest } from '../../backup/store.js';
import { RefusedError, StepError } from '../../core/errors.js';
import type { Ctx, Step } from '../../core/step.js';
import { downloadVerified, fetchedDump, removeDumpFile } from './dump-file.js';
import { databaseUrl, dbName } from './dump-to-s3.js';
import { LIST_TABLES_SQL } from './table-checks.js';

export interface PgRestoreOptions {
  backupId: string;
  location: (ctx: Ctx) => Location;
  targetUrl?: string;
  force: boolean;
  /** Pipe from S3 instead of a local file (no disk needed; pg_restore runs single-threaded). */
  stream?: boolean;
  /** pg_restore --jobs, file mode only. */
  jobs?: number;
  /** Where the file mode downloads to (again) when the fetch step's file is gone, e.g. on resume. */
  workDir?: string;
}

function maintenanceUrl(url: string): string {
  const u = new URL(url);
  u.pathname = '/postgres';
  return u.toString();
}

async function targetTables(ctx: Ctx, url: string): Promise<string[] | undefined> {
  const pg = await ctx.adapters.pg();
  try {
    return (await pg.query(url, LIST_TABLES_SQL, ctx.signal)).map((r) => r[0]!);
  } catch (e) {
    if (/does not exist/.test((e as Error).message)) return undefined;
    throw e;
  }
}

export function pgRestoreFromS3Step(
  o: PgRestoreOptions,
): Step<{ key: string; database: string; existing: number }, { database: string; bytes: number }> {
  return {
    id: 'restore-db',
    title: o.stream
      ? 'Restore PostgreSQL from the dump (pg_restore --clean, streamed from S3)'
      : 'Restore PostgreSQL from the downloaded dump (pg_restore --clean --jobs)',
    destructive: true,
    async plan(ctx) {
      const loc = o.location(ctx);
      const m = await runManifest(ctx, loc, o.backupId);
      const db = m.database as PostgresDb | undefined;
      if (db?.kind !== 'postgres')
        return {
          summary: 'no PostgreSQL dump in this backup',
          changes: [],
          payload: { key: '', database: '', existing: 0 },
          noop: true,
        };
      const url = databaseUrl(ctx, o.targetUrl);
      const name = dbName(url);
      const tables = await targetTables(ctx, url);
      if (tables && tables.length > 0 && !o.force)
        throw new RefusedError(`target database ${name} is not empty (${tables.length} tables)`, {
          hint: 'pass --force to overwrite it, or --target-db with an empty or new database',
        });
      return {
        summary: `pg_restore ${o.stream ? '(streamed from S3)' : `-j ${jobs(o)} (from the temp file)`} ${db.tables.length} tables into ${name}${tables?.length ? ` (overwrites ${tables.length} existing tables)` : ''}`,
        changes: [
          {
            action: tables === undefined ? 'create' : tables.length ? 'replace' : 'update',
            target: `postgres database ${name}`,
            detail: tables?.length
              ? `drops and recreates: ${tables.slice(0, 20).join(', ')}${tables.length > 20 ? ', ...' : ''}`
              : `restores ${db.tables.length} tables`,
          },
        ],
        payload: { key: `${loc.prefix}${o.backupId}/${db.key}`, database: name, existing: tables?.length ?? 0 },
      };
    },
    async apply(ctx, p) {
      if (o.stream) return streamRestore(ctx, o, p);
      // The fetch step's file, or (resumed in a new process, file removed) a fresh download proven again
      // before the CREATE DATABASE / --clean below.
      const file =
        (await fetchedDump(ctx)) ??
        (await downloadVerified(ctx, { backupId: o.backupId, location: o.location, workDir: o.workDir ?? tmpdir() }));
      if (!file) throw new StepError(`backup ${o.backupId} has no PostgreSQL dump`);
      try {
        const url = databaseUrl(ctx, o.targetUrl);
        await createIfMissing(ctx, url, p.database);
        const pg = await ctx.adapters.pg();
        await pg.restore(url, { clean: true, signal: ctx.signal, jobs: jobs(o), file: file.path }).done;
        return { database: p.database, bytes: file.bytes };
      } finally {
        await removeDumpFile(file);
      }
    },
  };
}

function jobs(o: PgRestoreOptions): number {
  return Math.max(1, o.jobs ?? 1);
}

async function createIfMissing(ctx: Ctx, url: string, database: string): Promise<void> {
  if ((await targetTables(ctx, url)) !== undefined) return;
  const pg = await ctx.adapters.pg();
  await pg.query(maintenanceUrl(url), `CREATE DATABASE "${database.replace(/"/g, '""')}"`, ctx.signal);
}

async function streamRestore(
  ctx: Ctx,
  o: PgRestoreOptions,
  p: { key: string; database: string },
): Promise<{ database: string; bytes: number }> {
  const loc = o.location(ctx);
  const url = databaseUrl(ctx, o.targetUrl);
  const pg = await ctx.adapters.pg();
  await createIfMissing(ctx, url, p.database);
  const s3 = await ctx.adapters.s3(loc.region);
  const m = await runManifest(ctx, loc, o.backupId);
  const expected = m.objects.find((x) => x.key === (m.database as PostgresDb).key);
  const body = await s3.getStream(loc.bucket, p.key, ctx.signal);
  const hasher = new HashingCounter();
  const proc = pg.restore(url, { clean: true, signal: ctx.signal });
  await Promise.all([pipeline(body, hasher, proc.stdin!), proc.done]);
  if (expected && hasher.sha256() !== expected.sha256)
    throw new StepError(`db.dump changed while restoring (sha256 ${hasher.sha256()} != ${expected.sha256})`);
  return { database: p.database, bytes: hasher.bytes };
}
