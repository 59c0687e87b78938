// Builds the in-memory inventory from Kubernetes objects (a live LIST or rendered manifests).
// Controllers are scanned through their pod templates; pods and ReplicaSets/Jobs that a
// controller owns are dropped, so one Deployment yields one workload, not one per replica.
import type { K8sInventory, KObject, Workload } from './types.js';

const TEMPLATE_KINDS = new Set([
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'Job',
  'ReplicationController',
]);

export function targetOf(o: KObject): string {
  const kind = o.kind ?? 'Object';
  const ns = o.metadata?.namespace;
  const name = o.metadata?.name ?? '(unnamed)';
  return ns ? `${kind}/${ns}/${name}` : `${kind}/${name}`;
}

const SCANNED_OWNERS = new Set([...TEMPLATE_KINDS, 'CronJob']);

/** Owned by a controller whose template is scanned itself (not, say, a Node for a static pod). */
function ownedByController(o: KObject): boolean {
  return (o.metadata?.ownerReferences ?? []).some((r) => r.controller !== false && SCANNED_OWNERS.has(r.kind ?? ''));
}

function toWorkload(o: KObject, defaultNs: string): Workload | undefined {
  const kind = o.kind ?? '';
  const ns = o.metadata?.namespace ?? defaultNs;
  const name = o.metadata?.name ?? '(unnamed)';
  const base = {
    kind,
    namespace: ns,
    name,
    target: `${kind}/${ns}/${name}`,
    annotations: o.metadata?.annotations ?? {},
    source: (o as { __source?: string }).__source,
  };
  if (kind === 'Pod') {
    return {
      ...base,
      podLabels: o.metadata?.labels ?? {},
      templateAnnotations: o.metadata?.annotations ?? {},
      replicas: 1,
      podSpec: o.spec ?? {},
    };
  }
  if (kind === 'CronJob') {
    const tpl = o.spec?.jobTemplate?.spec?.template ?? {};
    return {
      ...base,
      podLabels: tpl.metadata?.labels ?? {},
      templateAnnotations: tpl.metadata?.annotations ?? {},
      replicas: 1,
      podSpec: tpl.spec ?? {},
    };
  }
  if (TEMPLATE_KINDS.has(kind)) {
    const tpl = o.spec?.template ?? {};
    const replicas =
      kind === 'DaemonSet' ? 2 : kind === 'Job' ? 1 : typeof o.spec?.replicas === 'number' ? o.spec.replicas : 1;
    return {
      ...base,
      podLabels: tpl.metadata?.labels ?? {},
      templateAnnotations: tpl.metadata?.annotations ?? {},
      replicas,
      podSpec: tpl.spec ?? {},
    };
  }
  return undefined;
}

/** An inventory with nothing in it yet. */
export function emptyK8sInventory(mode: K8sInventory['mode']): K8sInventory {
  return {
    workloads: [],
    namespaces: [],
    networkPolicies: [],
    services: [],
    pdbs: [],
    roles: [],
    clusterRoles: [],
    roleBindings: [],
    clusterRoleBindings: [],
    serviceAccounts: [],
    impliedNamespaces: [],
    mode,
  };
}

/** Group objects by kind into an inventory. `defaultNs` fills namespaced manifests that omit it. */
export function buildK8sInventory(objects: KObject[], mode: 'live' | 'manifests', defaultNs = 'default'): K8sInventory {
  const inv = emptyK8sInventory(mode);
  const withNs = (o: KObject): KObject =>
    o.metadata?.namespace ? o : { ...o, metadata: { ...(o.metadata ?? {}), namespace: defaultNs } };
  const mentioned = new Set<string>();
  for (const o of objects) {
    if (!o || typeof o !== 'object') continue;
    const kind = o.kind ?? '';
    if (kind === 'List' && Array.isArray(o.items)) {
      const sub = buildK8sInventory(o.items as KObject[], mode, defaultNs);
      for (const k of Object.keys(sub) as (keyof K8sInventory)[]) {
        const v = sub[k];
        if (Array.isArray(v)) (inv[k] as unknown[]).push(...v);
      }
      continue;
    }
    // Already being deleted (terminating pods, namespaces on their way out): not the cluster's posture.
    if (o.metadata?.deletionTimestamp) continue;
    if (o.metadata?.namespace) mentioned.add(o.metadata.namespace);
    switch (kind) {
      case 'Namespace':
        inv.namespaces.push(o);
        break;
      case 'NetworkPolicy':
        inv.networkPolicies.push(withNs(o));
        break;
      case 'Service':
        inv.services.push(withNs(o));
        break;
      case 'PodDisruptionBudget':
        inv.pdbs.push(withNs(o));
        break;
      case 'Role':
        inv.roles.push(withNs(o));
        break;
      case 'ClusterRole':
        inv.clusterRoles.push(o);
        break;
      case 'RoleBinding':
        inv.roleBindings.push(withNs(o));
        break;
      case 'ClusterRoleBinding':
        inv.clusterRoleBindings.push(o);
        break;
      case 'ServiceAccount':
        inv.serviceAccounts.push(withNs(o));
        break;
      default: {
        // Pods, ReplicaSets and Jobs made by a controller are covered by that controller's template.
        if ((kind === 'Pod' || kind === 'ReplicaSet' || kind === 'Job') && ownedByController(o)) break;
        const w = toWorkload(o, defaultNs);
        if (w) {
          inv.workloads.push(w);
          mentioned.add(w.namespace);
        }
      }
    }
  }
  const defined = new Set(inv.namespaces.map((n) => n.metadata?.name ?? ''));
  inv.impliedNamespaces = [...mentioned].filter((n) => !defined.has(n)).sort();
  return inv;
}
