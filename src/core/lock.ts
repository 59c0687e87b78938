// The run lock: a mutating runbook holds a Kubernetes Lease (`hivectl-lock` in the target namespace)
// so that two operators or CI jobs cannot change the same system at once. The Lease code lives in
// src/adapters/k8s-lease.ts; this file is the engine's side of it.
import { hostname, userInfo } from 'node:os';
import type { Ctx } from './step.js';

export const LOCK_NAME = 'hivectl-lock';
/** A holder that stops renewing loses the lock after this long. */
export const LEASE_DURATION_S = 30;
export const RENEW_EVERY_MS = 10_000;

export interface LockHandle {
  holder: string;
  namespace: string;
  /** Took over an expired lock (--force-unlock) from this holder. */
  tookOverFrom?: string;
  /** Called when a renewal finds the lock taken by someone else, or cannot renew before expiry. */
  onLost(cb: (err: Error) => void): void;
  release(): Promise<void>;
}

export interface LockProvider {
  acquire(ctx: Ctx, opts: { holder: string; force: boolean }): Promise<LockHandle>;
}

export function currentUser(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    /* no passwd entry (some containers) */
  }
  return `${user}@${hostname()}`;
}

/** holder = user@host/run-id: the run id makes `hivectl resume` of the same run recognise its own lock. */
export function holderIdentity(runId: string, user = currentUser()): string {
  return `${user}/${runId}`;
}

export function holderRunId(holder: string | undefined): string | undefined {
  const m = holder ? /\/([^/]+)$/.exec(holder) : null;
  return m?.[1];
}

/** The Lease-backed lock on the target cluster, in `namespace` (created if missing). */
export function k8sLeaseLock(namespace: string): LockProvider {
  return {
    async acquire(ctx, opts) {
      const k = await ctx.adapters.k8s();
      const { acquireLease } = await import('../adapters/k8s-lease.js');
      return acquireLease(k, {
        namespace,
        name: LOCK_NAME,
        holder: opts.holder,
        durationSeconds: LEASE_DURATION_S,
        renewEveryMs: RENEW_EVERY_MS,
        force: opts.force,
        sameRun: (other) => holderRunId(other) === holderRunId(opts.holder),
      });
    },
  };
}
