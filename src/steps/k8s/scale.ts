// Scaling the agent workers: through the Deployment's scale subresource, never fighting an autoscaler
// that owns it (refuse, or pause it: KEDA `paused-replicas`, or the HPA's min = max), and taking idle
// agents first on scale-in (pod-deletion-cost from the agents' busy annotation, docs/agent-contract.md).
import {
  ApiError,
  getObject,
  type KObject,
  listObjects,
  mergePatch,
  type RawKube,
  rawKube,
} from '../../adapters/k8s-apply.js';
import { RefusedError, StepError, UsageError } from '../../core/errors.js';
import type { Ctx, Step } from '../../core/step.js';
import { parseCpuMillis, parseMemoryBytes } from '../../render/quantity.js';
import {
  agentState,
  DELETION_COST_ANNOTATION,
  deletionCost,
  desiredAgents,
  parseHistory,
  type ScalePolicy,
  stabilize,
} from './autoscale.js';

export const SCALE_MANAGER = 'hivectl-scale';
export const ANN_PAUSED_BOUNDS = 'hivectl.dev/paused-bounds';
export const ANN_HISTORY = 'hivectl.dev/autoscale-history';
export const KEDA_PAUSED = 'autoscaling.keda.sh/paused-replicas';
const SETTLE_MS = 1500;
const settle = () => new Promise((r) => setTimeout(r, SETTLE_MS));

export interface AgentsTarget {
  namespace: string;
  deployment: string;
}

export interface Autoscaler {
  kind: 'HorizontalPodAutoscaler' | 'ScaledObject';
  apiVersion: string;
  name: string;
  min: number;
  max: number;
  perAgent: number | undefined;
  scaleDownWindowSeconds: number | undefined;
  paused: boolean;
  /** HPA: ScalingActive=True means it has metrics and is actively scaling. */
  active: boolean;
  conditions: { type: string; status: string; reason?: string; message?: string }[];
  obj: KObject;
}

export interface AgentsState {
  deployment: KObject;
  replicas: number;
  ready: number;
  autoscaler: Autoscaler | undefined;
  pods: KObject[];
}

export function agentsTarget(ctx: Ctx): AgentsTarget {
  return { namespace: ctx.config.platform.namespaces.agents, deployment: ctx.config.platform.agents.deployment };
}

async function kedaVersion(raw: RawKube): Promise<string | undefined> {
  return raw.servedGroup('keda.sh', 'scaledobjects');
}

