// Failover / failback steps. A "side" is one region's cluster + AWS region; failover goes primary ->
// DR, failback DR -> primary, with the same steps:
//   preflight -> fence the source (scale to 0, remembered; unreachable is not an error) -> promote
//   the database on the target side -> repoint the endpoint Secret there -> scale the target up to the
//   remembered replicas (watched) -> verify (Deployments Ready, database answers).
// Each result carries its start/end time, so the report gives RTO per step.
import type { K8s } from '../../adapters/k8s.js';
import { isBackupId, newBackupId } from '../../backup/ids.js';
import { StepError } from '../../core/errors.js';
import type { Ctx, Step } from '../../core/step.js';

export type DbMode = 'replica' | 'snapshot' | 'cluster' | 'none';

export interface Side {
  label: 'primary' | 'dr';
  context?: string | undefined;
  region?: string | undefined;
}

export interface FailoverSpec {
  direction: 'failover' | 'failback';
  from: Side;
  to: Side;
  mode: DbMode;
  /** Replica to promote (mode replica). */
  replicaId?: string | undefined;
  /** Instance whose newest snapshot copy in the target region is restored (mode snapshot). */
  snapshotSourceId?: string | undefined;
  /** New instance name for mode snapshot. */
  newInstanceId?: string | undefined;
  clusterId?: string | undefined;
}

export interface Timed {
  startedAt: string;
  endedAt: string;
  ms: number;
}

/** A step whose verify waited: its time runs to the end of the wait. */
function stretch(r: Timed): void {
  r.endedAt = new Date().toISOString();
  r.ms = Date.parse(r.endedAt) - Date.parse(r.startedAt);
}

function timed<T extends object>(start: number, r: T): T & Timed {
  const end = Date.now();
  return { ...r, startedAt: new Date(start).toISOString(), endedAt: new Date(end).toISOString(), ms: end - start };
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** A warning-only check (e.g. no backup bucket configured) never fails the preflight. */
  warn?: boolean;
}

export interface PreflightResult extends Timed {
  checks: Check[];
  /** RPO estimate at the moment of failover (ms): snapshot age, 0 for a shared database; null = unknown. */
  rpoMs: number | null;
  rpoSource: string;
}

function workloads(ctx: Ctx) {
  const p = ctx.config.platform;
  return [
    { namespace: p.namespaces.api, name: p.api.deployment, image: p.api.image, replicas: p.api.replicas },
    { namespace: p.namespaces.agents, name: p.agents.deployment, image: p.agents.image, replicas: p.agents.replicas },
  ];
}

function awsTarget(ctx: Pick<Ctx, 'target'>) {
  return { region: ctx.target.region, endpointUrl: ctx.target.endpointUrl, profile: ctx.target.profile };
}

async function side(ctx: Ctx, s: Side): Promise<K8s> {
  return ctx.adapters.k8s(s.context);
}

/**
 * RPO of a replica failover: the replica's newest CloudWatch ReplicaLag (what promoting it now loses).
 * No datapoint, or CloudWatch unreadable (AccessDenied, ...), is an unknown RPO with the reason, never
 * a failure: the failover must not depend on a metrics API.
 */
export async function replicaLag(
  ctx: Pick<Ctx, 'signal' | 'target'>,
  region: string,
  replicaId: string,
  read: () => Promise<{ seconds: number; at: string } | undefined> = async () => {
    const cw = await import('../../adapters/cloudwatch.js');
    return cw.newestReplicaLag(awsTarget(ctx), region, replicaId, { signal: ctx.signal });
  },
): Promise<{ rpoMs: number | null; rpoSource: string; detail: string }> {
  try {
    const lag = await read();
    if (!lag)
      return {
        rpoMs: null,
        rpoSource: `replica lag of ${replicaId}: no CloudWatch ReplicaLag datapoint in the last 5 minutes`,
        detail: 'replica lag unknown (no CloudWatch datapoint in 5 min)',
      };
    return {
      rpoMs: Math.round(lag.seconds * 1000),
      rpoSource: `replica lag of ${replicaId} (CloudWatch ReplicaLag at ${lag.at})`,
      detail: `replica lag ${lag.seconds}s (CloudWatch, ${lag.at})`,
    };
  } catch (e) {
    if (ctx.signal.aborted) throw e;
    const err = e as { name?: string; message?: string };
    const why = `${err.name && err.name !== 'Error' ? `${err.name}: ` : ''}${err.message ?? String(e)}`;
    return {
      rpoMs: null,
      rpoSource: `replica lag of ${replicaId}: CloudWatch could not be read (${why}); grant cloudwatch:GetMetricData`,
      detail: `replica lag unknown (CloudWatch: ${why})`,
    };
  }
}

