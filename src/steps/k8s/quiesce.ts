// Quiesce: scale Deployments to 0, remembering their replicas, and wait until their pods are gone;
// unquiesce scales them back to what was remembered and waits until Ready. Used by restore and by
// failover. The remembered replicas are the step's result (journalled), so `hivectl resume` and the
// rollback both know what to restore even after a crash.

import type { K8s } from '../../adapters/k8s.js';
import { k8sError } from '../../adapters/k8s.js';
import { StepError } from '../../core/errors.js';
import type { Ctx, Step } from '../../core/step.js';

export interface DeploymentRef {
  namespace: string;
  name: string;
}

export interface QuiesceResult {
  replicas: { namespace: string; name: string; replicas: number }[];
}

async function scale(kube: K8s, d: DeploymentRef, replicas: number): Promise<void> {
  try {
    // client-node sends patches as JSON Patch by default.
    await kube.apps.patchNamespacedDeploymentScale({
      name: d.name,
      namespace: d.namespace,
      body: [{ op: 'replace', path: '/spec/replicas', value: replicas }],
    });
  } catch (e) {
    throw k8sError(e, `scale Deployment ${d.namespace}/${d.name} to ${replicas}`, kube.server);
  }
}

async function currentReplicas(kube: K8s, d: DeploymentRef): Promise<number | undefined> {
  try {
    const dep = await kube.apps.readNamespacedDeployment({ name: d.name, namespace: d.namespace });
    return dep.spec?.replicas ?? 1;
  } catch (e) {
    if ((e as { code?: number }).code === 404) return undefined;
    throw k8sError(e, `read Deployment ${d.namespace}/${d.name}`, kube.server);
  }
}

/** Poll until cond() holds (1 s period is enough for humans and cheap for the API), honouring signal. */
async function waitFor(ctx: Ctx, what: string, cond: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ctx.mode.timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (ctx.signal.aborted) throw new StepError(`${what}: aborted`);
    if (Date.now() > deadline)
      throw new StepError(`${what}: timed out`, { hint: 'raise --timeout, or look at `kubectl get pods`' });
    await new Promise<void>((r) => {
      const t = setTimeout(r, 250);
      ctx.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          r();
        },
        { once: true },
      );
    });
  }
}

async function status(kube: K8s, d: DeploymentRef) {
  const dep = await kube.apps.readNamespacedDeployment({ name: d.name, namespace: d.namespace });
  return {
    spec: dep.spec?.replicas ?? 0,
    current: dep.status?.replicas ?? 0,
    ready: dep.status?.readyReplicas ?? 0,
    updated: dep.status?.updatedReplicas ?? 0,
  };
}

export function quiesceStep(o: {
  id?: string;
  deployments: (ctx: Ctx) => DeploymentRef[];
}): Step<QuiesceResult, QuiesceResult> {
  return {
    id: o.id ?? 'quiesce',
    title: 'Quiesce: scale the API and agents to 0',
    destructive: true,
    async plan(ctx) {
      const kube = await ctx.adapters.k8s();
      const replicas: QuiesceResult['replicas'] = [];
      for (const d of o.deployments(ctx)) {
        const n = await currentReplicas(kube, d);
        if (n !== undefined) replicas.push({ ...d, replicas: n });
      }
      return {
        summary: replicas.map((r) => `${r.namespace}/${r.name} ${r.replicas}->0`).join(', ') || 'nothing to scale',
        changes: replicas.map((r) => ({
          action: 'update' as const,
          target: `apps/v1 Deployment ${r.namespace}/${r.name}`,
          detail: `replicas ${r.replicas} -> 0`,
        })),
        payload: { replicas },
        ...(replicas.length === 0 ? { noop: true } : {}),
      };
    },
    async apply(ctx, p) {
      const kube = await ctx.adapters.k8s();
      // Re-read: on a re-run after a crash the Deployment may already be at 0; keep the first memory.
      const prior = ctx.results.get(o.id ?? 'quiesce') as QuiesceResult | undefined;
      const replicas = prior?.replicas ?? p.replicas;
      for (const r of replicas) await scale(kube, r, 0);
      return { replicas };
    },
    async verify(ctx, r) {
      const kube = await ctx.adapters.k8s();
      for (const d of r.replicas)
        await waitFor(
          ctx,
          `wait for ${d.namespace}/${d.name} to scale to 0`,
          async () => (await status(kube, d)).current === 0,
        );
    },
    async rollback(ctx, r) {
      const kube = await ctx.adapters.k8s();
      for (const d of r.replicas) await scale(kube, d, d.replicas);
    },
  };
}

/** Scale back what `quiesceStep` (by its id) remembered, optionally only some namespaces, and wait for Ready. */
export function unquiesceStep(o: {
  id?: string;
  quiesceStepId?: string;
  only?: (ctx: Ctx) => string[];
}): Step<QuiesceResult, QuiesceResult> {
  const qid = o.quiesceStepId ?? 'quiesce';
  return {
    id: o.id ?? 'unquiesce',
    title: 'Unquiesce: scale back to the remembered replicas',
    async plan(_ctx) {
      // Plans must not depend on earlier results: the replicas come from the quiesce step's own plan
      // in the plan table; apply reads the remembered values from ctx.results.
      return {
        summary: 'scale back to the replicas remembered by quiesce',
        changes: [{ action: 'update', target: 'the Deployments quiesced above', detail: 'replicas restored' }],
        payload: { replicas: [] },
      };
    },
    async apply(ctx) {
      // No result: quiesce had nothing to scale (no such Deployments), so there is nothing to bring back.
      const q = (ctx.results.get(qid) as QuiesceResult | undefined) ?? { replicas: [] };
      const only = o.only?.(ctx);
      const sel = q.replicas.filter((r) => !only || only.includes(r.namespace));
      const kube = await ctx.adapters.k8s();
      for (const r of sel) await scale(kube, r, r.replicas);
      return { replicas: sel };
    },
    async verify(ctx, r) {
      const kube = await ctx.adapters.k8s();
      for (const d of r.replicas)
        await waitFor(ctx, `wait for ${d.namespace}/${d.name} to be Ready`, async () => {
          const s = await status(kube, d);
          return s.ready >= d.replicas && s.updated >= d.replicas;
        });
    },
    async rollback(ctx, r) {
      const kube = await ctx.adapters.k8s();
      for (const d of r.replicas) await scale(kube, d, 0);
    },
  };
}