export async function readAgents(raw: RawKube, t: AgentsTarget): Promise<AgentsState> {
  const deployment = await getObject(raw, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: t.deployment, namespace: t.namespace },
  });
  if (!deployment) {
    throw new StepError(`Deployment ${t.namespace}/${t.deployment} not found`, {
      hint: 'run `hivectl bootstrap` first, or set platform.namespaces.agents / platform.agents.deployment',
    });
  }
  const spec = deployment.spec as { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
  const status = (deployment.status ?? {}) as { readyReplicas?: number };
  let autoscaler: Autoscaler | undefined;
  const hpas = await listObjects(raw, 'autoscaling/v2', 'HorizontalPodAutoscaler', { namespace: t.namespace });
  const keda = await kedaVersion(raw).catch(() => undefined);
  const sos = keda ? await listObjects(raw, keda, 'ScaledObject', { namespace: t.namespace }) : [];
  const so = sos.find((o) => (o.spec as { scaleTargetRef?: { name?: string } }).scaleTargetRef?.name === t.deployment);
  if (so && keda) {
    const s = so.spec as {
      minReplicaCount?: number;
      maxReplicaCount?: number;
      triggers?: { metadata?: Record<string, string> }[];
      advanced?: {
        horizontalPodAutoscalerConfig?: { behavior?: { scaleDown?: { stabilizationWindowSeconds?: number } } };
      };
    };
    autoscaler = {
      kind: 'ScaledObject',
      apiVersion: keda,
      name: so.metadata.name,
      min: s.minReplicaCount ?? 0,
      max: s.maxReplicaCount ?? 100,
      perAgent: Number(s.triggers?.[0]?.metadata?.listLength ?? Number.NaN) || undefined,
      scaleDownWindowSeconds:
        s.advanced?.horizontalPodAutoscalerConfig?.behavior?.scaleDown?.stabilizationWindowSeconds,
      paused: so.metadata.annotations?.[KEDA_PAUSED] !== undefined,
      active: true,
      conditions: (so.status as { conditions?: Autoscaler['conditions'] } | undefined)?.conditions ?? [],
      obj: so,
    };
  } else {
    const hpa = hpas.find(
      (o) => (o.spec as { scaleTargetRef?: { name?: string } }).scaleTargetRef?.name === t.deployment,
    );
    if (hpa) {
      const s = hpa.spec as {
        minReplicas?: number;
        maxReplicas: number;
        metrics?: { type: string; external?: { target?: { averageValue?: string | number } } }[];
        behavior?: { scaleDown?: { stabilizationWindowSeconds?: number } };
      };
      const conditions = (hpa.status as { conditions?: Autoscaler['conditions'] } | undefined)?.conditions ?? [];
      const avg = s.metrics?.find((m) => m.type === 'External')?.external?.target?.averageValue;
      autoscaler = {
        kind: 'HorizontalPodAutoscaler',
        apiVersion: 'autoscaling/v2',
        name: hpa.metadata.name,
        min: s.minReplicas ?? 1,
        max: s.maxReplicas,
        perAgent: avg === undefined ? undefined : Number(avg) || undefined,
        scaleDownWindowSeconds: s.behavior?.scaleDown?.stabilizationWindowSeconds,
        paused: hpa.metadata.annotations?.[ANN_PAUSED_BOUNDS] !== undefined,
        active: conditions.some((c) => c.type === 'ScalingActive' && c.status === 'True'),
        conditions,
        obj: hpa,
      };
    }
  }
  const sel = Object.entries(spec.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const pods = (await listObjects(raw, 'v1', 'Pod', { namespace: t.namespace, labelSelector: sel })).filter(
    (p) => !(p.metadata as { deletionTimestamp?: string }).deletionTimestamp,
  );
  return { deployment, replicas: spec.replicas ?? 1, ready: status.readyReplicas ?? 0, autoscaler, pods };
}

/** Mark idle agents cheapest to delete, busy ones dearest; returns how many pods were annotated. */
export async function setDeletionCosts(raw: RawKube, pods: KObject[]): Promise<number> {
  let n = 0;
  await Promise.all(
    pods.map(async (p) => {
      const cost = String(deletionCost(p.metadata.annotations));
      if (p.metadata.annotations?.[DELETION_COST_ANNOTATION] === cost) return;
      try {
        await mergePatch(raw, p, { metadata: { annotations: { [DELETION_COST_ANNOTATION]: cost } } }, SCALE_MANAGER);
        n++;
      } catch (e) {
        // A pod that went away since the list needs no cost.
        if (!(e instanceof ApiError && e.status === 404)) throw e;
      }
    }),
  );
  return n;
}

/** Scale through the scale subresource (what `kubectl scale` and autoscalers use). */
export async function scaleDeployment(
  raw: RawKube,
  t: AgentsTarget,
  replicas: number,
  pods?: KObject[],
  current?: number,
): Promise<void> {
  if (pods && current !== undefined && replicas < current) {
    const changed = await setDeletionCosts(raw, pods);
    // The ReplicaSet controller ranks pods from its informer cache, which lags the apiserver by a
    // moment: scaling in the same instant as the annotation lets it pick by stale costs (seen in the
    // sandbox: a busy agent removed). Give the cache a beat when costs changed.
    if (changed > 0) await settle();
  }
  await mergePatch(
    raw,
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: t.deployment, namespace: t.namespace } },
    { spec: { replicas } },
    SCALE_MANAGER,
    'scale',
  );
}

async function pauseAutoscaler(raw: RawKube, a: Autoscaler, replicas: number): Promise<void> {
  if (a.kind === 'ScaledObject') {
    await mergePatch(raw, a.obj, { metadata: { annotations: { [KEDA_PAUSED]: String(replicas) } } }, SCALE_MANAGER);
    return;
  }
  const bounds = a.paused
    ? a.obj.metadata.annotations?.[ANN_PAUSED_BOUNDS]
    : JSON.stringify({ min: a.min, max: a.max });
  await mergePatch(
    raw,
    a.obj,
    {
      metadata: { annotations: { [ANN_PAUSED_BOUNDS]: bounds } },
      spec: { minReplicas: Math.max(1, replicas), maxReplicas: Math.max(1, replicas) },
    },
    SCALE_MANAGER,
  );
}

