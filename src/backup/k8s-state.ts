// Cluster-state backup: which kinds, how an object is cleaned for storage (server-owned fields out, so
// that a restore by server-side apply neither conflicts nor resurrects stale status), and what happens to
// Secret values (omitted, or encrypted per value). Pure: the steps do the I/O.
import { decryptValue, encryptValue } from './crypto.js';

export interface KindSpec {
  kind: string;
  apiVersion: string;
  /** Lower-case plural for the API path. */
  plural: string;
}

/** Backed up, and restored in this order (prerequisites before workloads). */
export const STATE_KINDS: KindSpec[] = [
  { kind: 'ServiceAccount', apiVersion: 'v1', plural: 'serviceaccounts' },
  { kind: 'Role', apiVersion: 'rbac.authorization.k8s.io/v1', plural: 'roles' },
  { kind: 'RoleBinding', apiVersion: 'rbac.authorization.k8s.io/v1', plural: 'rolebindings' },
  { kind: 'ConfigMap', apiVersion: 'v1', plural: 'configmaps' },
  { kind: 'Secret', apiVersion: 'v1', plural: 'secrets' },
  { kind: 'Service', apiVersion: 'v1', plural: 'services' },
  { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1', plural: 'networkpolicies' },
  { kind: 'PodDisruptionBudget', apiVersion: 'policy/v1', plural: 'poddisruptionbudgets' },
  { kind: 'Deployment', apiVersion: 'apps/v1', plural: 'deployments' },
  { kind: 'HorizontalPodAutoscaler', apiVersion: 'autoscaling/v2', plural: 'horizontalpodautoscalers' },
];

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are open-ended JSON
export type KObj = Record<string, any>;

const DROP_META = [
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
  'selfLink',
  'ownerReferences',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
];
const DROP_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration', 'deployment.kubernetes.io/revision'];

/** Objects the cluster makes by itself and that a restore must not apply. */
export function isSystemObject(kind: string, o: KObj): boolean {
  const name: string = o.metadata?.name ?? '';
  if (kind === 'ConfigMap' && name === 'kube-root-ca.crt') return true;
  if (kind === 'ServiceAccount' && name === 'default') return true;
  if (kind === 'Secret' && (o.type === 'kubernetes.io/service-account-token' || o.type === 'helm.sh/release.v1'))
    return true;
  if (o.metadata?.ownerReferences?.length) return true;
  return false;
}

export function stripServerFields(kind: string, apiVersion: string, o: KObj): KObj {
  const out: KObj = structuredClone(o);
  out.kind = kind;
  out.apiVersion = apiVersion;
  delete out.status;
  const meta = out.metadata ?? {};
  for (const k of DROP_META) delete meta[k];
  if (meta.annotations) {
    for (const a of DROP_ANNOTATIONS) delete meta.annotations[a];
    if (Object.keys(meta.annotations).length === 0) delete meta.annotations;
  }
  if (kind === 'Service' && out.spec) {
    // Allocated by the apiserver; applying the old ones into another cluster fails.
    delete out.spec.clusterIP;
    delete out.spec.clusterIPs;
    if (Array.isArray(out.spec.ports))
      for (const p of out.spec.ports) if (out.spec.type !== 'NodePort') delete p.nodePort;
  }
  if (kind === 'Deployment' && out.spec?.template?.metadata) delete out.spec.template.metadata.creationTimestamp;
  return out;
}

const aadFor = (ns: string, name: string, key: string) => `${ns}/${name}/${key}`;

/** Secret values: `omit` drops them (keys kept, values empty); `encrypt` replaces each with ciphertext. */
export function protectSecret(o: KObj, mode: 'omit' | 'encrypt', key?: Buffer): KObj {
  const out = structuredClone(o);
  const ns = out.metadata?.namespace ?? '';
  const name = out.metadata?.name ?? '';
  const data: Record<string, string> = { ...(out.data ?? {}) };
  for (const [k, v] of Object.entries(out.stringData ?? {})) data[k] = Buffer.from(String(v)).toString('base64');
  delete out.stringData;
  out.metadata.annotations = { ...(out.metadata.annotations ?? {}), 'hivectl.dev/secret-values': mode };
  if (mode === 'omit') {
    out.data = Object.fromEntries(Object.keys(data).map((k) => [k, '']));
  } else {
    if (!key) throw new Error('encrypt mode needs a key');
    out.data = Object.fromEntries(
      Object.entries(data).map(([k, v]) => [k, encryptValue(key, Buffer.from(v, 'base64'), aadFor(ns, name, k))]),
    );
  }
  return out;
}

/** Inverse of protectSecret for encrypted secrets; undefined when values were omitted (not restorable). */
export function revealSecret(o: KObj, key: Buffer): KObj | undefined {
  if (o.metadata?.annotations?.['hivectl.dev/secret-values'] !== 'encrypt') return undefined;
  const out = structuredClone(o);
  const ns = out.metadata.namespace ?? '';
  const name = out.metadata.name ?? '';
  out.data = Object.fromEntries(
    Object.entries((out.data ?? {}) as Record<string, string>).map(([k, v]) => [
      k,
      decryptValue(key, v, aadFor(ns, name, k)).toString('base64'),
    ]),
  );
  delete out.metadata.annotations['hivectl.dev/secret-values'];
  if (Object.keys(out.metadata.annotations).length === 0) delete out.metadata.annotations;
  return out;
}
