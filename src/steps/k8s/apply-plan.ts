// Plan and apply a set of objects with server-side apply: each object is dry-run on the server and
// compared with the live one (0 changes on an unchanged cluster), then applied tier by tier with the
// objects of one tier in parallel.
import type { K8s } from '../../adapters/k8s.js';
import {
  ApiError,
  applyError,
  FIELD_MANAGER,
  getObject,
  type KObject,
  type RawKube,
  rawKube,
  serverSideApply,
} from '../../adapters/k8s-apply.js';
import { waitForQuotaStatus } from '../../adapters/k8s-watch.js';
import { StepError } from '../../core/errors.js';
import { applyPhasesOf } from '../../render/stack.js';
import { type KubernetesObject, shortRef } from '../../render/types.js';
import {
  type FieldConflict,
  managerOperations,
  ownsField,
  parseConflicts,
  sameObject,
  secretToData,
  toYaml,
  unifiedDiff,
} from './object-diff.js';

export type ObjectAction = 'create' | 'update' | 'none';

export interface PlannedObject {
  ref: string;
  kind: string;
  namespace?: string;
  name: string;
  action: ObjectAction;
  /** Take over fields last changed by an imperative edit (kubectl edit/scale/patch): that is drift. */
  force: boolean;
  /** Leave spec.replicas to the autoscaler (it moved it within its bounds). */
  dropReplicas: boolean;
  /** Drifted fields reclaimed from other managers, for the plan line. */
  reclaimed?: FieldConflict[];
}

export interface ObjectPlanResult {
  objects: PlannedObject[];
  /** Conflicts with another *declarative* manager (Apply): exit 1 unless --force-conflicts. */
  conflicts: (FieldConflict & { object: string })[];
  /** Not JSON (kept in memory for --diff): live and dry-run objects by ref. */
  views: Map<string, { live?: KObject | undefined; next?: KObject | undefined }>;
}

export class FieldConflictError extends StepError {
  constructor(readonly conflicts: (FieldConflict & { object: string })[]) {
    super(
      `field manager conflict: ${conflicts.map((c) => `${c.object} field ${c.field} is owned by "${c.manager}"`).join('; ')}`,
      {
        hint: 'another tool manages these fields; remove them there, or pass --force-conflicts to take them over',
        details: { conflicts },
      },
    );
    this.name = 'FieldConflictError';
  }
}

async function pool<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** [min, max] of the autoscaler the stack renders for a Deployment, if any. */
export function autoscalerBounds(objects: KubernetesObject[], d: KubernetesObject): [number, number] | undefined {
  for (const o of objects) {
    if (o.metadata.namespace !== d.metadata.namespace) continue;
    const spec = (o.spec ?? {}) as {
      scaleTargetRef?: { name?: string };
      minReplicas?: number;
      maxReplicas?: number;
      minReplicaCount?: number;
      maxReplicaCount?: number;
    };
    if (spec.scaleTargetRef?.name !== d.metadata.name) continue;
    if (o.kind === 'HorizontalPodAutoscaler') return [spec.minReplicas ?? 1, spec.maxReplicas ?? 1];
    if (o.kind === 'ScaledObject') return [spec.minReplicaCount ?? 0, spec.maxReplicaCount ?? 100];
  }
  return undefined;
}

/** The object as it will be sent: Secrets in `data` form, replicas dropped if the autoscaler owns them. */
export function desiredFor(o: KubernetesObject, p: Pick<PlannedObject, 'dropReplicas'>): KObject {
  const d = secretToData(o) as unknown as KObject;
  if (p.dropReplicas) {
    const c = structuredClone(d);
    delete (c.spec as { replicas?: number }).replicas;
    return c;
  }
  return d;
}

function refKey(o: { kind: string; metadata: { namespace?: string; name: string } }): string {
  return shortRef(o as KubernetesObject);
}