export async function resumeAutoscaler(raw: RawKube, a: Autoscaler): Promise<boolean> {
  if (!a.paused) return false;
  if (a.kind === 'ScaledObject') {
    await mergePatch(raw, a.obj, { metadata: { annotations: { [KEDA_PAUSED]: null } } }, SCALE_MANAGER);
    return true;
  }
  const b = JSON.parse(a.obj.metadata.annotations?.[ANN_PAUSED_BOUNDS] ?? '{}') as { min?: number; max?: number };
  await mergePatch(
    raw,
    a.obj,
    {
      metadata: { annotations: { [ANN_PAUSED_BOUNDS]: null } },
      spec: { minReplicas: b.min ?? a.min, maxReplicas: b.max ?? a.max },
    },
    SCALE_MANAGER,
  );
  return true;
}

// ---------------------------------------------------------------- steps

export interface ScalePayload {
  from: number;
  to: number;
  pause: boolean;
}

export interface ScaleResult extends ScalePayload {
  pausedNow: boolean;
}

export function scaleReplicasStep(o: { replicas: number; pauseAutoscaler: boolean }): Step<ScalePayload, ScaleResult> {
  return {
    id: 'scale-agents',
    title: 'Scale the agent workers (scale subresource)',
    async plan(ctx) {
      const t = agentsTarget(ctx);
      const raw = await rawKube(await ctx.adapters.k8s());
      const st = await readAgents(raw, t);
      const a = st.autoscaler;
      if (a && !a.paused && !o.pauseAutoscaler) {
        throw new RefusedError(
          `${a.kind} ${t.namespace}/${a.name} owns the replica count of Deployment ${t.namespace}/${t.deployment} (min ${a.min}, max ${a.max}); scaling by hand would be undone or fought`,
          {
            hint: 'pass --pause-autoscaler to pause it (then `hivectl scale resume`), or change its bounds with `hivectl scale policy`',
          },
        );
      }
      const pause = Boolean(a && o.pauseAutoscaler);
      const changes = [] as { action: 'update'; target: string; detail: string }[];
      if (pause && a)
        changes.push({
          action: 'update',
          target: `${a.kind} ${t.namespace}/${a.name}`,
          detail:
            a.kind === 'ScaledObject' ? `pause at ${o.replicas} (${KEDA_PAUSED})` : `pause: min = max = ${o.replicas}`,
        });
      if (st.replicas !== o.replicas) {
        changes.push({
          action: 'update',
          target: `Deployment ${t.namespace}/${t.deployment}`,
          detail: `replicas ${st.replicas} -> ${o.replicas}${o.replicas < st.replicas ? ' (idle agents first)' : ''}`,
        });
      }
      return {
        summary:
          st.replicas === o.replicas && !pause
            ? `already at ${o.replicas} replicas`
            : `scale ${st.replicas} -> ${o.replicas}`,
        changes,
        payload: { from: st.replicas, to: o.replicas, pause },
        noop: changes.length === 0,
      };
    },
    async apply(ctx, p) {
      const t = agentsTarget(ctx);
      const raw = await rawKube(await ctx.adapters.k8s());
      const st = await readAgents(raw, t);
      let pausedNow = false;
      // Costs first: lowering a paused HPA's bounds makes the HPA controller scale in by itself, and it
      // must already find the idle agents marked.
      if (p.to < st.replicas && (await setDeletionCosts(raw, st.pods)) > 0) await settle();
      if (p.pause && st.autoscaler) {
        pausedNow = !st.autoscaler.paused;
        await pauseAutoscaler(raw, st.autoscaler, p.to);
      }
      await scaleDeployment(raw, t, p.to, st.pods, st.replicas);
      return { ...p, pausedNow };
    },
    async verify(ctx) {
      const { waitForRollout } = await import('../../adapters/k8s-watch.js');
      const t = agentsTarget(ctx);
      await waitForRollout(await ctx.adapters.k8s(), [{ namespace: t.namespace, name: t.deployment }], {
        signal: ctx.signal,
        timeoutMs: ctx.mode.timeoutMs || 300_000,
      });
    },
    async rollback(ctx, r) {
      const t = agentsTarget(ctx);
      const raw = await rawKube(await ctx.adapters.k8s());
      const st = await readAgents(raw, t);
      await scaleDeployment(raw, t, r.from, st.pods, st.replicas);
      if (r.pausedNow && st.autoscaler) await resumeAutoscaler(raw, st.autoscaler);
    },
  };
}

