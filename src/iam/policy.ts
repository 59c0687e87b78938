// Turns the permission table into an AWS IAM policy document and Kubernetes RBAC objects for a set
// of commands. Pure: ARNs and namespaces come from hivectl.yaml (or `*` where it says nothing).
import type { HivectlConfig } from '../core/config.js';
import { type AwsResource, type K8sRule, permissionsFor } from './permissions.js';

export interface IamPolicyDocument {
  Version: '2012-10-17';
  Statement: { Sid: string; Effect: 'Allow'; Action: string[]; Resource: string[] }[];
}

export interface RbacOptions {
  /** Subject the bindings name: a ServiceAccount `namespace/name`. */
  serviceAccount: { namespace: string; name: string };
  /** Prefix of every object name. */
  name: string;
}

function arns(r: AwsResource, c: HivectlConfig): string[] {
  const buckets = [c.backup.bucket, c.backup.drBucket].filter((b): b is string => !!b);
  const dbs = [c.database.instanceId, c.database.drReplicaId].filter((b): b is string => !!b);
  const kms = [c.backup.kmsKeyId, c.backup.drKmsKeyId].filter((k): k is string => !!k && k.startsWith('arn:'));
  switch (r) {
    case 'backup-bucket':
      return buckets.length ? buckets.map((b) => `arn:aws:s3:::${b}`) : ['arn:aws:s3:::*'];
    case 'backup-objects':
      return buckets.length ? buckets.map((b) => `arn:aws:s3:::${b}/*`) : ['arn:aws:s3:::*/*'];
    case 'any-bucket':
      return ['arn:aws:s3:::*'];
    case 'db-instance':
      return dbs.length ? dbs.map((d) => `arn:aws:rds:*:*:db:${d}`) : ['arn:aws:rds:*:*:db:*'];
    case 'db-snapshot':
      return ['arn:aws:rds:*:*:snapshot:*'];
    case 'db-cluster':
      return c.database.clusterId ? [`arn:aws:rds:*:*:cluster:${c.database.clusterId}`] : ['arn:aws:rds:*:*:cluster:*'];
    case 'db-cluster-snapshot':
      return ['arn:aws:rds:*:*:cluster-snapshot:*'];
    case 'kms-key':
      return kms.length ? kms : ['arn:aws:kms:*:*:key/*'];
    default:
      return ['*'];
  }
}

export function iamPolicy(commands: string[], config: HivectlConfig): IamPolicyDocument {
  const byResources = new Map<string, { resources: string[]; actions: Set<string> }>();
  for (const p of permissionsFor(commands)) {
    for (const rule of p.aws) {
      const resources = [...new Set(rule.resources.flatMap((r) => arns(r, config)))].sort();
      const key = resources.join(',');
      const e = byResources.get(key) ?? { resources, actions: new Set<string>() };
      for (const a of rule.actions) e.actions.add(a);
      byResources.set(key, e);
    }
  }
  const Statement = [...byResources.values()]
    .sort((a, b) => a.resources.join().localeCompare(b.resources.join()))
    .map((e, i) => ({
      Sid: `Hivectl${i + 1}`,
      Effect: 'Allow' as const,
      Action: [...e.actions].sort(),
      Resource: e.resources,
    }));
  return { Version: '2012-10-17', Statement };
}

interface RbacRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** Merge rules with the same group and resource; verbs unioned. One rule per resource keeps diffs readable. */
function mergeRules(rules: K8sRule[]): RbacRule[] {
  const m = new Map<string, Set<string>>();
  for (const r of rules)
    for (const g of r.apiGroups)
      for (const res of r.resources) {
        const k = `${g}\u0000${res}`;
        const s = m.get(k) ?? new Set<string>();
        for (const v of r.verbs) s.add(v);
        m.set(k, s);
      }
  return [...m.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, verbs]) => {
      const [g, res] = k.split('\u0000') as [string, string];
      return { apiGroups: [g], resources: [res], verbs: [...verbs].sort() };
    });
}

export type RbacObject = Record<string, unknown>;

export function rbacObjects(commands: string[], config: HivectlConfig, o: RbacOptions): RbacObject[] {
  const perms = permissionsFor(commands);
  const all = perms.flatMap((p) => p.k8s);
  const labels = { 'app.kubernetes.io/managed-by': 'hivectl', 'hive.dev/iam-commands': commands.join('.') };
  const subject = [{ kind: 'ServiceAccount', name: o.serviceAccount.name, namespace: o.serviceAccount.namespace }];
  const out: RbacObject[] = [];
  const cluster = mergeRules(all.filter((r) => r.scope === 'cluster'));
  if (cluster.length) {
    out.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: o.name, labels },
      rules: cluster,
    });
    out.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: o.name, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: o.name },
      subjects: subject,
    });
  }
  const ns = config.platform.namespaces;
  const platformNs = [ns.api, ns.agents];
  const stateNs = config.cluster.namespace;
  const perNs = new Map<string, K8sRule[]>();
  for (const r of all) {
    if (r.scope === 'cluster') continue;
    for (const n of r.scope === 'state' ? [stateNs] : platformNs) perNs.set(n, [...(perNs.get(n) ?? []), r]);
  }
  for (const [n, rules] of [...perNs.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    out.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: o.name, namespace: n, labels },
      rules: mergeRules(rules),
    });
    out.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: o.name, namespace: n, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: o.name },
      subjects: subject,
    });
  }
  return out;
}
