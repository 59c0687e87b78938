// Agent workspaces in a drill: seed a few deterministic files per agent pod (sandbox only), restore the
// backup's workspace tars into a scratch directory inside the agent pods (never over the live files),
// and verify the restored trees file by file (count + SHA-256) against the backup's tars and, when a seed
// record exists, against what was seeded. A mismatch is a failed gate (exit 3).
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import path from 'node:path/posix';
import { PassThrough, type Readable } from 'node:stream';
import { extract } from 'tar-stream';
import type { Location } from '../../backup/location.js';
import { runManifest } from '../../backup/store.js';
import { GateError, StepError } from '../../core/errors.js';
import type { Ctx, Step } from '../../core/step.js';
import { agentPods } from '../exec/pods.js';
import { mapWorkspaces } from '../exec/workspace-restore.js';

/** path -> size and SHA-256 of every regular file of a workspace tree. */
export type Fingerprint = Record<string, { size: number; sha256: string }>;

/** ConfigMap (in hivectl's namespace) where `drill --sandbox` records what it seeded, one key a pod. */
export const SEED_RECORD = 'hivectl-drill-workspace-seed';
const seedKey = (namespace: string, pod: string) => `${namespace}.${pod}`;

/** The files seeded into the `index`-th agent pod: small, deterministic, one nested directory. Pure. */
export function seedFiles(index: number): Array<{ path: string; data: Buffer }> {
  const blob = Buffer.alloc(4096 + 512 * index);
  for (let j = 0; j < blob.length; j++) blob[j] = (j * 31 + index * 7) % 251;
  return [
    { path: 'README.md', data: Buffer.from(`# workspace of agent ${index}\n`) },
    { path: 'notes/todo.md', data: Buffer.from(`- [ ] task ${index}-a\n- [x] task ${index}-b\n`) },
    { path: 'src/main.py', data: Buffer.from(`print("agent ${index}")\n`) },
    { path: 'src/lib/util.py', data: Buffer.from(`def answer():\n    return ${40 + index}\n`) },
    { path: 'data/blob.bin', data: blob },
  ];
}

export function fingerprintFiles(files: Array<{ path: string; data: Buffer }>): Fingerprint {
  const out: Fingerprint = {};
  for (const f of files)
    out[f.path] = { size: f.data.length, sha256: createHash('sha256').update(f.data).digest('hex') };
  return out;
}