export function resumeStep(): Step<{ kind: string; name: string }, { resumed: boolean }> {
  return {
    id: 'resume-autoscaler',
    title: 'Hand the agents back to their autoscaler',
    async plan(ctx) {
      const t = agentsTarget(ctx);
      const st = await readAgents(await rawKube(await ctx.adapters.k8s()), t);
      const a = st.autoscaler;
      if (!a) {
        return {
          summary: 'no autoscaler targets the agents',
          changes: [],
          payload: { kind: '', name: '' },
          noop: true,
        };
      }
      return {
        summary: a.paused ? `resume ${a.kind} ${a.name}` : `${a.kind} ${a.name} is not paused`,
        changes: a.paused ? [{ action: 'update', target: `${a.kind} ${t.namespace}/${a.name}`, detail: 'resume' }] : [],
        payload: { kind: a.kind, name: a.name },
        noop: !a.paused,
      };
    },
    async apply(ctx) {
      const raw = await rawKube(await ctx.adapters.k8s());
      const st = await readAgents(raw, agentsTarget(ctx));
      return { resumed: st.autoscaler ? await resumeAutoscaler(raw, st.autoscaler) : false };
    },
  };
}

export interface PolicyInput {
  min: number;
  max: number;
  perAgent: number;
  scaleDownWindowSeconds: number;
}

/** How many agent pods the namespace's ResourceQuotas can hold (pods, requests/limits cpu and memory). */
export async function quotaCapacity(
  raw: RawKube,
  t: AgentsTarget,
  deployment: KObject,
): Promise<{ capacity: number; limitedBy: string } | undefined> {
  const quotas = await listObjects(raw, 'v1', 'ResourceQuota', { namespace: t.namespace });
  if (!quotas.length) return undefined;
  const containers =
    (
      deployment.spec as {
        template?: {
          spec?: {
            containers?: { resources?: { requests?: Record<string, string>; limits?: Record<string, string> } }[];
          };
        };
      }
    ).template?.spec?.containers ?? [];
  const per: Record<string, number> = { pods: 1 };
  for (const c of containers) {
    for (const [k, src] of [
      ['requests', c.resources?.requests],
      ['limits', c.resources?.limits],
    ] as const) {
      if (src?.cpu) per[`${k}.cpu`] = (per[`${k}.cpu`] ?? 0) + parseCpuMillis(src.cpu);
      if (src?.memory) per[`${k}.memory`] = (per[`${k}.memory`] ?? 0) + parseMemoryBytes(src.memory);
    }
  }
  let best: { capacity: number; limitedBy: string } | undefined;
  for (const q of quotas) {
    const hard = ((q.spec as { hard?: Record<string, string> }).hard ?? {}) as Record<string, string>;
    for (const [key, amount] of Object.entries(hard)) {
      const k = key === 'cpu' ? 'requests.cpu' : key === 'memory' ? 'requests.memory' : key;
      const need = per[k];
      if (!need) continue;
      const have = k.endsWith('.cpu')
        ? parseCpuMillis(amount)
        : k.endsWith('.memory')
          ? parseMemoryBytes(amount)
          : Number(amount);
      const cap = Math.floor(have / need);
      if (!best || cap < best.capacity)
        best = { capacity: cap, limitedBy: `ResourceQuota ${q.metadata.name} ${key}=${amount}` };
    }
  }
  return best;
}

