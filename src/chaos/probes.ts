// Steady-state probes: each returns ok + the value it saw, never throws for a failed expectation
// (a probe that cannot run at all is reported as not ok with its error).

import type { K8s } from '../adapters/k8s.js';
import { getDeployment, listPods } from '../adapters/k8s-chaos.js';
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
}

async function probeOnce(env: ProbeEnv, p: Probe): Promise<Omit<ProbeResult, 'name' | 'type' | 'at'>> {
  switch (p.type) {
    case 'ready-replicas': {
      const d = await getDeployment(env.k, p.namespace, p.deployment);
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
