// pg_dump -Fc streamed into an S3 multipart upload, SHA-256 on the fly, no temp file. pg_dump reads a
// snapshot exported by our own session, and the row checks run in that same snapshot, so the manifest's
// counts describe exactly the dumped data. The snapshot's start is the backup's RPO reference.

import { primaryLocation, s3url } from '../../backup/location.js';
import type { TableCheck } from '../../backup/manifest.js';
import { StepError } from '../../core/errors.js';
import type { Ctx, Step } from '../../core/step.js';
import { tableChecks } from './table-checks.js';

export interface DumpResult {
  key: string;
  size: number;
  sha256: string;
  database: string;
  serverVersion: string;
  compression: number;
  rpoReference: string;
  tables: TableCheck[];
}

export function databaseUrl(ctx: Ctx, override?: string): string {
  const url = override ?? ctx.config.database.url;
  if (!url)
    throw new StepError('no database URL configured', {
      hint: 'set database.url in hivectl.yaml (or HIVECTL_DATABASE_URL)',
    });
  return url;
}

export function dbName(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres';
  } catch {
    return /dbname=(\S+)/.exec(url)?.[1] ?? url;
  }
}

export function pgDumpToS3Step(o: {
  backupId: string;
}): Step<{ bucket: string; key: string; compression: number }, DumpResult> {
  return {
    id: 'db-dump',
    title: 'Dump PostgreSQL into S3 (pg_dump -Fc, streamed)',
    async plan(ctx) {
      const loc = primaryLocation(ctx);
      const key = `${loc.prefix}${o.backupId}/db.dump`;
      const compression = ctx.config.backup.dumpCompression;
      const db = dbName(databaseUrl(ctx));
      return {
        summary: `pg_dump -Fc -Z${compression} ${db} -> ${s3url(loc, key)}`,
        changes: [
          { action: 'create', target: s3url(loc, key), detail: `pg_dump -Fc -Z${compression} of database ${db}` },
        ],
        payload: { bucket: loc.bucket, key, compression },
      };
    },
    async apply(ctx, p) {
      const url = databaseUrl(ctx);
      const pg = await ctx.adapters.pg();
      const s3 = await ctx.adapters.s3();
      const loc = primaryLocation(ctx);
      const session = await pg.session(url);
      try {
        await session.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const [row] = await session.query(
          `SELECT pg_export_snapshot(), to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), current_setting('server_version')`,
        );
        const [snapshot, startedAt, serverVersion] = row as [string, string, string];
        const dump = pg.dump(url, { compress: p.compression, snapshot, signal: ctx.signal });
        // The checks run on the server while pg_dump streams: they overlap instead of adding up.
        const [up, tables] = await Promise.all([
          s3.uploadStream(p.bucket, p.key, dump.stdout, {
            signal: ctx.signal,
            ...(loc.kmsKeyId ? { kmsKeyId: loc.kmsKeyId } : {}),
          }),
          tableChecks((sql) => session.query(sql)),
          dump.done,
        ]);
        await session.query('COMMIT');
        ctx.note('db-dump', { key: p.key, bytes: up.size, sha256: up.sha256, tables: tables.length });
        return {
          key: p.key,
          size: up.size,
          sha256: up.sha256,
          database: dbName(url),
          serverVersion,
          compression: p.compression,
          rpoReference: startedAt,
          tables,
        };
      } finally {
        await session.close();
      }
    },
    async verify(ctx, r) {
      const s3 = await ctx.adapters.s3();
      const h = await s3.head(primaryLocation(ctx).bucket, r.key);
      if (!h || h.size !== r.size)
        throw new StepError(`s3 object ${r.key} is ${h ? `${h.size} bytes, expected ${r.size}` : 'missing'}`);
    },
    async rollback(ctx, r) {
      const s3 = await ctx.adapters.s3();
      await s3.deleteKeys(primaryLocation(ctx).bucket, [r.key]);
    },
  };
}
