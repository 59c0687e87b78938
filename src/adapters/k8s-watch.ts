// Watch-based waits. A rollout is noticed the moment the apiserver reports it (no sleep-polling),
// and a timeout says which Deployments are not ready and why: pods that cannot be scheduled, images
// that cannot be pulled, ReplicaSets refused by a quota, a progress deadline exceeded.
import { onAbort } from '../core/abort.js';
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
  const unlinkAbort = onAbort(opts.signal, () => ctl.abort());
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
    unlinkAbort();
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
    const unlinkAbort = onAbort(opts.signal, () => ctl.abort());
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
      unlinkAbort();
    }
  }
}

/** The latest state of one watched object. */
export interface ObjectState<T> {
  /** The last list/watch answered and the watch runs: `object` is what the server stores now. */
  synced: boolean;
  /** undefined: the object does not exist. */
  object?: T | undefined;
  /** Why the watch is not in sync (it is being re-established). */
  error?: string | undefined;
}

export interface ObjectWatch<T> {
  current(): ObjectState<T>;
  /** Resolves once the first list answered or failed (then current() says why), or the watch was closed. */
  ready: Promise<void>;
  /** Called after every change of state (the object changed, appeared, went away, or sync was lost). */
  onChange(cb: (s: ObjectState<T>) => void): void;
  close(): Promise<void>;
}

/**
 * Keep one named object current in memory: list it (by field selector), then watch from that
 * resourceVersion with bookmarks. A watch that ends is resumed from the last resourceVersion seen; a
 * 410 Gone re-lists, and an error (a dropped connection, a watch refused) marks the state unsynced
 * and re-lists after a pause, so a reader never mistakes a stale object for the current one. `collection` is the URL
 * path of the object's collection, e.g. /apis/apps/v1/namespaces/NS/deployments.
 */
export function watchObject<T extends { metadata?: { name?: string; resourceVersion?: string } }>(
  k: K8s,
  collection: string,
  name: string,
  opts: { signal?: AbortSignal | undefined; retryMs?: number } = {},
): ObjectWatch<T> {
  const ctl = new AbortController();
  const unlinkAbort = onAbort(opts.signal, () => ctl.abort());
  let state: ObjectState<T> = { synced: false };
  const listeners: ((s: ObjectState<T>) => void)[] = [];
  const set = (s: ObjectState<T>) => {
    state = s;
    for (const l of listeners) l(s);
  };
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => {
    resolveReady = r;
  });
  ctl.signal.addEventListener('abort', () => resolveReady(), { once: true });
  const fieldSelector = `metadata.name=${name}`;
  const retryMs = opts.retryMs ?? 500;

  const loop = async () => {
    const raw = await rawKube(k);
    let rv: string | undefined;
    // Consecutive failures back off (0.5 s doubling to 5 s): a watch refused (403) must not spin.
    let delay = retryMs;
    while (!ctl.signal.aborted) {
      try {
        if (!rv) {
          const list = await raw.request<{ metadata: { resourceVersion: string }; items: T[] }>('GET', collection, {
            query: { fieldSelector },
            signal: ctl.signal,
          });
          rv = list.metadata.resourceVersion;
          set({ synced: true, object: list.items[0] });
          resolveReady();
        }
        // One controller per watch request, so that an ERROR event can end just this request.
        const req = new AbortController();
        const stop = () => req.abort();
        ctl.signal.addEventListener('abort', stop, { once: true });
        let gone = false;
        const started = Date.now();
        try {
          await raw.stream(
            collection,
            { watch: 1, resourceVersion: rv, allowWatchBookmarks: true, fieldSelector, timeoutSeconds: 300 },
            (ev) => {
              const e = ev as { type: string; object?: T & { code?: number } };
              const v = e.object?.metadata?.resourceVersion;
              if (e.type === 'ERROR') {
                // Usually 410 Gone: the resourceVersion is too old to resume from.
                gone = true;
                req.abort();
                return;
              }
              if (v) rv = v;
              delay = retryMs;
              if (e.type === 'ADDED' || e.type === 'MODIFIED') set({ synced: true, object: e.object });
              else if (e.type === 'DELETED') set({ synced: true, object: undefined });
            },
            req.signal,
          );
        } finally {
          ctl.signal.removeEventListener('abort', stop);
        }
        if (gone) rv = undefined;
        // A server that closes watches at once must not make this a busy loop.
        else if (Date.now() - started < 1000) await pause(retryMs);
      } catch (e) {
        if (ctl.signal.aborted) return;
        rv = undefined;
        set({ synced: false, object: state.object, error: e instanceof Error ? e.message : String(e) });
        resolveReady();
        await pause(delay);
        delay = Math.min(delay * 2, 5000);
      }
    }
  };
  const pause = (ms: number) =>
    new Promise<void>((r) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        ctl.signal.removeEventListener('abort', done);
        r();
      }
      ctl.signal.addEventListener('abort', done, { once: true });
    });
  const running = loop().catch((e: unknown) =>
    set({ synced: false, error: e instanceof Error ? e.message : String(e) }),
  );
  return {
    current: () => state,
    ready,
    onChange(cb) {
      listeners.push(cb);
    },
    async close() {
      ctl.abort();
      unlinkAbort();
      await running;
    },
  };
}