export function scalePolicyStep(
  p: PolicyInput,
): Step<PolicyInput & { kind: string; name: string }, { updated: string }> {
  return {
    id: 'scale-policy',
    title: 'Write the agents autoscaling policy',
    async plan(ctx) {
      if (p.min > p.max)
        throw new UsageError(`--min ${p.min} is greater than --max ${p.max}`, { hint: 'pass --min <= --max' });
      const t = agentsTarget(ctx);
      const raw = await rawKube(await ctx.adapters.k8s());
      const st = await readAgents(raw, t);
      const a = st.autoscaler;
      if (!a) {
        throw new StepError(
          `no HorizontalPodAutoscaler or ScaledObject targets Deployment ${t.namespace}/${t.deployment}`,
          {
            hint: 'run `hivectl bootstrap` to create it',
          },
        );
      }
      const cap = await quotaCapacity(raw, t, st.deployment);
      // A rolling update needs room for its surge too (maxSurge 25%, at least 1).
      const surge = Math.max(1, Math.ceil(p.max * 0.25));
      if (cap && p.max + surge > cap.capacity) {
        throw new RefusedError(
          `--max ${p.max} does not fit: the namespace quota holds ${cap.capacity} agent pod(s) (limited by ${cap.limitedBy}), and ${p.max} agents need ${p.max + surge} with a rollout's surge`,
          {
            hint: `pass --max ${Math.max(0, cap.capacity - Math.max(1, Math.ceil(cap.capacity * 0.2)))} or less, or raise the quota (scaling.max in hivectl.yaml, then bootstrap)`,
          },
        );
      }
      const same =
        a.min === p.min &&
        a.max === p.max &&
        a.perAgent === p.perAgent &&
        a.scaleDownWindowSeconds === p.scaleDownWindowSeconds;
      return {
        summary: same
          ? 'policy unchanged'
          : `min ${p.min}, max ${p.max}, ${p.perAgent} tasks per agent, scale-down window ${p.scaleDownWindowSeconds}s`,
        changes: same
          ? []
          : [
              {
                action: 'update',
                target: `${a.kind} ${t.namespace}/${a.name}`,
                detail: `min ${a.min}->${p.min}, max ${a.max}->${p.max}, per-agent ${a.perAgent ?? '?'}->${p.perAgent}, window ${a.scaleDownWindowSeconds ?? '?'}s->${p.scaleDownWindowSeconds}s`,
              },
            ],
        payload: { ...p, kind: a.kind, name: a.name },
        noop: same,
      };
    },
    async apply(ctx, p) {
      const t = agentsTarget(ctx);
      const raw = await rawKube(await ctx.adapters.k8s());
      const st = await readAgents(raw, t);
      const a = st.autoscaler;
      if (!a) throw new StepError('the autoscaler disappeared since the plan');
      const scaleDown = { stabilizationWindowSeconds: p.scaleDownWindowSeconds };
      if (a.kind === 'ScaledObject') {
        const triggers = ((a.obj.spec as { triggers?: { metadata?: Record<string, string> }[] }).triggers ?? []).map(
          (tr) => ({
            ...tr,
            metadata: { ...(tr.metadata ?? {}), listLength: String(p.perAgent) },
          }),
        );
        await mergePatch(
          raw,
          a.obj,
          {
            spec: {
              minReplicaCount: p.min,
              maxReplicaCount: p.max,
              triggers,
              advanced: { horizontalPodAutoscalerConfig: { behavior: { scaleDown } } },
            },
          },
          SCALE_MANAGER,
        );
      } else {
        const metrics = (
          (a.obj.spec as { metrics?: { type: string; external?: { target?: Record<string, unknown> } }[] }).metrics ??
          []
        ).map((m) =>
          m.type === 'External' && m.external
            ? { ...m, external: { ...m.external, target: { type: 'AverageValue', averageValue: String(p.perAgent) } } }
            : m,
        );
        // While paused, the HPA's bounds are the pause; the new ones are what resume restores.
        const spec = a.paused
          ? { metrics, behavior: { scaleDown } }
          : { minReplicas: Math.max(1, p.min), maxReplicas: p.max, metrics, behavior: { scaleDown } };
        await mergePatch(
          raw,
          a.obj,
          {
            ...(a.paused
              ? {
                  metadata: {
                    annotations: { [ANN_PAUSED_BOUNDS]: JSON.stringify({ min: Math.max(1, p.min), max: p.max }) },
                  },
                }
              : {}),
            spec,
          },
          SCALE_MANAGER,
        );
      }
      return { updated: `${a.kind} ${t.namespace}/${a.name}` };
    },
  };
}

