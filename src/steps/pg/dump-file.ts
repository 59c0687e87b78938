// The database dump downloaded to a private temp file, its SHA-256 computed on the way: the download IS the
// checksum proof (no separate pre-read), and it runs before anything destructive. pg_restore -j then reads the
// file (parallel restore needs a seekable file, not a pipe). The file lives in a fresh 0700 directory, is
// created 0600, and is removed when the restore step ends, when this step fails, and at process exit
// (interrupts and failures of the steps in between).
import { createWriteStream, rmSync } from 'node:fs';
import { mkdtemp, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { HashingCounter } from '../../backup/checksum.js';
import type { Location } from '../../backup/location.js';
import type { PostgresDb } from '../../backup/manifest.js';
import { runManifest } from '../../backup/store.js';
import { RefusedError, StepError } from '../../core/errors.js';
import type { Ctx, Step } from '../../core/step.js';

export const FETCH_STEP_ID = 'fetch-db-dump';

export interface DumpFile {
  dir: string;
  path: string;
  bytes: number;
  sha256: string;
}

const live = new Set<string>();
let exitHook = false;

function track(dir: string): void {
  live.add(dir);
  if (exitHook) return;
  exitHook = true;
  // Last resort for runs that stop between the download and the restore (a failed quiesce, Ctrl-C).
  process.once('exit', () => {
    for (const d of live) rmSync(d, { recursive: true, force: true });
  });
}

export async function removeDumpFile(f: Pick<DumpFile, 'dir'>): Promise<void> {
  await rm(f.dir, { recursive: true, force: true });
  live.delete(f.dir);
}

function gib(n: number): string {
  return n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(2)} GiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`;
}

/** Refuses (one sentence, with the space needed) when `bytes` do not fit in `dir`. */
export async function ensureSpace(dir: string, bytes: number): Promise<void> {
  let free: number;
  try {
    const s = await statfs(dir);
    free = Number(s.bavail) * Number(s.bsize);
  } catch (e) {
    throw new RefusedError(`work directory ${dir} is not usable: ${(e as Error).message}`, {
      hint: 'pass --work-dir with an existing writable directory, or --stream to restore without a local copy',
    });
  }
  if (free < bytes)
    throw new RefusedError(
      `not enough free disk space in ${dir} for the database dump: it needs ${gib(bytes)} (${bytes} bytes) and ${gib(free)} is free`,
      { hint: 'free some space, pass --work-dir on a larger disk, or --stream to restore without a local copy' },
    );
}

interface DumpRef {
  key: string;
  size: number;
  sha256: string;
}

async function dumpRef(ctx: Ctx, loc: Location, backupId: string): Promise<DumpRef | undefined> {
  const m = await runManifest(ctx, loc, backupId);
  const db = m.database as PostgresDb | undefined;
  if (db?.kind !== 'postgres') return undefined;
  const obj = m.objects.find((x) => x.key === db.key);
  if (!obj) throw new StepError(`backup ${backupId}'s manifest lists no object for ${db.key}`);
  return { key: `${loc.prefix}${backupId}/${db.key}`, size: obj.size, sha256: obj.sha256 };
}

/** Downloads the dump into a new private temp file and proves its SHA-256; removes it on any failure. */
export async function downloadVerified(
  ctx: Ctx,
  o: { backupId: string; location: (ctx: Ctx) => Location; workDir: string },
): Promise<DumpFile | undefined> {
  const loc = o.location(ctx);
  const ref = await dumpRef(ctx, loc, o.backupId);
  if (!ref) return undefined;
  await ensureSpace(o.workDir, ref.size);
  const dir = await mkdtemp(join(o.workDir, 'hivectl-restore-'));
  track(dir);
  const path = join(dir, 'db.dump');
  try {
    const body = await (await ctx.adapters.s3(loc.region)).getStream(loc.bucket, ref.key, ctx.signal);
    const hasher = new HashingCounter();
    await pipeline(body, hasher, createWriteStream(path, { flags: 'wx', mode: 0o600 }), { signal: ctx.signal });
    const problem =
      hasher.bytes !== ref.size
        ? `size ${hasher.bytes}, manifest says ${ref.size}`
        : hasher.sha256() !== ref.sha256
          ? `sha256 ${hasher.sha256()}, manifest says ${ref.sha256}`
          : undefined;
    if (problem)
      throw new StepError(`backup ${o.backupId} failed verification, nothing was changed: db.dump: ${problem}`, {
        hint: 'restore another backup (`hivectl backup list`) or the DR copy (--region <dr-region>)',
      });
    return { dir, path, bytes: hasher.bytes, sha256: hasher.sha256() };
  } catch (e) {
    await removeDumpFile({ dir });
    throw e;
  }
}

/** The file a completed fetch step left, when it is still there (not after a resume in a new process). */
export async function fetchedDump(ctx: Ctx): Promise<DumpFile | undefined> {
  const f = ctx.results.get(FETCH_STEP_ID) as DumpFile | undefined;
  if (!f?.path) return undefined;
  const s = await stat(f.path).catch(() => undefined);
  return s && s.size === f.bytes ? f : undefined;
}

/** Non-destructive: download + checksum before the quiesce, so a bad dump stops the run with nothing changed. */
export function pgFetchDumpStep(o: {
  backupId: string;
  location: (ctx: Ctx) => Location;
  workDir: string;
}): Step<{ key: string; bytes: number }, DumpFile | { skipped: true }> {
  return {
    id: FETCH_STEP_ID,
    title: 'Download the database dump to a private temp file, checking its SHA-256',
    async plan(ctx) {
      const loc = o.location(ctx);
      const ref = await dumpRef(ctx, loc, o.backupId);
      if (!ref)
        return {
          summary: 'no PostgreSQL dump in this backup',
          changes: [],
          payload: { key: '', bytes: 0 },
          noop: true,
        };
      await ensureSpace(o.workDir, ref.size);
      return {
        summary: `download ${ref.key} (${gib(ref.size)}) to a temp file in ${o.workDir}, checking its SHA-256; needs ${ref.size} bytes of disk`,
        changes: [
          { action: 'read', target: `s3://${loc.bucket}/${ref.key}`, detail: `${ref.size} bytes, sha256 checked` },
          {
            action: 'create',
            target: `temp file ${join(o.workDir, 'hivectl-restore-*/db.dump')}`,
            detail: `${ref.size} bytes, mode 0600, removed when the restore ends`,
          },
        ],
        payload: { key: ref.key, bytes: ref.size },
      };
    },
    async apply(ctx) {
      return (await downloadVerified(ctx, o)) ?? { skipped: true };
    },
  };
}