/** Fingerprint of the regular files in a tar stream (paths without the leading `./`). */
export function fingerprintTar(input: Readable): Promise<Fingerprint> {
  return new Promise((resolve, reject) => {
    const out: Fingerprint = {};
    const ex = extract();
    ex.on('entry', (h, stream, next) => {
      const type = h.type ?? 'file';
      if (type !== 'file' && type !== 'contiguous-file') {
        stream.on('end', next);
        stream.resume();
        return;
      }
      const hash = createHash('sha256');
      let size = 0;
      stream.on('data', (c: unknown) => {
        if (!Buffer.isBuffer(c)) return;
        size += c.length;
        hash.update(c);
      });
      stream.on('end', () => {
        out[path.normalize(h.name).replace(/^\.\//, '')] = { size, sha256: hash.digest('hex') };
        next();
      });
    });
    ex.on('finish', () => resolve(out));
    ex.on('error', reject);
    input.on('error', (e) => ex.destroy(e));
    input.pipe(ex);
  });
}

export interface FingerprintDiff {
  missing: string[];
  extra: string[];
  changed: string[];
}

/** What `actual` lacks, adds or changed relative to `expected`. Pure. */
export function compareFingerprints(expected: Fingerprint, actual: Fingerprint): FingerprintDiff {
  const missing = Object.keys(expected).filter((p) => !actual[p]);
  const extra = Object.keys(actual).filter((p) => !expected[p]);
  const changed = Object.keys(expected).filter(
    (p) => actual[p] && (actual[p].sha256 !== expected[p]?.sha256 || actual[p].size !== expected[p]?.size),
  );
  return { missing: missing.sort(), extra: extra.sort(), changed: changed.sort() };
}

export function describeDiff(d: FingerprintDiff): string | undefined {
  const part = (n: string[], what: string) =>
    n.length ? `${n.length} file(s) ${what} (${n.slice(0, 3).join(', ')}${n.length > 3 ? ', ...' : ''})` : '';
  const s = [part(d.missing, 'missing'), part(d.changed, 'changed'), part(d.extra, 'unexpected')].filter(Boolean);
  return s.length ? s.join(', ') : undefined;
}

const sum = (fp: Fingerprint) => Object.values(fp).reduce((a, f) => a + f.size, 0);

/**
 * The workspace tree under `dir` in a pod, read with `tar -cf -` over exec (the same path a backup
 * takes); `remove` deletes `dir` in the same exec once read (an exec costs a TLS handshake: ~7 ms CPU).
 */
async function podFingerprint(
  ctx: Ctx,
  namespace: string,
  pod: string,
  dir: string,
  remove = false,
): Promise<Fingerprint> {
  const ex = await ctx.adapters.k8sExec();
  const out = new PassThrough();
  const command = remove
    ? ['sh', '-c', 'tar -cf - -C "$1" . && rm -rf "$1"', 'sh', dir]
    : ['tar', '-cf', '-', '-C', dir, '.'];
  const [fp] = await Promise.all([
    fingerprintTar(out),
    ex.exec({ namespace, pod, command, stdout: out, signal: ctx.signal }).catch((e) => {
      out.destroy(e as Error);
      throw e;
    }),
  ]);
  return fp;
}

async function readSeedRecord(ctx: Ctx): Promise<Record<string, Fingerprint>> {
  const kc = await import('../../adapters/k8s-chaos.js');
  // No seed record (a real environment): the restored trees are checked against the backup alone.
  const cm = await kc.readObject(await ctx.adapters.k8s(), {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    namespace: ctx.target.namespace,
    name: SEED_RECORD,
  });
  const data = (cm?.data ?? {}) as Record<string, string>;
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, JSON.parse(v) as Fingerprint]));
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

export interface SeedWorkspacesResult {
  namespace: string;
  pods: number;
  files: number;
  bytes: number;
}

/**
 * `drill --sandbox` only: give each agent pod a workspace of its own (`mapPod` returns the local directory
 * its execs run in), write the seed files there, wait until an exec into the pod reads them back, and
 * record what was seeded in the SEED_RECORD ConfigMap for the drill's verification.
 */
export function seedWorkspacesStep(o: {
  mapPod: (namespace: string, pod: string) => Promise<string>;
}): Step<null, SeedWorkspacesResult> {
  return {
    id: 'seed-workspaces',
    title: 'Seed agent workspaces (a few files per agent pod, one nested directory)',
    async plan(ctx) {
      const { namespace, pods } = await agentPods(ctx);
      return {
        summary: `${pods.length} agent pod(s) in ${namespace}; seed record ${ctx.target.namespace}/${SEED_RECORD}`,
        changes: [
          ...pods.map((p) => ({ action: 'replace' as const, target: `pod ${namespace}/${p} workspace` })),
          { action: 'update' as const, target: `v1 ConfigMap ${ctx.target.namespace}/${SEED_RECORD}` },
        ],
        payload: null,
      };
    },
    async apply(ctx) {
      const { namespace, pods } = await agentPods(ctx);
      const record: Record<string, string> = {};
      let files = 0;
      let bytes = 0;
      for (const [i, pod] of pods.entries()) {
        const dir = await o.mapPod(namespace, pod);
        for (const e of readdirSync(dir)) rmSync(join(dir, e), { recursive: true, force: true });
        const seeded = seedFiles(i);
        for (const f of seeded) {
          mkdirSync(dirname(join(dir, f.path)), { recursive: true });
          writeFileSync(join(dir, f.path), f.data);
        }
        const want = fingerprintFiles(seeded);
        // KWOK picks the pod's exec mapping up from a watch: read back until the exec sees these files.
        const deadline = Date.now() + 30_000;
        for (;;) {
          const got = await podFingerprint(ctx, namespace, pod, ctx.config.backup.workspaceDir).catch(() => undefined);
          if (got && !describeDiff(compareFingerprints(want, got))) break;
          if (Date.now() > deadline || ctx.signal.aborted)
            throw new StepError(`the seeded workspace of ${namespace}/${pod} is not what an exec into the pod reads`, {
              hint: 'check the sandbox exec mapping (docs/sandbox.md, "Exec into a fake pod")',
            });
          await sleep(200, ctx.signal);
        }
        record[seedKey(namespace, pod)] = JSON.stringify(want);
        files += seeded.length;
        bytes += sum(want);
      }
      const kc = await import('../../adapters/k8s-chaos.js');
      await kc.applyObject(await ctx.adapters.k8s(), {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: SEED_RECORD, namespace: ctx.target.namespace },
        data: record,
      });
      return { namespace, pods: pods.length, files, bytes };
    },
  };
}

