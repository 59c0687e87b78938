// Steady-state probes: each returns ok + the value it saw, never throws for a failed expectation
// (a probe that cannot run at all is reported as not ok with its error).

import type { K8s } from '../adapters/k8s.js';
import { getDeployment, listPods } from '../adapters/k8s-chaos.js';
import type { PromSample } from '../adapters/prometheus.js';
import { UsageError } from '../core/errors.js';
import { type Probe, probeName } from './schema.js';

export interface ProbeResult {
  name: string;
  type: Probe['type'];
  ok: boolean;
  value?: number | string;
  detail?: string;
  at: string;
}

export interface ProbeEnv {
  k: K8s;
  redisUrl?: string | undefined;
  queueKey: string;
  signal: AbortSignal;
  /** Runs a command; resolves to its exit code (the step passes the exec adapter in). */
  runCommand: (argv: string[], signal: AbortSignal) => Promise<number>;
  /** LLEN of a Redis list. */
  queueLength: (url: string, key: string, signal: AbortSignal) => Promise<number>;
  /**
   * Deployments kept current by a watch (the observe step): the ready-replicas probe reads them from
   * memory instead of a GET. Absent, undefined for a Deployment, or out of sync: the probe GETs it.
   */
  watchedDeployment?: (namespace: string, name: string) => Watched<DeploymentView> | undefined;
  /** Instant query against the configured Prometheus; undefined when prometheus.url is not set. */
  promQuery?: ((query: string, signal: AbortSignal) => Promise<PromSample[]>) | undefined;
  /** Reads a Deployment when no synced watch has it (default: a GET through the adapter). */
  readDeployment?: (namespace: string, name: string) => Promise<DeploymentView | undefined>;
}

/** The latest state of a watched object: synced (object undefined = it does not exist), or why not. */
export interface Watched<T> {
  synced: boolean;
  object?: T | undefined;
  error?: string | undefined;
}

export interface DeploymentView {
  metadata: { name: string; namespace?: string };
  status?: { readyReplicas?: number };
}

/** Probes whose source can be watched (read from memory between events); the rest are polled. */
export function isWatchable(p: Probe): p is Extract<Probe, { type: 'ready-replicas' }> {
  return p.type === 'ready-replicas';
}

/** A prometheus probe needs prometheus.url: refuse the experiment (exit 2) before anything runs. */
export function requirePrometheus(probes: Probe[], url: string | undefined): void {
  if (url || !probes.some((p) => p.type === 'prometheus')) return;
  throw new UsageError(
    'the experiment has a prometheus probe but no Prometheus is configured: set prometheus.url in hivectl.yaml (or HIVECTL_PROMETHEUS_URL)',
    { hint: 'point prometheus.url at the Prometheus HTTP API, e.g. http://prometheus.monitoring:9090' },
  );
}

/** Judge an instant query's answer: exactly one sample, within the probe's bounds. */
export function judgePrometheus(
  p: Extract<Probe, { type: 'prometheus' }>,
  samples: PromSample[],
): Omit<ProbeResult, 'name' | 'type' | 'at'> {
  if (samples.length === 0)
    return {
      ok: false,
      detail:
        'the query returned no sample (a missing series is not 0: is the metric scraped? wrap it in sum() or absent())',
    };
  if (samples.length > 1) {
    const shown = samples
      .slice(0, 3)
      .map(
        (s) =>
          `{${Object.entries(s.metric)
            .map(([k, v]) => `${k}="${v}"`)
            .join(', ')}}`,
      )
      .join(', ');
    return {
      ok: false,
      detail: `the query returned ${samples.length} series (${shown}${samples.length > 3 ? ', ...' : ''}): aggregate it to one, e.g. with sum() or max()`,
    };
  }
  const v = (samples[0] as PromSample).value;
  if (Number.isNaN(v)) return { ok: false, value: 'NaN', detail: 'the query returned NaN' };
  const ok = (p.min === undefined || v >= p.min) && (p.max === undefined || v <= p.max);
  return { ok, value: v };
}

async function probeOnce(env: ProbeEnv, p: Probe): Promise<Omit<ProbeResult, 'name' | 'type' | 'at'>> {
  switch (p.type) {
    case 'ready-replicas': {
      // A watch out of sync (being re-established, or refused) is never read: a GET answers instead.
      const w = env.watchedDeployment?.(p.namespace, p.deployment);
      const d = w?.synced
        ? w.object
        : await (env.readDeployment ?? ((ns, name) => getDeployment(env.k, ns, name)))(p.namespace, p.deployment);
      if (!d) return { ok: false, detail: `deployment ${p.namespace}/${p.deployment} not found` };
      const ready = d.status?.readyReplicas ?? 0;
      return { ok: ready >= p.min, value: ready };
    }
    case 'queue-depth': {
      if (!env.redisUrl) return { ok: false, detail: 'no Redis configured (redis.url)' };
      const n = await env.queueLength(env.redisUrl, p.key ?? env.queueKey, env.signal);
      return { ok: n <= p.max, value: n };
    }
    case 'pod-restarts': {
      const pods = await listPods(env.k, p.namespace, p.selector);
      const n = pods.reduce(
        (s, pod) => s + (pod.status?.containerStatuses ?? []).reduce((a, c) => a + (c.restartCount ?? 0), 0),
        0,
      );
      return { ok: n <= p.max, value: n };
    }
    case 'command': {
      const code = await env.runCommand(p.command, env.signal);
      return { ok: code === p.exitCode, value: code };
    }
    case 'prometheus': {
      if (!env.promQuery) return { ok: false, detail: 'no Prometheus configured: set prometheus.url' };
      return judgePrometheus(p, await env.promQuery(p.query, env.signal));
    }
  }
}

export async function runProbe(env: ProbeEnv, p: Probe): Promise<ProbeResult> {
  const at = new Date().toISOString();
  try {
    return { name: probeName(p), type: p.type, at, ...(await probeOnce(env, p)) };
  } catch (e) {
    return { name: probeName(p), type: p.type, at, ok: false, detail: (e as Error).message };
  }
}

export async function runProbes(env: ProbeEnv, probes: Probe[]): Promise<ProbeResult[]> {
  return Promise.all(probes.map((p) => runProbe(env, p)));
}
