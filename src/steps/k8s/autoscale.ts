// Pure autoscaling logic for `hivectl scale auto` (unit-tested, no I/O): the queue-depth formula, a
// stabilization window that keeps replicas from flapping, and the deletion costs that make a
// ReplicaSet remove idle agents before busy ones.

export interface ScalePolicy {
  min: number;
  max: number;
  perAgent: number;
}

/** clamp(ceil(depth / perAgent), min, max) */
export function desiredAgents(depth: number, p: ScalePolicy): number {
  const raw = Math.ceil(Math.max(0, depth) / Math.max(1, p.perAgent));
  return Math.min(p.max, Math.max(p.min, raw));
}

/** One recommendation: at time t (ms), the formula wanted n agents. */
export type Recommendation = [t: number, n: number];

export interface Stabilized {
  replicas: number;
  /** Recommendations still inside the window, including this one: persist and pass back next time. */
  history: Recommendation[];
  reason: string;
}

/**
 * Scale up at once; scale down only to the highest recommendation seen within the window (the HPA's
 * scaleDown stabilization). A queue that drains and refills inside the window never scales in.
 */
export function stabilize(
  history: Recommendation[],
  now: number,
  recommended: number,
  current: number,
  windowMs: number,
): Stabilized {
  const kept = history.filter(([t]) => now - t < windowMs && t <= now);
  kept.push([now, recommended]);
  if (recommended >= current) {
    return {
      replicas: recommended,
      history: kept,
      reason: recommended > current ? `scale up to ${recommended}` : 'at the recommendation',
    };
  }
  const highest = Math.max(...kept.map(([, n]) => n));
  const replicas = Math.min(current, highest);
  return {
    replicas,
    history: kept,
    reason:
      replicas === current
        ? `hold at ${current}: ${highest} was recommended within the last ${Math.round(windowMs / 1000)}s`
        : `scale down to ${replicas} (highest recommendation within the window)`,
  };
}

export const BUSY_ANNOTATION = 'agent-hive.dev/busy';
export const DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';

/** Costs: the ReplicaSet deletes the lowest first. Idle agents 0, unknown 100, busy 1000. */
export function deletionCost(annotations: Record<string, string> | undefined): number {
  const v = annotations?.[BUSY_ANNOTATION];
  if (v === 'true') return 1000;
  if (v === 'false') return 0;
  return 100;
}

export function agentState(annotations: Record<string, string> | undefined): 'busy' | 'idle' | 'unknown' {
  const v = annotations?.[BUSY_ANNOTATION];
  return v === 'true' ? 'busy' : v === 'false' ? 'idle' : 'unknown';
}

/** Parse a persisted history annotation; garbage -> empty. */
export function parseHistory(s: string | undefined): Recommendation[] {
  if (!s) return [];
  try {
    const v = JSON.parse(s) as unknown;
    if (!Array.isArray(v)) return [];
    return v.filter(
      (x): x is Recommendation => Array.isArray(x) && typeof x[0] === 'number' && typeof x[1] === 'number',
    );
  } catch {
    return [];
  }
}