/** The scratch directory a drill restores workspaces into: inside the workspace volume, the one place known writable. */
export function scratchWorkspaceDir(workspaceDir: string, name: string): string {
  return path.join(workspaceDir, name);
}

interface ScratchResult {
  name: string;
  namespace: string;
  pods: string[];
}

async function inPods(ctx: Ctx, namespace: string, pods: string[], command: string[]): Promise<void> {
  const ex = await ctx.adapters.k8sExec();
  for (const pod of pods) await ex.exec({ namespace, pod, command, signal: ctx.signal });
}

/**
 * Picks the pods (and the scratch directory) the workspaces are restored into; the restore creates
 * the directory in the same exec that extracts into it (an exec is a TLS websocket: ~7 ms of CPU),
 * and this step's rollback removes it.
 */
export function scratchWorkspacesStep(name: string): Step<{ name: string }, ScratchResult> {
  return {
    id: 'scratch-workspaces',
    title: `Scratch directory ${name} in each agent pod's workspace to restore into`,
    async plan(ctx) {
      const dir = scratchWorkspaceDir(ctx.config.backup.workspaceDir, name);
      const ns = ctx.config.platform.namespaces.agents;
      return {
        summary: `${dir} in every running agent pod of ${ns} (made by restore-workspaces)`,
        changes: [{ action: 'create', target: `agent pods in ${ns}: ${dir}` }],
        payload: { name },
      };
    },
    async apply(ctx, p) {
      const { namespace, pods } = await agentPods(ctx);
      return { name: p.name, namespace, pods };
    },
    async rollback(ctx, r) {
      await inPods(ctx, r.namespace, r.pods, [
        'rm',
        '-rf',
        scratchWorkspaceDir(ctx.config.backup.workspaceDir, r.name),
      ]);
    },
  };
}

/** Removes the scratch directory from the pods the verification did not already clean (normally none). */
export function dropScratchWorkspacesStep(name: string): Step<{ name: string }, { dropped: string; pods: number }> {
  return {
    id: 'drop-scratch-workspaces',
    title: `Remove scratch directory ${name} from the agent pods`,
    async plan(ctx) {
      return {
        summary: `rm -rf ${scratchWorkspaceDir(ctx.config.backup.workspaceDir, name)} in every agent pod`,
        changes: [{ action: 'delete', target: `agent pods: ${name}` }],
        payload: { name },
      };
    },
    async apply(ctx, p) {
      const made = ctx.results.get('scratch-workspaces') as ScratchResult | undefined;
      const cleaned = (ctx.results.get('verify-workspaces') as WorkspaceVerifyResult | undefined)?.cleaned ?? [];
      const { namespace, pods } = made ?? (await agentPods(ctx));
      const left = pods.filter((x) => !cleaned.includes(x));
      await inPods(ctx, namespace, left, ['rm', '-rf', scratchWorkspaceDir(ctx.config.backup.workspaceDir, p.name)]);
      return { dropped: p.name, pods: left.length };
    },
  };
}

