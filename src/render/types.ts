// The shapes the renderer produces. Structurally compatible with @kubernetes/client-node's
// KubernetesObject, without importing it (only adapters import SDKs).

export type StackEnv = 'dev' | 'staging' | 'prod';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** apiVersions of optional CRDs the cluster serves (found by discovery); absent = not installed. */
export interface Capabilities {
  externalSecrets?: string;
  certManager?: string;
  serviceMonitor?: string;
  keda?: string;
}

export interface SkippedObject {
  kind: string;
  name: string;
  namespace?: string;
  reason: string;
  /** Not rendered this time, but a live one must stay (prune leaves it): secret values not given this run. */
  keepLive?: boolean;
}

export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_PART_OF = 'app.kubernetes.io/part-of';
export const LABEL_INSTANCE = 'app.kubernetes.io/instance';
export const LABEL_ENV = 'hivectl.dev/env';

/**
 * Labels of hivectl's own state namespace (config.cluster.namespace), whoever creates it first (the
 * run lock or a bootstrap revision). It holds only Leases and revision Secrets, so Pod Security
 * `restricted` costs nothing and keeps `hivectl scan` quiet about it (HIVE-NS-001).
 */
export const STATE_NAMESPACE_LABELS: Readonly<Record<string, string>> = {
  [LABEL_MANAGED_BY]: 'hivectl',
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/audit': 'restricted',
  'pod-security.kubernetes.io/warn': 'restricted',
};

/** Selector for everything one bootstrap instance owns (what prune may delete). */
export function ownerSelector(instance: string): string {
  return `${LABEL_MANAGED_BY}=hivectl,${LABEL_PART_OF}=agent-hive,${LABEL_INSTANCE}=${instance}`;
}

export function objectRef(o: Pick<KubernetesObject, 'apiVersion' | 'kind' | 'metadata'>): string {
  const ns = o.metadata.namespace ? `${o.metadata.namespace}/` : '';
  return `${o.apiVersion} ${o.kind} ${ns}${o.metadata.name}`;
}

/** Short form for messages: `Deployment hive-api/hive-api`. */
export function shortRef(o: Pick<KubernetesObject, 'kind' | 'metadata'>): string {
  const ns = o.metadata.namespace ? `${o.metadata.namespace}/` : '';
  return `${o.kind} ${ns}${o.metadata.name}`;
}