// Aurora readers share the cluster's storage volume, so an in-cluster failover loses no committed
// write by design; hivectl does not measure it, so it stays "unknown" rather than a claimed 0.
const CLUSTER_RPO = 'in-cluster failover: readers share the cluster volume (not measured by hivectl)';

/** How far back the preflight first looks for the newest backup before listing the whole bucket. */
const RECENT_DAYS = 7;

/** The checks of `hivectl failover check`: each a line, read-only. */
export async function preflightChecks(
  ctx: Ctx,
  spec: FailoverSpec,
): Promise<{ checks: Check[]; rpoMs: number | null; rpoSource: string }> {
  const kc = await import('../../adapters/k8s-chaos.js');
  const checks: Check[] = [];
  let rpoMs: number | null = null;
  let rpoSource = 'unknown';
  // 1. target cluster reachable and bootstrapped
  let target: K8s | undefined;
  try {
    target = await side(ctx, spec.to);
    const r = await kc.reachable(target);
    checks.push({
      name: `${spec.to.label} cluster reachable`,
      ok: r.ok,
      detail: r.ok ? `${target.contextName} at ${target.server}` : (r.error ?? ''),
    });
    if (!r.ok) target = undefined;
  } catch (e) {
    checks.push({ name: `${spec.to.label} cluster reachable`, ok: false, detail: (e as Error).message });
  }
  if (target) {
    for (const w of workloads(ctx)) {
      const d = await kc.getDeployment(target, w.namespace, w.name).catch(() => undefined);
      checks.push({
        name: `${spec.to.label} bootstrapped: ${w.namespace}/${w.name}`,
        ok: Boolean(d),
        detail: d
          ? `present (replicas ${d.spec?.replicas ?? 0})`
          : 'missing: run `hivectl bootstrap` against that cluster',
      });
      const images = (d?.spec?.template.spec?.containers ?? []).map((c) => c.image ?? '');
      checks.push({
        name: `${spec.to.label} image set: ${w.name}`,
        ok: images.length > 0 && images.every((i) => i.length > 0 && !/:latest$/.test(i)),
        detail: images.join(', ') || 'no containers',
      });
    }
  }
  // 2. database source in the target region
  const t = awsTarget(ctx);
  try {
    if (spec.mode === 'replica') {
      const rf = await import('../../adapters/rds-failover.js');
      const i =
        spec.replicaId && spec.to.region ? await rf.describeInstance(t, spec.to.region, spec.replicaId) : undefined;
      const lag =
        i && spec.replicaId && spec.to.region ? await replicaLag(ctx, spec.to.region, spec.replicaId) : undefined;
      checks.push({
        name: `${spec.to.label} database: read replica ${spec.replicaId ?? '(database.drReplicaId unset)'}`,
        ok: Boolean(i),
        detail: i
          ? `${i.status}${i.replicaSource ? `, replica of ${i.replicaSource}` : ', already standalone'}, ${lag?.detail}`
          : `not found in ${spec.to.region}`,
      });
      if (lag) ({ rpoMs, rpoSource } = lag);
    } else if (spec.mode === 'snapshot') {
      const rf = await import('../../adapters/rds-failover.js');
      const s =
        spec.snapshotSourceId && spec.to.region
          ? await rf.newestSnapshot(t, spec.to.region, spec.snapshotSourceId)
          : undefined;
      const age = s?.createdAt ? Date.now() - Date.parse(s.createdAt) : undefined;
      checks.push({
        name: `${spec.to.label} database: newest snapshot of ${spec.snapshotSourceId ?? '(database.instanceId unset)'} in ${spec.to.region}`,
        ok: Boolean(s),
        detail: s
          ? `${s.id}, ${age !== undefined ? `${Math.round(age / 1000)}s old` : 'age unknown'}`
          : 'none: run `hivectl backup create` (it copies snapshots to the DR region)',
      });
      if (age !== undefined) {
        rpoMs = age;
        rpoSource = `age of snapshot ${s?.id}`;
      }
    } else if (spec.mode === 'cluster') {
      const rf = await import('../../adapters/rds-failover.js');
      const c =
        spec.clusterId && spec.to.region
          ? await rf.describeClusterEndpoint(t, spec.to.region, spec.clusterId)
          : undefined;
      // FailoverDBCluster promotes a reader of the cluster: it needs a writer and at least one reader.
      checks.push({
        name: `${spec.to.label} database: cluster ${spec.clusterId ?? '(database.clusterId unset)'}`,
        ok: Boolean(c && c.status === 'available' && c.writer && c.readers.length > 0),
        detail: c
          ? `${c.status}, writer ${c.writer ?? 'none'}, readers ${c.readers.join(', ') || 'none: FailoverDBCluster needs one'}${c.address ? `, writer endpoint ${c.address}:${c.port ?? ''}` : ''}`
          : `not found in ${spec.to.region}`,
      });
      rpoSource = CLUSTER_RPO;
    } else {
      checks.push({
        name: 'database: shared PostgreSQL (database.kind postgres, no RDS source)',
        ok: true,
        detail: 'nothing to promote',
      });
      rpoMs = 0;
      rpoSource = 'one database serves both sides';
    }
  } catch (e) {
    checks.push({ name: `${spec.to.label} database source`, ok: false, detail: (e as Error).message });
  }
  if (ctx.config.database.url) {
    try {
      const pg = await ctx.adapters.pg();
      await pg.query(ctx.config.database.url, 'select 1', ctx.signal);
      checks.push({ name: 'database answers (database.url)', ok: true, detail: 'select 1' });
    } catch (e) {
      checks.push({ name: 'database answers (database.url)', ok: false, detail: (e as Error).message });
    }
  }
  // 3. the target region's bucket holds the newest backup
  const b = ctx.config.backup;
  const targetBucket = spec.direction === 'failover' ? b.drBucket : b.bucket;
  const sourceBucket = spec.direction === 'failover' ? b.bucket : b.drBucket;
  if (!targetBucket || !sourceBucket || !spec.to.region || !spec.from.region) {
    checks.push({
      name: 'backups in the target region',
      ok: true,
      warn: true,
      detail: 'skipped: backup.bucket / drBucket not configured',
    });
  } else {
    try {
      // The newest complete backup (newest id with a manifest, the order `backup list` uses): list the
      // backup ids, not every object of every backup, then look for manifests newest first. Ids sort by
      // time, so the last RECENT_DAYS are listed first (a bucket holding years of backups is many list
      // pages); only when none of those is complete is the whole bucket listed.
      const newest = async (region: string, bucket: string) => {
        const s3 = await ctx.adapters.s3(region);
        const since = `${b.prefix}${newBackupId(new Date(Date.now() - RECENT_DAYS * 86_400_000), '')}`;
        for (const startAfter of [since, undefined]) {
          const { prefixes } = await s3.list(bucket, b.prefix, '/', startAfter);
          const ids = prefixes
            .map((p) => p.slice(b.prefix.length).replace(/\/$/, ''))
            .filter(isBackupId)
            .sort()
            .reverse();
          for (const id of ids) {
            const key = `${b.prefix}${id}/manifest.json`;
            if (await s3.head(bucket, key)) return key;
          }
        }
        return undefined;
      };
      const [src, dst] = await Promise.all([
        newest(spec.from.region, sourceBucket),
        newest(spec.to.region, targetBucket),
      ]);
      const ok = src === undefined ? dst !== undefined || true : dst === src;
      checks.push({
        name: `${spec.to.label} bucket ${targetBucket} holds the newest backup`,
        ok,
        ...(src === undefined ? { warn: true } : {}),
        detail:
          src === undefined
            ? 'no backup in the source bucket yet'
            : ok
              ? src
              : `newest is ${src}, target has ${dst ?? 'none'}`,
      });
    } catch (e) {
      checks.push({ name: `${spec.to.label} bucket ${targetBucket}`, ok: false, detail: (e as Error).message });
    }
  }
  return { checks, rpoMs, rpoSource };
}