export async function planObjects(
  k8s: K8s,
  objects: KubernetesObject[],
  opts: { forceConflicts: boolean; signal?: AbortSignal | undefined },
): Promise<ObjectPlanResult> {
  let raw: RawKube;
  try {
    raw = await rawKube(k8s);
  } catch (e) {
    throw applyError(e, 'connecting to the cluster', k8s.server);
  }
  const views: ObjectPlanResult['views'] = new Map();
  const conflicts: ObjectPlanResult['conflicts'] = [];

  // Namespaces first: objects in a namespace that does not exist yet cannot be dry-run.
  const namespaces = objects.filter((o) => o.kind === 'Namespace');
  const nsLive = new Map<string, boolean>();
  await pool(namespaces, 8, async (n) => {
    const live = await getObject(raw, n as unknown as KObject).catch((e) => {
      throw applyError(e, `reading ${refKey(n)}`, k8s.server);
    });
    nsLive.set(n.metadata.name, Boolean(live));
  });

  const planned = await pool(objects, 16, async (o): Promise<PlannedObject> => {
    const ref = refKey(o);
    const base: PlannedObject = {
      ref,
      kind: o.kind,
      ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
      name: o.metadata.name,
      action: 'create',
      force: false,
      dropReplicas: false,
    };
    if (o.metadata.namespace && nsLive.get(o.metadata.namespace) === false) {
      views.set(ref, { next: desiredFor(o, base) });
      return base;
    }
    try {
      const live = await getObject(raw, o as unknown as KObject);
      if (live && o.kind === 'Deployment') {
        const want = (o.spec as { replicas?: number }).replicas;
        const have = (live.spec as { replicas?: number } | undefined)?.replicas;
        const bounds = autoscalerBounds(objects, o);
        if (
          bounds &&
          want !== have &&
          have !== undefined &&
          have >= bounds[0] &&
          have <= bounds[1] &&
          !ownsField(live, FIELD_MANAGER, ['spec', 'replicas'])
        ) {
          base.dropReplicas = true;
        }
      }
      let force = opts.forceConflicts;
      let next: KObject;
      try {
        next = await serverSideApply(raw, desiredFor(o, base), { dryRun: true, force, signal: opts.signal });
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 409)) throw e;
        const found = parseConflicts(e.causes, e.message);
        // Another declarative owner (server-side apply, or kubectl's client-side apply) is a conflict.
        const declarative = found.filter(
          (c) => c.manager === 'kubectl-client-side-apply' || managerOperations(live, c.manager).has('Apply'),
        );
        if (declarative.length) {
          for (const c of declarative) conflicts.push({ ...c, object: ref });
          views.set(ref, { live });
          return { ...base, action: 'update' };
        }
        // Only imperative edits (Update) own the fields: drift, which bootstrap exists to repair.
        force = true;
        base.reclaimed = found;
        next = await serverSideApply(raw, desiredFor(o, base), { dryRun: true, force, signal: opts.signal });
      }
      base.force = force;
      views.set(ref, { live, next });
      if (!live) return base;
      return { ...base, action: sameObject(live, next) ? 'none' : 'update' };
    } catch (e) {
      throw applyError(e, `planning ${ref}`, k8s.server);
    }
  });
  return { objects: planned, conflicts, views };
}

/** Per-object unified diffs (live -> after apply), Secret values shown as digests. */
export function renderDiffs(plan: ObjectPlanResult): string {
  const parts: string[] = [];
  for (const p of plan.objects) {
    if (p.action === 'none') continue;
    const v = plan.views.get(p.ref);
    const d = unifiedDiff(toYaml(v?.live), toYaml(v?.next), `live/${p.ref}`, `hivectl/${p.ref}`);
    if (d) parts.push(d);
    else if (p.action !== 'update') parts.push(`--- live/${p.ref}\n+++ hivectl/${p.ref}\n(${p.action})\n`);
  }
  return parts.join('');
}

export interface AppliedObject {
  ref: string;
  kind: string;
  action: ObjectAction;
}

/** Apply the planned changes phase by phase (APPLY_PHASES); objects of one phase in parallel. */
export async function applyPlanned(
  k8s: K8s,
  objects: KubernetesObject[],
  planned: PlannedObject[],
  opts: { forceConflicts: boolean; signal?: AbortSignal | undefined; timeoutMs: number },
): Promise<AppliedObject[]> {
  const raw = await rawKube(k8s);
  const byRef = new Map(planned.map((p) => [p.ref, p]));
  const applied: AppliedObject[] = [];
  const applyOne = async (o: KubernetesObject) => {
    const p = byRef.get(refKey(o)) ?? { action: 'create' as const, force: false, dropReplicas: false };
    try {
      await serverSideApply(raw, desiredFor(o, p), { force: p.force || opts.forceConflicts, signal: opts.signal });
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        throw new FieldConflictError(parseConflicts(e.causes, e.message).map((c) => ({ ...c, object: refKey(o) })));
      }
      throw applyError(e, `applying ${refKey(o)}`, k8s.server);
    }
    applied.push({ ref: refKey(o), kind: o.kind, action: p.action });
  };
  for (const tier of applyPhasesOf(objects)) {
    const todo = tier.filter((o) => (byRef.get(refKey(o))?.action ?? 'create') !== 'none');
    // Pods are refused until a new quota has status: the next phase (workloads) waits for it rather
    // than let ReplicaSets back off. The quotas go first and the wait runs while the rest of this
    // phase is applied, so it costs no extra time unless the quota controller is slower than that.
    const quotas = todo.filter((o) => o.kind === 'ResourceQuota');
    const rest = todo.filter((o) => o.kind !== 'ResourceQuota');
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    if (opts.signal?.aborted) stop.abort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const quotaReady = async () => {
      await pool(quotas, 16, applyOne);
      await Promise.all(
        quotas.map((q) =>
          waitForQuotaStatus(k8s, [{ namespace: q.metadata.namespace ?? '', name: q.metadata.name }], {
            signal: stop.signal,
            timeoutMs: Math.min(opts.timeoutMs, 30_000),
          }),
        ),
      );
    };
    try {
      await Promise.all(
        [quotaReady(), pool(rest, 16, applyOne)].map((p) =>
          p.catch((e: unknown) => {
            stop.abort(); // a failed phase must not leave the quota watch open
            throw e;
          }),
        ),
      );
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }
  return applied;
}
