// Watch-based waits. A rollout is noticed the moment the apiserver reports it (no sleep-polling),
// and a timeout says which Deployments are not ready and why: pods that cannot be scheduled, images
// that cannot be pulled, ReplicaSets refused by a quota, a progress deadline exceeded.
import { AbortedError, StepError } from '../core/errors.js';
import type { K8s } from './k8s.js';
import { ApiError, type KObject, type RawKube, rawKube } from './k8s-apply.js';

export interface DeploymentRef {
  namespace: string;
  name: string;
}

export interface RolloutState extends DeploymentRef {
  ready: boolean;
  /** e.g. `2/3 updated, 3/3 ready, 3/3 available` */
  summary: string;
  /** Why it is not ready (filled on timeout). */
  reasons?: string[];
}

export interface WaitOptions {
  signal?: AbortSignal | undefined;
  timeoutMs: number;
  onProgress?: (states: RolloutState[]) => void;
}

interface DeploymentLike {
  metadata: { name: string; namespace?: string; generation?: number; resourceVersion?: string };
  spec?: { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

/** Ready = the controller saw the latest spec and every replica is updated, ready and available. */
export function deploymentReady(d: DeploymentLike): { ready: boolean; summary: string } {
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const observed = (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
  const updated = s.updatedReplicas ?? 0;
  const ready = s.readyReplicas ?? 0;
  const available = s.availableReplicas ?? 0;
  const total = s.replicas ?? 0;
  const ok = observed && updated === want && ready === want && available === want && total === want;
  const summary = observed
    ? `${updated}/${want} updated, ${ready}/${want} ready, ${available}/${want} available${total > want ? `, ${total - want} old pod(s) terminating` : ''}`
    : 'the controller has not seen the latest spec yet';
  return { ready: ok, summary };
}

function selectorString(m: Record<string, string> | undefined): string {
  return Object.entries(m ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** Why a Deployment is not ready: from its conditions and its pods' conditions and container states. */
export async function explainNotReady(raw: RawKube, d: DeploymentLike): Promise<string[]> {
  const reasons: string[] = [];
  for (const c of d.status?.conditions ?? []) {
    if (c.type === 'ReplicaFailure' && c.status === 'True')
      reasons.push(`ReplicaSet cannot create pods: ${c.message ?? c.reason}`);
    if (c.type === 'Progressing' && c.status === 'False')
      reasons.push(`${c.reason ?? 'not progressing'}: ${c.message ?? ''}`.trim());
  }
  const ns = d.metadata.namespace ?? '';
  try {
    const pods = await raw.request<{ items: KObject[] }>('GET', `/api/v1/namespaces/${ns}/pods`, {
      query: { labelSelector: selectorString(d.spec?.selector?.matchLabels) },
    });
    const seen = new Map<string, number>();
    for (const p of pods.items) {
      const st = (p.status ?? {}) as {
        phase?: string;
        conditions?: { type: string; status: string; reason?: string; message?: string }[];
        containerStatuses?: {
          name: string;
          ready?: boolean;
          state?: { waiting?: { reason?: string; message?: string } };
        }[];
      };
      const sched = st.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
      if (sched)
        seen.set(
          `pod pending (${sched.reason ?? 'Unschedulable'}): ${sched.message ?? ''}`,
          (seen.get(`pod pending (${sched.reason ?? 'Unschedulable'}): ${sched.message ?? ''}`) ?? 0) + 1,
        );
      for (const cs of st.containerStatuses ?? []) {
        const w = cs.state?.waiting;
        if (w?.reason && w.reason !== 'ContainerCreating') {
          const k = `container ${cs.name}: ${w.reason}${w.message ? `: ${w.message}` : ''}`;
          seen.set(k, (seen.get(k) ?? 0) + 1);
        }
      }
      const readyCond = st.conditions?.find((c) => c.type === 'Ready' && c.status === 'False');
      if (!sched && readyCond && !(st.containerStatuses ?? []).some((c) => c.state?.waiting)) {
        const k = readyCond.reason
          ? `pod not Ready: ${readyCond.reason}${readyCond.message ? ` (${readyCond.message})` : ''}`
          : 'pod not Ready although its containers are (a readiness gate, or its node was NotReady)';
        seen.set(k, (seen.get(k) ?? 0) + 1);
      }
    }
    for (const [k, n] of seen) reasons.push(n > 1 ? `${n} pods: ${k}` : k);
  } catch {
    /* the explanation is best effort: the timeout itself is the error */
  }
  if (reasons.length === 0) reasons.push('no failing condition reported yet (pods still starting?)');
  return reasons;
}

export class RolloutTimeoutError extends StepError {
  constructor(
    readonly states: RolloutState[],
    timeoutMs: number,
  ) {
    const bad = states.filter((s) => !s.ready);
    super(
      `rollout not ready after ${Math.round(timeoutMs / 1000)}s: ${bad
        .map(
          (s) =>
            `Deployment ${s.namespace}/${s.name} (${s.summary}${s.reasons?.length ? `; ${s.reasons.join('; ')}` : ''})`,
        )
        .join(' | ')}`,
      {
        hint: 'fix the cause named above (image, resources, quota, node selector) or raise --timeout',
        details: { notReady: bad },
      },
    );
    this.name = 'RolloutTimeoutError';
  }
}

/**
 * Resolve when every Deployment is rolled out (observedGeneration >= generation and updated == ready ==
 * available == spec.replicas). Lists once, then watches from that resourceVersion; re-lists if the
 * watch ends early. A missing Deployment counts as not ready.
 */
export async function waitForRollout(k: K8s, targets: DeploymentRef[], opts: WaitOptions): Promise<RolloutState[]> {
  if (targets.length === 0) return [];
  const raw = await rawKube(k);
  const key = (ns: string, n: string) => `${ns}/${n}`;
  const latest = new Map<string, DeploymentLike | undefined>(targets.map((t) => [key(t.namespace, t.name), undefined]));
  const states = (): RolloutState[] =>
    targets.map((t) => {
      const d = latest.get(key(t.namespace, t.name));
      if (!d) return { ...t, ready: false, summary: 'Deployment not found' };
      return { ...t, ...deploymentReady(d) };
    });
  const allReady = () => states().every((s) => s.ready);

  const ctl = new AbortController();
  const onAbort = () => ctl.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ctl.abort();
  }, opts.timeoutMs);
  let lastSummary = '';
  const report = () => {
    const st = states();
    const sum = st.map((s) => s.summary).join('|');
    if (sum !== lastSummary) {
      lastSummary = sum;
      opts.onProgress?.(st);
    }
  };
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });

  const namespaces = [...new Set(targets.map((t) => t.namespace))];
  const watchNamespace = async (ns: string) => {
    const names = targets.filter((t) => t.namespace === ns).map((t) => t.name);
    const fieldSelector = names.length === 1 ? `metadata.name=${names[0]}` : undefined;
    while (!ctl.signal.aborted) {
      let rv: string | undefined;
      try {
        const list = await raw.request<{ metadata: { resourceVersion: string }; items: DeploymentLike[] }>(
          'GET',
          `/apis/apps/v1/namespaces/${ns}/deployments`,
          { query: { fieldSelector }, signal: ctl.signal },
        );
        rv = list.metadata.resourceVersion;
        for (const n of names)
          latest.set(
            key(ns, n),
            list.items.find((d) => d.metadata.name === n),
          );
        report();
        if (allReady()) return resolveDone();
        await raw.stream(
          `/apis/apps/v1/namespaces/${ns}/deployments`,
          { watch: 1, resourceVersion: rv, allowWatchBookmarks: true, fieldSelector, timeoutSeconds: 300 },
          (ev) => {
            const e = ev as { type: string; object: DeploymentLike };
            if (e.type !== 'ADDED' && e.type !== 'MODIFIED' && e.type !== 'DELETED') return;
            const n = e.object.metadata.name;
            if (!names.includes(n)) return;
            latest.set(key(ns, n), e.type === 'DELETED' ? undefined : e.object);
            report();
            if (allReady()) {
              resolveDone();
            }
          },
          ctl.signal,
        );
        if (allReady()) return resolveDone();
      } catch (e) {
        if (ctl.signal.aborted) return;
        // 410 Gone (resourceVersion too old) or a dropped connection: list again.
        if (!(e instanceof ApiError && e.status === 410)) await new Promise((r) => setTimeout(r, 200));
      }
    }
  };

  const watchers = namespaces.map((ns) => watchNamespace(ns));
  try {
    await Promise.race([
      done,
      ctl.signal.aborted
        ? Promise.resolve()
        : new Promise<void>((r) => ctl.signal.addEventListener('abort', () => r(), { once: true })),
    ]);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  if (allReady()) {
    ctl.abort();
    await Promise.allSettled(watchers);
    return states();
  }
  ctl.abort();
  await Promise.allSettled(watchers);
  if (!timedOut) {
    const reason = opts.signal?.reason;
    throw reason instanceof Error ? reason : new AbortedError();
  }
  const st = states();
  for (const s of st) {
    if (s.ready) continue;
    const d = latest.get(key(s.namespace, s.name));
    s.reasons = d ? await explainNotReady(raw, d) : ['the Deployment does not exist'];
  }
  throw new RolloutTimeoutError(st, opts.timeoutMs);
}

/** Wait until each ResourceQuota has a computed status: pods are refused until it does. */
export async function waitForQuotaStatus(
  k: K8s,
  quotas: DeploymentRef[],
  opts: { signal?: AbortSignal | undefined; timeoutMs: number },
): Promise<void> {
  const raw = await rawKube(k);
  const deadline = Date.now() + opts.timeoutMs;
  for (const q of quotas) {
    const path = `/api/v1/namespaces/${q.namespace}/resourcequotas`;
    const ctl = new AbortController();
    const onAbort = () => ctl.abort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => ctl.abort(), Math.max(0, deadline - Date.now()));
    try {
      const list = await raw.request<{ metadata: { resourceVersion: string }; items: KObject[] }>('GET', path, {
        query: { fieldSelector: `metadata.name=${q.name}` },
      });
      const hasStatus = (o: KObject | undefined) => Boolean(o && (o.status as { hard?: unknown } | undefined)?.hard);
      if (hasStatus(list.items[0])) continue;
      await raw.stream(
        path,
        {
          watch: 1,
          resourceVersion: list.metadata.resourceVersion,
          fieldSelector: `metadata.name=${q.name}`,
          timeoutSeconds: 60,
        },
        (ev) => {
          if (hasStatus((ev as { object?: KObject }).object)) ctl.abort();
        },
        ctl.signal,
      );
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }
}
