// Step: server-side apply of the stack (field manager `hivectl`). Rolls back to the previous revision.
import type { K8s } from '../../adapters/k8s.js';
import { deleteObject, getObject, type KObject, rawKube } from '../../adapters/k8s-apply.js';
import { waitForRollout } from '../../adapters/k8s-watch.js';
import type { Change, Ctx, Step } from '../../core/step.js';
import { kindTier } from '../../render/stack.js';
import { type KubernetesObject, shortRef } from '../../render/types.js';
import { type AppliedObject, applyPlanned, FieldConflictError, planObjects } from './apply-plan.js';
import { ANN_VALUES_OMITTED, listRevisions, loadRevision } from './revisions.js';
import type { StackHandle } from './stack-source.js';

export interface ApplyPayload {
  create: number;
  update: number;
  unchanged: number;
}

export interface ObjectId {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export interface ApplyResult {
  applied: AppliedObject[];
  created: ObjectId[];
  /** The revision that was live before this run (what a rollback goes back to). */
  previousRevision: number | null;
  revisionNamespace: string;
  instance: string;
}

const idOf = (o: KubernetesObject): ObjectId => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
  name: o.metadata.name,
});

export function planChanges(
  stack: Awaited<ReturnType<StackHandle['plan']>>,
  skipped: { kind: string; name: string; namespace?: string; reason: string }[],
): Change[] {
  const changes: Change[] = stack.objects
    .filter((p) => p.action !== 'none')
    .map((p) => ({
      action: p.action === 'create' ? 'create' : 'update',
      target: p.ref,
      ...(p.reclaimed?.length
        ? { detail: `drift: reclaim ${p.reclaimed.map((r) => `${r.field} from "${r.manager}"`).join(', ')}` }
        : p.dropReplicas
          ? { detail: 'spec.replicas left to the autoscaler' }
          : {}),
    }));
  for (const s of skipped) {
    changes.push({
      action: 'skip',
      target: `${s.kind} ${s.namespace ? `${s.namespace}/` : ''}${s.name}`,
      detail: s.reason,
    });
  }
  return changes;
}

/** Secrets stored without values (revisions) cannot be re-applied: live values stay as they are. */
export function applicable(objects: KubernetesObject[]): KubernetesObject[] {
  return objects.filter((o) => !(o.kind === 'Secret' && o.metadata.annotations?.[ANN_VALUES_OMITTED] !== undefined));
}

async function k8sFor(ctx: Ctx, h: StackHandle): Promise<K8s> {
  return ctx.adapters.k8s(h.context);
}

export function applyObjectsStep(h: StackHandle): Step<ApplyPayload, ApplyResult> {
  return {
    id: 'apply-objects',
    title: 'Server-side apply the stack (field manager hivectl)',
    async plan(ctx) {
      const src = await h.source(ctx);
      const p = await h.plan(ctx);
      if (p.conflicts.length && !h.forceConflicts) throw new FieldConflictError(p.conflicts);
      const count = (a: string) => p.objects.filter((o) => o.action === a).length;
      const payload = { create: count('create'), update: count('update'), unchanged: count('none') };
      const n = payload.create + payload.update;
      return {
        summary: `${src.objects.length} objects: ${payload.create} to create, ${payload.update} to update, ${payload.unchanged} unchanged${src.skipped.length ? `, ${src.skipped.length} skipped` : ''}`,
        changes: planChanges(p, src.skipped),
        payload,
        noop: n === 0,
      };
    },
    async apply(ctx) {
      const src = await h.source(ctx);
      const p = await h.plan(ctx);
      const k8s = await k8sFor(ctx, h);
      const raw = await rawKube(k8s);
      const ns = ctx.config.cluster.namespace;
      const revs = await listRevisions(raw, ns, src.instance);
      const previousRevision = revs.filter((r) => r.status === 'deployed').at(-1)?.revision ?? null;
      const objects = applicable(src.objects);
      const applied = await applyPlanned(k8s, objects, p.objects, {
        forceConflicts: h.forceConflicts,
        signal: ctx.signal,
        timeoutMs: ctx.mode.timeoutMs || 300_000,
      });
      const createdRefs = new Set(applied.filter((a) => a.action === 'create').map((a) => a.ref));
      const created = objects.filter((o) => createdRefs.has(shortRef(o))).map(idOf);
      ctx.note('apply-objects', { applied: applied.length, created: created.length, previousRevision });
      h.reset();
      return { applied, created, previousRevision, revisionNamespace: ns, instance: src.instance };
    },
    async rollback(ctx, r) {
      const k8s = await k8sFor(ctx, h);
      const raw = await rawKube(k8s);
      const prev =
        r.previousRevision === null
          ? undefined
          : await loadRevision(raw, r.revisionNamespace, r.instance, r.previousRevision);
      const keep = new Set((prev ?? []).map((o) => shortRef(o)));
      if (prev) {
        ctx.io.warn(`rolling back to bootstrap revision ${r.previousRevision}`);
        const objs = applicable(prev);
        // Reverting our own change: take the fields back whoever touched them since.
        const plan = await planObjects(k8s, objs, { forceConflicts: true, signal: undefined });
        await applyPlanned(k8s, objs, plan.objects, {
          forceConflicts: true,
          signal: undefined,
          timeoutMs: ctx.mode.timeoutMs || 300_000,
        });
      }
      // Objects this run created that the previous revision did not have: remove them, workloads first.
      const extra = r.created
        .filter((c) => !keep.has(`${c.kind} ${c.namespace ? `${c.namespace}/` : ''}${c.name}`))
        .sort((a, b) => kindTier(b.kind) - kindTier(a.kind));
      for (const c of extra) {
        const meta = { name: c.name, ...(c.namespace ? { namespace: c.namespace } : {}) };
        const ref = { apiVersion: c.apiVersion, kind: c.kind, metadata: meta };
        if (await getObject(raw, ref)) await deleteObject(raw, ref);
      }
      if (prev) {
        const deps = applicable(prev)
          .filter((o) => o.kind === 'Deployment')
          .map((o) => ({ namespace: o.metadata.namespace ?? '', name: o.metadata.name }));
        await waitForRollout(k8s, deps, { timeoutMs: ctx.mode.timeoutMs || 300_000 });
        ctx.io.info(`rolled back to revision ${r.previousRevision}: ${deps.length} Deployment(s) ready`);
      }
      h.reset();
    },
  };
}

export type { KObject };