export function preflightStep(spec: FailoverSpec): Step<null, PreflightResult> {
  return {
    id: 'preflight',
    title: `Preflight: ${spec.to.label} side ready to take over`,
    async plan() {
      return {
        summary: 'check target cluster, database source, backups, images',
        changes: [{ action: 'read', target: `${spec.to.label} side` }],
        payload: null,
      };
    },
    async apply(ctx) {
      const start = Date.now();
      const r = await preflightChecks(ctx, spec);
      const bad = r.checks.filter((c) => !c.ok && !c.warn);
      if (bad.length)
        throw new StepError(`preflight failed: ${bad.map((c) => `${c.name}: ${c.detail}`).join('; ')}`, {
          hint: `nothing was changed; fix these and run \`hivectl ${spec.direction} check\``,
          details: { checks: r.checks },
        });
      return timed(start, r);
    },
  };
}

export interface FenceResult extends Timed {
  reachable: boolean;
  fenced: Array<{ namespace: string; name: string; replicas: number }>;
  /** What could not be fenced, and why. */
  notFenced: string[];
  /** Replicas to bring up on the target side. */
  replicas: Array<{ namespace: string; name: string; replicas: number }>;
}

export function fenceStep(spec: FailoverSpec): Step<null, FenceResult> {
  return {
    id: 'fence-source',
    title: `Fence the ${spec.from.label}: scale the API and agents to 0 (where reachable)`,
    destructive: true,
    async plan(ctx) {
      return {
        summary: `${spec.from.label}: ${workloads(ctx)
          .map((w) => `${w.namespace}/${w.name}`)
          .join(', ')} -> 0`,
        changes: workloads(ctx).map((w) => ({
          action: 'update' as const,
          target: `apps/v1 Deployment ${w.namespace}/${w.name} (${spec.from.label})`,
          detail: 'replicas -> 0',
        })),
        payload: null,
      };
    },
    async apply(ctx) {
      const start = Date.now();
      const prior = ctx.results.get('fence-source') as FenceResult | undefined;
      const kc = await import('../../adapters/k8s-chaos.js');
      const fenced: FenceResult['fenced'] = [];
      const notFenced: string[] = [];
      let k: K8s | undefined;
      let reachable = false;
      try {
        k = await side(ctx, spec.from);
        const r = await kc.reachable(k);
        reachable = r.ok;
        if (!r.ok)
          notFenced.push(`${spec.from.label} cluster unreachable (${r.error}): its workloads could not be scaled to 0`);
      } catch (e) {
        notFenced.push(`${spec.from.label} cluster: ${(e as Error).message}`);
      }
      const replicas: FenceResult['replicas'] = [];
      for (const w of workloads(ctx)) {
        let n = prior?.replicas.find((r) => r.namespace === w.namespace && r.name === w.name)?.replicas;
        if (reachable && k) {
          try {
            const d = await kc.getDeployment(k, w.namespace, w.name);
            if (n === undefined) n = d?.spec?.replicas ?? undefined;
            if (d) {
              await kc.scaleDeployment(k, w.namespace, w.name, 0);
              fenced.push({ namespace: w.namespace, name: w.name, replicas: n ?? 0 });
            }
          } catch (e) {
            notFenced.push(`${w.namespace}/${w.name}: ${(e as Error).message}`);
          }
        }
        // Nothing recorded (source gone, or already at 0 from a crashed run): hivectl.yaml's replicas.
        replicas.push({ namespace: w.namespace, name: w.name, replicas: n && n > 0 ? n : w.replicas });
      }
      ctx.note('fence-source', { reachable, fenced, notFenced });
      // A source that answers but refuses to scale down still runs: promoting now would leave both sides
      // writing. Stop here, undoing the part that was fenced (the engine rolls back completed steps only).
      if (reachable && k && notFenced.length) {
        for (const f of fenced) await kc.scaleDeployment(k, f.namespace, f.name, f.replicas).catch(() => {});
        throw new StepError(`the ${spec.from.label} cluster answers but could not be fenced: ${notFenced.join('; ')}`, {
          hint: `fix the cause (e.g. grant patch on deployments/scale there: \`hivectl iam-policy --commands failover\`) and run again; only an unreachable ${spec.from.label} is failed over without a fence`,
        });
      }
      if (notFenced.length) ctx.io.warn(`could not fence: ${notFenced.join('; ')}`);
      return timed(start, { reachable, fenced, notFenced, replicas });
    },
    // Waiting is verify's, so a fence that never settles (or Ctrl-C during the wait) is rolled back too.
    async verify(ctx, r) {
      if (!r.reachable || r.fenced.length === 0) return;
      const { waitForRollout } = await import('../../adapters/k8s-watch.js');
      await waitForRollout(await side(ctx, spec.from), r.fenced, { signal: ctx.signal, timeoutMs: ctx.mode.timeoutMs });
      stretch(r);
    },
    async rollback(ctx, r) {
      if (!r.reachable || r.fenced.length === 0) return;
      const kc = await import('../../adapters/k8s-chaos.js');
      const k = await side(ctx, spec.from);
      for (const f of r.fenced) await kc.scaleDeployment(k, f.namespace, f.name, f.replicas);
    },
  };
}