// ---------------------------------------------------------------- scale auto

export interface AutoDecision {
  at: string;
  depth: number;
  recommended: number;
  current: number;
  replicas: number;
  reason: string;
  policy: ScalePolicy;
  scaled: boolean;
}

/** One pass of `scale auto`: read depth, compute, stabilize, scale (idle first), persist history. */
export async function autoscaleOnce(
  raw: RawKube,
  t: AgentsTarget,
  o: { depth: number; fallback: ScalePolicy; windowMs: number; now?: number; dryRun?: boolean },
): Promise<AutoDecision> {
  const st = await readAgents(raw, t);
  const a = st.autoscaler;
  if (a && a.kind === 'ScaledObject') {
    throw new RefusedError(`KEDA ScaledObject ${t.namespace}/${a.name} scales the agents already`, {
      hint: '`scale auto` is for clusters without KEDA; use `hivectl scale policy` to tune KEDA',
    });
  }
  if (a?.active && !a.paused) {
    throw new RefusedError(
      `HorizontalPodAutoscaler ${t.namespace}/${a.name} has its metrics (ScalingActive=True) and scales the agents already`,
      {
        hint: '`scale auto` stands in for a missing queue-depth metric; use `hivectl scale policy` instead',
      },
    );
  }
  if (a?.paused) {
    throw new RefusedError(`the agents' autoscaler is paused by \`scale agents --pause-autoscaler\``, {
      hint: 'run `hivectl scale resume` first',
    });
  }
  const policy: ScalePolicy = {
    min: a?.min ?? o.fallback.min,
    max: a?.max ?? o.fallback.max,
    perAgent: a?.perAgent ?? o.fallback.perAgent,
  };
  const windowMs = a?.scaleDownWindowSeconds !== undefined ? a.scaleDownWindowSeconds * 1000 : o.windowMs;
  const now = o.now ?? Date.now();
  const recommended = desiredAgents(o.depth, policy);
  const s = stabilize(
    parseHistory(st.deployment.metadata.annotations?.[ANN_HISTORY]),
    now,
    recommended,
    st.replicas,
    windowMs,
  );
  const decision: AutoDecision = {
    at: new Date(now).toISOString(),
    depth: o.depth,
    recommended,
    current: st.replicas,
    replicas: s.replicas,
    reason: s.reason,
    policy,
    scaled: false,
  };
  if (o.dryRun) return decision;
  try {
    await mergePatch(
      raw,
      st.deployment,
      { metadata: { annotations: { [ANN_HISTORY]: JSON.stringify(s.history) } } },
      SCALE_MANAGER,
    );
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
  }
  if (s.replicas !== st.replicas) {
    await scaleDeployment(raw, t, s.replicas, st.pods, st.replicas);
    decision.scaled = true;
  }
  return decision;
}

export interface AgentsStatus {
  namespace: string;
  deployment: string;
  replicas: { desired: number; ready: number };
  queue: { key: string; depth: number | null; error?: string };
  autoscaler: {
    kind: string;
    name: string;
    min: number;
    max: number;
    perAgent: number | null;
    paused: boolean;
    conditions: { type: string; status: string; reason?: string; message?: string }[];
  } | null;
  agents: { busy: number; idle: number; unknown: number };
}

export function statusOf(st: AgentsState, t: AgentsTarget, queue: AgentsStatus['queue']): AgentsStatus {
  const counts = { busy: 0, idle: 0, unknown: 0 };
  for (const p of st.pods) counts[agentState(p.metadata.annotations)]++;
  const a = st.autoscaler;
  return {
    namespace: t.namespace,
    deployment: t.deployment,
    replicas: { desired: st.replicas, ready: st.ready },
    queue,
    autoscaler: a
      ? {
          kind: a.kind,
          name: a.name,
          min: a.min,
          max: a.max,
          perAgent: a.perAgent ?? null,
          paused: a.paused,
          conditions: a.conditions,
        }
      : null,
    agents: counts,
  };
}
