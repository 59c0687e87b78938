// A coordination.k8s.io/v1 Lease used as a run lock: taken with optimistic concurrency
// (resourceVersion), renewed on a timer while the run lasts, deleted on release. The namespace is
// created when missing, because the first run on a fresh cluster (bootstrap) has nowhere else to put it.
import type { V1Lease } from '@kubernetes/client-node';
import { formatDuration } from '../core/duration.js';
import { RefusedError } from '../core/errors.js';
import type { LockHandle } from '../core/lock.js';
import { STATE_NAMESPACE_LABELS } from '../render/types.js';
import type { K8s } from './k8s.js';
import { apiStatus, applyError, type RawKube, rawKube } from './k8s-apply.js';

// Raw JSON requests, not the typed client: a drill takes and releases this lock six times (about five
// requests each, plus renewals), and the typed client's (de)serialisation costs twice the CPU a call.
const LEASES = (ns: string) => `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(ns)}/leases`;

export interface LeaseOptions {
  namespace: string;
  name: string;
  holder: string;
  durationSeconds: number;
  renewEveryMs: number;
  /** Take over a lease whose renewal has expired. */
  force: boolean;
  /** The current holder is this same run (a resume after a crash): take it back without --force-unlock. */
  sameRun(holder: string): boolean;
  now?: () => number;
}

