// Prune: delete objects this bootstrap instance owns (managed-by=hivectl, part-of=agent-hive,
// instance=<instance>) that the templates no longer render. Only the kinds hivectl renders are
// listed, so nothing it never created can match.
import { ApiError, deleteObject, type KObject, listObjects, type RawKube } from '../../adapters/k8s-apply.js';
import { kindTier } from '../../render/stack.js';
import { type Capabilities, type KubernetesObject, ownerSelector, shortRef } from '../../render/types.js';

export interface PrunableKind {
  apiVersion: string;
  kind: string;
}

export const CORE_KINDS: PrunableKind[] = [
  { apiVersion: 'v1', kind: 'Namespace' },
  { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass' },
  { apiVersion: 'v1', kind: 'ResourceQuota' },
  { apiVersion: 'v1', kind: 'LimitRange' },
  { apiVersion: 'v1', kind: 'ServiceAccount' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'v1', kind: 'Secret' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' },
];

export function prunableKinds(caps: Capabilities): PrunableKind[] {
  const extra: PrunableKind[] = [];
  if (caps.externalSecrets) extra.push({ apiVersion: caps.externalSecrets, kind: 'ExternalSecret' });
  if (caps.certManager) extra.push({ apiVersion: caps.certManager, kind: 'Certificate' });
  if (caps.serviceMonitor) extra.push({ apiVersion: caps.serviceMonitor, kind: 'ServiceMonitor' });
  if (caps.keda) extra.push({ apiVersion: caps.keda, kind: 'ScaledObject' });
  return [...CORE_KINDS, ...extra];
}

export interface PruneCandidate {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  ref: string;
}

/** Owned objects that are not in `keep`, in delete order (workloads first, namespaces last). */
export async function findPrunable(
  raw: RawKube,
  instance: string,
  keep: KubernetesObject[],
  kinds: PrunableKind[],
  alsoKeep: { kind: string; name: string; namespace?: string }[] = [],
): Promise<PruneCandidate[]> {
  const kept = new Set([
    ...keep.map((o) => shortRef(o)),
    ...alsoKeep.map((o) =>
      shortRef({ kind: o.kind, metadata: { name: o.name, ...(o.namespace ? { namespace: o.namespace } : {}) } }),
    ),
  ]);
  // Namespaced kinds are listed in the namespaces the stack renders into, not cluster-wide: the same
  // objects, and an identity with namespaced grants only (`hivectl iam-policy`) may prune.
  const namespaces = [...new Set(keep.map((o) => o.metadata.namespace).filter((n): n is string => !!n))];
  const found = await Promise.all(
    kinds.map(async (k) => {
      try {
        const labelSelector = ownerSelector(instance);
        if (!namespaces.length || !(await raw.resource(k.apiVersion, k.kind)).namespaced)
          return await listObjects(raw, k.apiVersion, k.kind, { labelSelector });
        const per = await Promise.all(
          namespaces.map((namespace) => listObjects(raw, k.apiVersion, k.kind, { namespace, labelSelector })),
        );
        return per.flat();
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return [] as KObject[];
        throw e;
      }
    }),
  );
  const out: PruneCandidate[] = [];
  for (const o of found.flat()) {
    // Objects being deleted already (a namespace terminating) are not ours to delete again.
    if ((o.metadata as { deletionTimestamp?: string }).deletionTimestamp) continue;
    const ref = shortRef(o as unknown as KubernetesObject);
    if (kept.has(ref)) continue;
    out.push({
      apiVersion: o.apiVersion,
      kind: o.kind,
      ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
      name: o.metadata.name,
      ref,
    });
  }
  return out.sort((a, b) => kindTier(b.kind) - kindTier(a.kind));
}

export async function deleteCandidates(raw: RawKube, list: PruneCandidate[]): Promise<string[]> {
  const deleted: string[] = [];
  for (const c of list) {
    const meta = { name: c.name, ...(c.namespace ? { namespace: c.namespace } : {}) };
    if (await deleteObject(raw, { apiVersion: c.apiVersion, kind: c.kind, metadata: meta })) deleted.push(c.ref);
  }
  return deleted;
}