export interface WorkspaceVerifyResult {
  /** Workspaces in the backup / restored and verified. */
  pods: number;
  files: number;
  bytes: number;
  /** How many of them were also checked against the seed record. */
  seedChecked: number;
  workspaces: Array<{ fromPod: string; pod: string; files: number; bytes: number; seeded: boolean }>;
  /** Pods whose scratch directory was removed once read back. */
  cleaned: string[];
}

/**
 * Read each restored scratch tree back over exec (and remove it in the same exec) and compare it, file by file, with the backup's tar
 * (what the restore had to reproduce) and with the seed record when there is one (what the backup had
 * to capture). Any difference: GateError, one sentence naming the pod and the files.
 */
export function verifyWorkspacesStep(o: {
  backupId: string;
  location: (ctx: Ctx) => Location;
  scratch: string;
}): Step<null, WorkspaceVerifyResult> {
  return {
    id: 'verify-workspaces',
    title: 'Verify the restored workspaces: file count and SHA-256 of every file (then remove the scratch copy)',
    async plan() {
      return {
        summary: 'restored trees vs the backup tars and the seed record; each scratch copy removed once read',
        changes: [
          { action: 'read', target: 'agent pods, backup tars' },
          { action: 'delete', target: `agent pods: ${o.scratch}` },
        ],
        payload: null,
      };
    },
    async apply(ctx) {
      const loc = o.location(ctx);
      const m = await runManifest(ctx, loc, o.backupId);
      const entries = m.workspaces ?? [];
      const res: WorkspaceVerifyResult = { pods: 0, files: 0, bytes: 0, seedChecked: 0, workspaces: [], cleaned: [] };
      if (entries.length === 0) return res;
      // The pods the scratch directories were made in (listed moments ago), as the restore mapped them.
      const { namespace, pods } =
        (ctx.results.get('scratch-workspaces') as ScratchResult | undefined) ?? (await agentPods(ctx));
      const mapping = mapWorkspaces(entries, pods);
      const seeds = await readSeedRecord(ctx);
      const s3 = await ctx.adapters.s3(loc.region);
      const dir = scratchWorkspaceDir(ctx.config.backup.workspaceDir, o.scratch);
      const problems: string[] = [];
      if (mapping.length < entries.length)
        problems.push(`${entries.length - mapping.length} workspace(s) had no agent pod to restore into`);
      for (const { entry, pod } of mapping) {
        const backedUp = await fingerprintTar(
          await s3.getStream(loc.bucket, `${loc.prefix}${o.backupId}/${entry.key}`),
        );
        // Read back and remove the scratch copy in one exec.
        const restored = await podFingerprint(ctx, namespace, pod, dir, true);
        res.cleaned.push(pod);
        const vsBackup = describeDiff(compareFingerprints(backedUp, restored));
        if (vsBackup) problems.push(`${namespace}/${pod}:${dir} against the backup of ${entry.pod}: ${vsBackup}`);
        const seed = seeds[seedKey(entry.namespace, entry.pod)];
        if (seed) {
          const vsSeed = describeDiff(compareFingerprints(seed, restored));
          if (vsSeed) problems.push(`${namespace}/${pod}:${dir} against what was seeded into ${entry.pod}: ${vsSeed}`);
        }
        res.workspaces.push({
          fromPod: entry.pod,
          pod,
          files: Object.keys(restored).length,
          bytes: sum(restored),
          seeded: Boolean(seed),
        });
        res.pods++;
        res.files += Object.keys(restored).length;
        res.bytes += sum(restored);
        if (seed) res.seedChecked++;
      }
      if (problems.length)
        throw new GateError(`restored workspaces do not match: ${problems.join('; ')}`, {
          hint: 'the restore did not reproduce the workspaces; the backup or the exec path loses files',
          details: { workspaces: res },
        });
      return res;
    },
  };
}
