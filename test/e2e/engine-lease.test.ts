// The Lease lock against the sandbox's apiserver, through the adapter directly: renewal, losing the
// lock to another holder, release, and two runs racing for it.
import { describe, expect, it } from 'vitest';
import { connectK8s } from '../../src/adapters/k8s.js';
import { acquireLease, type LeaseOptions } from '../../src/adapters/k8s-lease.js';
import { RefusedError } from '../../src/core/errors.js';
import { sandbox, uniqueName } from '../helpers/sandbox.js';

async function client() {
  const s = sandbox();
  return connectK8s({ kubeconfig: s.kubeconfig, context: s.context });
}

function opts(namespace: string, holder: string, extra: Partial<LeaseOptions> = {}): LeaseOptions {
  return {
    namespace,
    name: 'hivectl-lock',
    holder,
    durationSeconds: 30,
    renewEveryMs: 100,
    force: false,
    sameRun: () => false,
    ...extra,
  };
}

async function until<T>(f: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('k8s Lease lock', () => {
  it('creates the namespace, renews while held, refuses others, and releases', async () => {
    const k = await client();
    const ns = uniqueName('eng-lease');
    const lock = await acquireLease(k, opts(ns, 'ann@box/run-1'));
    const first = await k.coordination.readNamespacedLease({ name: 'hivectl-lock', namespace: ns });
    expect(first.spec?.holderIdentity).toBe('ann@box/run-1');
    expect(first.spec?.leaseDurationSeconds).toBe(30);
    // Created under Pod Security `restricted`, so a live `hivectl scan` does not flag hivectl's own namespace.
    const created = await k.core.readNamespace({ name: ns });
    expect(created.metadata?.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'app.kubernetes.io/managed-by': 'hivectl',
    });
    // Renewed on its timer: renewTime moves on.
    const t0 = String(first.spec?.renewTime);
    await until(async () => {
      const l = await k.coordination.readNamespacedLease({ name: 'hivectl-lock', namespace: ns });
      return String(l.spec?.renewTime) !== t0 ? true : undefined;
    });
    await expect(acquireLease(k, opts(ns, 'bob@ci/run-2', { force: true }))).rejects.toThrow(
      /held by ann@box\/run-1 for/,
    );
    await lock.release();
    await expect(k.coordination.readNamespacedLease({ name: 'hivectl-lock', namespace: ns })).rejects.toMatchObject({
      code: 404,
    });
    const next = await acquireLease(k, opts(ns, 'bob@ci/run-2'));
    await next.release();
  });

  it('reports the lock as lost when another holder takes it over', async () => {
    const k = await client();
    const ns = uniqueName('eng-lease-lost');
    const lock = await acquireLease(k, opts(ns, 'ann@box/run-1'));
    const lost = new Promise<Error>((resolve) => lock.onLost(resolve));
    const l = await k.coordination.readNamespacedLease({ name: 'hivectl-lock', namespace: ns });
    await k.coordination.replaceNamespacedLease({
      name: 'hivectl-lock',
      namespace: ns,
      body: { ...l, spec: { ...l.spec, holderIdentity: 'mallory@elsewhere/run-9' } },
    });
    const err = await lost;
    expect(err).toBeInstanceOf(RefusedError);
    expect(err.message).toMatch(/lost the lock .* now held by mallory@elsewhere\/run-9/);
    await lock.release(); // a no-op: it is not ours any more
    const still = await k.coordination.readNamespacedLease({ name: 'hivectl-lock', namespace: ns });
    expect(still.spec?.holderIdentity).toBe('mallory@elsewhere/run-9');
  });

  it('two runs racing for the lock: exactly one wins', async () => {
    const k = await client();
    const ns = uniqueName('eng-lease-race');
    const results = await Promise.allSettled([
      acquireLease(k, opts(ns, 'a@h/run-a', { renewEveryMs: 10_000 })),
      acquireLease(k, opts(ns, 'b@h/run-b', { renewEveryMs: 10_000 })),
      acquireLease(k, opts(ns, 'c@h/run-c', { renewEveryMs: 10_000 })),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(RefusedError);
    await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireLease>>>).value.release();
  });
});