/** The apiserver wants MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function timeMs(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const t = v instanceof Date ? v.getTime() : Date.parse(String(v));
  return Number.isNaN(t) ? undefined : t;
}

export async function ensureNamespace(k: K8s, name: string): Promise<boolean> {
  const raw = await rawKube(k);
  try {
    await raw.request('GET', `/api/v1/namespaces/${encodeURIComponent(name)}`);
    return false;
  } catch (e) {
    // 403: a namespaced identity (hivectl iam-policy) may not read Namespaces; its namespace exists, or
    // taking the Lease says it does not.
    if (apiStatus(e) === 403) return false;
    if (apiStatus(e) !== 404) throw applyError(e, `reading namespace ${name}`, k.server);
  }
  try {
    await raw.request('POST', '/api/v1/namespaces', {
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { ...STATE_NAMESPACE_LABELS } } },
    });
    return true;
  } catch (e) {
    if (apiStatus(e) === 409) return false;
    throw applyError(e, `creating namespace ${name} for the hivectl lock`, k.server);
  }
}

async function readLease(k: K8s, raw: RawKube, o: LeaseOptions): Promise<V1Lease | undefined> {
  try {
    return await raw.request<V1Lease>('GET', `${LEASES(o.namespace)}/${encodeURIComponent(o.name)}`);
  } catch (e) {
    if (apiStatus(e) === 404) return undefined;
    throw applyError(e, `reading the lock ${o.namespace}/${o.name}`, k.server);
  }
}

export interface LeaseInfo {
  holder?: string;
  acquiredMs?: number;
  renewedMs?: number;
  durationSeconds: number;
  expired: boolean;
}

export function leaseInfo(l: V1Lease, now: number): LeaseInfo {
  const durationSeconds = l.spec?.leaseDurationSeconds ?? 30;
  const acquiredMs = timeMs(l.spec?.acquireTime);
  const renewedMs = timeMs(l.spec?.renewTime) ?? acquiredMs;
  return {
    holder: l.spec?.holderIdentity || undefined,
    acquiredMs,
    renewedMs,
    durationSeconds,
    expired: renewedMs === undefined || renewedMs + durationSeconds * 1000 < now,
  };
}

export async function acquireLease(k: K8s, o: LeaseOptions): Promise<LockHandle> {
  const now = o.now ?? Date.now;
  const where = `${o.namespace}/${o.name}`;
  const raw = await rawKube(k);
  const leasePath = `${LEASES(o.namespace)}/${encodeURIComponent(o.name)}`;
  await ensureNamespace(k, o.namespace);
  let tookOverFrom: string | undefined;
  let current: V1Lease | undefined;
  for (let attempt = 0; ; attempt++) {
    if (attempt >= 5) throw new RefusedError(`could not take the lock ${where}: it keeps changing under us`);
    const existing = await readLease(k, raw, o);
    const t = now();
    if (!existing) {
      try {
        current = await raw.request<V1Lease>('POST', LEASES(o.namespace), {
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: o.name, namespace: o.namespace, labels: { 'app.kubernetes.io/managed-by': 'hivectl' } },
            spec: {
              holderIdentity: o.holder,
              leaseDurationSeconds: o.durationSeconds,
              acquireTime: microTime(t),
              renewTime: microTime(t),
              leaseTransitions: 0,
            },
          },
        });
        break;
      } catch (e) {
        if (apiStatus(e) === 409) continue; // someone created it between our read and create
        throw applyError(e, `taking the lock ${where}`, k.server);
      }
    }
    const info = leaseInfo(existing, t);
    if (info.holder && info.holder !== o.holder && !o.sameRun(info.holder)) {
      const held = info.acquiredMs !== undefined ? ` for ${formatDuration(t - info.acquiredMs)}` : '';
      const renewed = info.renewedMs !== undefined ? `, last renewed ${formatDuration(t - info.renewedMs)} ago` : '';
      if (!info.expired) {
        throw new RefusedError(`the lock ${where} is held by ${info.holder}${held}${renewed}`, {
          hint: 'wait for that run to finish; if its process is gone, the lock expires after its renewal stops and --force-unlock can take it',
          details: { holder: info.holder, namespace: o.namespace },
        });
      }
      if (!o.force) {
        throw new RefusedError(
          `the lock ${where} is held by ${info.holder}${held}, but its renewal expired${renewed}`,
          {
            hint: 'make sure that run is dead, then pass --force-unlock to take over the lock',
            details: { holder: info.holder, namespace: o.namespace },
          },
        );
      }
      tookOverFrom = info.holder;
    }
    const body: V1Lease = {
      ...existing,
      spec: {
        ...existing.spec,
        holderIdentity: o.holder,
        leaseDurationSeconds: o.durationSeconds,
        acquireTime: (info.holder === o.holder ? existing.spec?.acquireTime : microTime(t)) as never,
        renewTime: microTime(t) as never,
        leaseTransitions: (existing.spec?.leaseTransitions ?? 0) + (info.holder === o.holder ? 0 : 1),
      },
    };
    try {
      current = await raw.request<V1Lease>('PUT', leasePath, { body });
      break;
    } catch (e) {
      if (apiStatus(e) === 409) continue; // lost the race: look again
      throw applyError(e, `taking the lock ${where}`, k.server);
    }
  }

  let lastRenew = now();
  const lostCbs: Array<(e: Error) => void> = [];
  let lost = false;
  const lose = (why: string) => {
    if (lost) return;
    lost = true;
    clearInterval(timer);
    const err = new RefusedError(`lost the lock ${where}: ${why}`, {
      hint: 'another run took the lock; check `hivectl runs list` and the Lease holder before retrying',
    });
    for (const cb of lostCbs) cb(err);
  };
  let renewing = false;
  const renew = async () => {
    if (renewing || lost) return;
    renewing = true;
    try {
      const l = await readLease(k, raw, o);
      if (!l || l.spec?.holderIdentity !== o.holder) {
        lose(l?.spec?.holderIdentity ? `now held by ${l.spec.holderIdentity}` : 'the Lease was deleted');
        return;
      }
      const t = now();
      current = await raw.request<V1Lease>('PUT', leasePath, {
        body: { ...l, spec: { ...l.spec, renewTime: microTime(t) } },
      });
      lastRenew = t;
    } catch {
      // A blip is fine; failing to renew for a whole lease duration means someone may take it over.
      if (now() - lastRenew > o.durationSeconds * 1000) lose('could not renew it before it expired');
    } finally {
      renewing = false;
    }
  };
  let inFlight: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    inFlight = renew();
  }, o.renewEveryMs);
  timer.unref();

  return {
    holder: o.holder,
    namespace: o.namespace,
    ...(tookOverFrom ? { tookOverFrom } : {}),
    onLost(cb) {
      lostCbs.push(cb);
    },
    async release() {
      clearInterval(timer);
      await inFlight; // a renewal racing the delete would make its precondition fail
      if (lost) return;
      lost = true;
      const l = await readLease(k, raw, o);
      if (!l || l.spec?.holderIdentity !== o.holder) return;
      try {
        await raw.request('DELETE', leasePath, {
          body: {
            apiVersion: 'v1',
            kind: 'DeleteOptions',
            preconditions: { resourceVersion: l.metadata?.resourceVersion ?? current?.metadata?.resourceVersion },
          },
        });
      } catch (e) {
        if (apiStatus(e) === 404 || apiStatus(e) === 409) return;
        throw applyError(e, `releasing the lock ${where}`, k.server);
      }
    },
  };
}