export interface PromoteResult extends Timed {
  mode: DbMode;
  instanceId?: string;
  /** Endpoint of the promoted database (RDS), when there is one. */
  endpoint?: { host: string; port: number };
  /** Cluster mode: the writer instance after the failover, and before it. */
  writer?: string;
  writerBefore?: string;
  rpoMs: number | null;
  rpoSource: string;
}

export function promoteStep(spec: FailoverSpec): Step<{ writerBefore?: string }, PromoteResult> {
  const what =
    spec.mode === 'replica'
      ? `PromoteReadReplica ${spec.replicaId ?? '(no read replica configured)'}`
      : spec.mode === 'snapshot'
        ? `RestoreDBInstanceFromDBSnapshot (newest copy of ${spec.snapshotSourceId ?? '(no instance configured)'}) -> ${spec.newInstanceId}`
        : spec.mode === 'cluster'
          ? `FailoverDBCluster ${spec.clusterId ?? '(no cluster configured)'}`
          : 'nothing (shared PostgreSQL)';
  return {
    id: 'promote-db',
    title: `Promote the database in ${spec.to.region ?? 'the target region'}: ${what}`,
    destructive: spec.mode !== 'none',
    async plan(ctx) {
      // Cluster mode: the writer before the failover, journalled with the plan, is what makes a resumed
      // run see that the failover already happened instead of asking for a second one (moving it back).
      let writerBefore: string | undefined;
      if (spec.mode === 'cluster' && spec.clusterId && spec.to.region) {
        const rf = await import('../../adapters/rds-failover.js');
        writerBefore = (
          await rf.describeClusterEndpoint(awsTarget(ctx), spec.to.region, spec.clusterId).catch(() => undefined)
        )?.writer;
      }
      return {
        summary: writerBefore ? `${what} (writer now ${writerBefore})` : what,
        changes: [
          {
            action: spec.mode === 'none' ? 'none' : spec.mode === 'snapshot' ? 'create' : 'update',
            target: `RDS ${spec.to.region ?? ''}`,
            detail: what,
          },
        ],
        payload: writerBefore ? { writerBefore } : {},
      };
    },
    async apply(ctx, p) {
      const start = Date.now();
      const pre = ctx.results.get('preflight') as PreflightResult | undefined;
      const rpo = { rpoMs: pre?.rpoMs ?? null, rpoSource: pre?.rpoSource ?? 'unknown' };
      const region = spec.to.region;
      if (spec.mode === 'none') return timed(start, { mode: spec.mode, ...rpo });
      if (!region)
        throw new StepError(`no AWS region for the ${spec.to.label} side`, {
          hint: 'pass --dr-region or set aws.drRegion',
        });
      const rf = await import('../../adapters/rds-failover.js');
      const t = awsTarget(ctx);
      if (spec.mode === 'replica') {
        if (!spec.replicaId)
          throw new StepError('no read replica configured', { hint: 'set database.drReplicaId in hivectl.yaml' });
        // The lag just before the promotion is what the promotion loses.
        // No datapoint now (e.g. a resumed run after the promotion) but one at preflight: that one.
        const now = await replicaLag(ctx, region, spec.replicaId);
        const lag =
          now.rpoMs === null && rpo.rpoMs !== null ? { ...rpo, rpoSource: `${rpo.rpoSource}, at preflight` } : now;
        if (lag.rpoMs === null) ctx.io.warn(`RPO unknown: ${lag.rpoSource}`);
        const i = await rf.promoteReplica(t, region, spec.replicaId, ctx.signal, ctx.mode.timeoutMs);
        return timed(start, {
          mode: spec.mode,
          instanceId: i.id,
          ...(i.address ? { endpoint: { host: i.address, port: i.port ?? 5432 } } : {}),
          rpoMs: lag.rpoMs,
          rpoSource: lag.rpoSource,
        });
      }
      if (spec.mode === 'snapshot') {
        if (!spec.snapshotSourceId || !spec.newInstanceId)
          throw new StepError('no source instance for snapshot mode', { hint: 'set database.instanceId' });
        const snap = await rf.newestSnapshot(t, region, spec.snapshotSourceId);
        if (!snap) throw new StepError(`no snapshot of ${spec.snapshotSourceId} in ${region}`);
        const rds = await ctx.adapters.rds(region);
        if (!(await rds.describeInstance(spec.newInstanceId)))
          await rds.restoreFromSnapshot(snap.id, spec.newInstanceId);
        const i = await rds.waitInstance(spec.newInstanceId, ctx.signal, Math.ceil(ctx.mode.timeoutMs / 1000));
        const age = snap.createdAt ? start - Date.parse(snap.createdAt) : null;
        return timed(start, {
          mode: spec.mode,
          instanceId: spec.newInstanceId,
          ...(i.endpoint ? { endpoint: { host: i.endpoint.address, port: i.endpoint.port } } : {}),
          rpoMs: age,
          rpoSource: `age of snapshot ${snap.id} at failover`,
        });
      }
      if (!spec.clusterId) throw new StepError('no Aurora cluster configured', { hint: 'set database.clusterId' });
      const c = await rf.failoverCluster(t, region, spec.clusterId, ctx.signal, ctx.mode.timeoutMs, {
        writerBefore: p?.writerBefore,
      });
      ctx.note('promote-db', { cluster: spec.clusterId, writerBefore: p?.writerBefore, writer: c.writer });
      return timed(start, {
        mode: spec.mode,
        instanceId: spec.clusterId,
        ...(c.address ? { endpoint: { host: c.address, port: c.port ?? 5432 } } : {}),
        ...(c.writer ? { writer: c.writer } : {}),
        ...(p?.writerBefore ? { writerBefore: p.writerBefore } : {}),
        ...rpo,
      });
    },
    // A promoted replica cannot be demoted: rollback leaves it and the report says so.
  };
}

export interface RepointResult extends Timed {
  namespace: string;
  secret: string;
  host: string;
  port: string;
  database: string;
  previous?: Record<string, string>;
}

/** host/port/database/url of the endpoint the target side should use. Pure. */
export function endpointData(
  kind: string,
  dbUrl: string | undefined,
  promoted: PromoteResult | undefined,
  previous: Record<string, string> | undefined,
): Record<string, string> {
  // database.kind postgres: the data plane is that PostgreSQL (in the sandbox the RDS endpoint from
  // moto is not a database); rds/aurora: the promoted instance's endpoint.
  if (kind === 'postgres' || !promoted?.endpoint) {
    if (!dbUrl)
      throw new StepError('no database endpoint to point at', {
        hint: 'set database.url (kind postgres) or configure an RDS source',
      });
    const u = new URL(dbUrl);
    return {
      host: u.hostname,
      port: u.port || '5432',
      database: u.pathname.replace(/^\//, '') || 'postgres',
      url: dbUrl,
    };
  }
  const database = previous?.database ?? (dbUrl ? new URL(dbUrl).pathname.replace(/^\//, '') : '') ?? 'postgres';
  const base = previous?.url ?? dbUrl;
  let url = `postgres://${promoted.endpoint.host}:${promoted.endpoint.port}/${database}`;
  if (base) {
    const u = new URL(base);
    u.hostname = promoted.endpoint.host;
    u.port = String(promoted.endpoint.port);
    url = u.toString();
  }
  return { host: promoted.endpoint.host, port: String(promoted.endpoint.port), database, url };
}

export function repointStep(spec: FailoverSpec): Step<{ namespace: string; secret: string }, RepointResult> {
  return {
    id: 'repoint-endpoint',
    title: `Repoint the database endpoint Secret on the ${spec.to.label} cluster`,
    destructive: true,
    async plan(ctx) {
      const namespace = ctx.config.platform.namespaces.api;
      const secret = ctx.config.database.endpointSecret;
      return {
        summary: `Secret ${namespace}/${secret} (${spec.to.label}) -> the promoted endpoint`,
        changes: [
          {
            action: 'update',
            target: `v1 Secret ${namespace}/${secret} (${spec.to.label})`,
            detail: 'host, port, database, url',
          },
        ],
        payload: { namespace, secret },
      };
    },
    async apply(ctx, p) {
      const start = Date.now();
      const kc = await import('../../adapters/k8s-chaos.js');
      const k = await side(ctx, spec.to);
      const prior = ctx.results.get('repoint-endpoint') as RepointResult | undefined;
      const current = await kc.readSecretData(k, p.namespace, p.secret);
      const previous = prior?.previous ?? current;
      const data = endpointData(
        ctx.config.database.kind,
        ctx.config.database.url,
        ctx.results.get('promote-db') as PromoteResult | undefined,
        previous,
      );
      for (const v of [data.url, previous?.url]) if (v) registerUrlSecret(ctx, v);
      const agentsNs = ctx.config.platform.namespaces.agents;
      await kc.writeSecretData(k, p.namespace, p.secret, { ...(current ?? {}), ...data });
      // The agents read the same endpoint: keep their copy (if any) in step.
      const agentsCopy = agentsNs !== p.namespace ? await kc.readSecretData(k, agentsNs, p.secret) : undefined;
      if (agentsCopy) await kc.writeSecretData(k, agentsNs, p.secret, { ...agentsCopy, ...data });
      return timed(start, {
        namespace: p.namespace,
        secret: p.secret,
        host: data.host as string,
        port: data.port as string,
        database: data.database as string,
        ...(previous ? { previous } : {}),
      });
    },
    async rollback(ctx, r) {
      if (!r.previous) return;
      const kc = await import('../../adapters/k8s-chaos.js');
      const k = await side(ctx, spec.to);
      await kc.writeSecretData(k, r.namespace, r.secret, r.previous);
    },
  };
}

function registerUrlSecret(ctx: Ctx, url: string): void {
  try {
    const u = new URL(url);
    if (u.password) ctx.registerSecret(decodeURIComponent(u.password));
  } catch {
    /* not a URL: nothing secret to find in it */
  }
}

export interface ScaleUpResult extends Timed {
  scaled: Array<{ namespace: string; name: string; replicas: number; previous: number }>;
  /** When the scale calls were made. */
  scaledAt: string;
  /** ms from the scale call to the watch seeing every Deployment Ready. */
  readyAfterMs: number;
}

export function scaleUpStep(spec: FailoverSpec): Step<null, ScaleUpResult> {
  return {
    id: 'scale-target',
    title: `Scale the ${spec.to.label} workloads to the remembered replicas and wait until Ready (watch)`,
    destructive: false,
    async plan(ctx) {
      return {
        summary: `${spec.to.label}: ${workloads(ctx)
          .map((w) => `${w.namespace}/${w.name}`)
          .join(', ')} -> the replicas fenced on the ${spec.from.label}`,
        changes: workloads(ctx).map((w) => ({
          action: 'update' as const,
          target: `apps/v1 Deployment ${w.namespace}/${w.name} (${spec.to.label})`,
          detail: 'replicas',
        })),
        payload: null,
      };
    },
    async apply(ctx) {
      const start = Date.now();
      const fence = ctx.results.get('fence-source') as FenceResult | undefined;
      const kc = await import('../../adapters/k8s-chaos.js');
      const k = await side(ctx, spec.to);
      const want =
        fence?.replicas ?? workloads(ctx).map((w) => ({ namespace: w.namespace, name: w.name, replicas: w.replicas }));
      const scaled: ScaleUpResult['scaled'] = [];
      for (const w of want) {
        const d = await kc.getDeployment(k, w.namespace, w.name);
        if (!d)
          throw new StepError(`${w.namespace}/${w.name} is missing on the ${spec.to.label} cluster`, {
            hint: 'bootstrap that cluster first',
          });
        scaled.push({ ...w, previous: d.spec?.replicas ?? 0 });
        if ((d.spec?.replicas ?? 0) !== w.replicas) await kc.scaleDeployment(k, w.namespace, w.name, w.replicas);
      }
      return timed(start, { scaled, scaledAt: new Date().toISOString(), readyAfterMs: 0 });
    },
    // The wait is verify's: a target that never gets Ready (or Ctrl-C during the wait) is scaled back.
    async verify(ctx, r) {
      const { waitForRollout } = await import('../../adapters/k8s-watch.js');
      await waitForRollout(await side(ctx, spec.to), r.scaled, { signal: ctx.signal, timeoutMs: ctx.mode.timeoutMs });
      r.readyAfterMs = Date.now() - Date.parse(r.scaledAt);
      stretch(r);
    },
    async rollback(ctx, r) {
      const kc = await import('../../adapters/k8s-chaos.js');
      const k = await side(ctx, spec.to);
      for (const s of r.scaled) await kc.scaleDeployment(k, s.namespace, s.name, s.previous);
    },
  };
}

export interface VerifyResult extends Timed {
  deployments: string[];
  database: string;
  verifiedAt: string;
}

export function verifyTargetStep(spec: FailoverSpec): Step<null, VerifyResult> {
  return {
    id: 'verify-target',
    title: `Verify the ${spec.to.label} side: Deployments Ready, database reachable at its new endpoint`,
    async plan() {
      return {
        summary: 'read-only checks',
        changes: [{ action: 'read', target: `${spec.to.label} Deployments + database` }],
        payload: null,
      };
    },
    async apply(ctx) {
      const start = Date.now();
      const kc = await import('../../adapters/k8s-chaos.js');
      const { waitForRollout } = await import('../../adapters/k8s-watch.js');
      const k = await side(ctx, spec.to);
      const ws = workloads(ctx);
      const states = await waitForRollout(k, ws, { signal: ctx.signal, timeoutMs: ctx.mode.timeoutMs });
      const sec = await kc.readSecretData(k, ctx.config.platform.namespaces.api, ctx.config.database.endpointSecret);
      if (!sec?.url) throw new StepError(`the ${spec.to.label} endpoint Secret has no url`);
      registerUrlSecret(ctx, sec.url);
      const pg = await ctx.adapters.pg();
      try {
        await pg.query(sec.url, 'select 1', ctx.signal);
      } catch (e) {
        throw new StepError(`the database does not answer at ${sec.host}:${sec.port}: ${(e as Error).message}`, {
          hint: 'the failover is rolled back to the source side where it still runs',
        });
      }
      const r = timed(start, {
        deployments: states.map((s) => `${s.namespace}/${s.name} ${s.summary}`),
        database: `${sec.host}:${sec.port}/${sec.database ?? ''} answers`,
        verifiedAt: new Date().toISOString(),
      });
      return r;
    },
  };
}
