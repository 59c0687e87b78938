// RBAC checks (CIS Kubernetes 5.1). Built-in roles (system:*, or labelled
// kubernetes.io/bootstrapping=rbac-defaults) are not reported for their own rules (cluster-admin
// has wildcards by design); bindings that hand them to non-system subjects are.
import type { Check, Finding, Inventory, KObject } from '../types.js';
import { cis, k8sDoc, nsa } from './refs.js';
import { objFinding } from './util.js';

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  nonResourceURLs?: string[];
}

function isBuiltin(o: KObject): boolean {
  const name = o.metadata?.name ?? '';
  return name.startsWith('system:') || o.metadata?.labels?.['kubernetes.io/bootstrapping'] === 'rbac-defaults';
}

function roleTarget(o: KObject): string {
  return o.kind === 'Role' || o.metadata?.namespace
    ? `Role/${o.metadata?.namespace}/${o.metadata?.name}`
    : `ClusterRole/${o.metadata?.name}`;
}

function customRoles(inv: Inventory): KObject[] {
  const k = inv.k8s;
  if (!k) return [];
  return [
    ...k.roles.map((r) => ({ ...r, kind: 'Role' })),
    ...k.clusterRoles.map((r) => ({ ...r, kind: 'ClusterRole' })),
  ].filter((r) => !isBuiltin(r));
}

function rulesOf(o: KObject): Rule[] {
  return Array.isArray(o.rules) ? (o.rules as Rule[]) : [];
}

interface Subject {
  kind?: string;
  name?: string;
  namespace?: string;
}

function isSystemSubject(s: Subject): boolean {
  return (s.kind === 'User' || s.kind === 'Group') && (s.name ?? '').startsWith('system:');
}

function subjectText(s: Subject, bindingNs?: string): string {
  return s.kind === 'ServiceAccount' ? `ServiceAccount ${s.namespace ?? bindingNs}/${s.name}` : `${s.kind} ${s.name}`;
}

interface BindingRef {
  obj: KObject;
  target: string;
  ns?: string | undefined;
  roleKind: string;
  roleName: string;
  subjects: Subject[];
}

function bindings(inv: Inventory): BindingRef[] {
  const k = inv.k8s;
  if (!k) return [];
  const out: BindingRef[] = [];
  for (const b of k.roleBindings)
    out.push({
      obj: b,
      target: `RoleBinding/${b.metadata?.namespace}/${b.metadata?.name}`,
      ns: b.metadata?.namespace,
      roleKind: b.roleRef?.kind ?? '',
      roleName: b.roleRef?.name ?? '',
      subjects: (b.subjects ?? []) as Subject[],
    });
  for (const b of k.clusterRoleBindings)
    out.push({
      obj: b,
      target: `ClusterRoleBinding/${b.metadata?.name}`,
      roleKind: b.roleRef?.kind ?? '',
      roleName: b.roleRef?.name ?? '',
      subjects: (b.subjects ?? []) as Subject[],
    });
  return out.filter((b) => !(b.obj.metadata?.name ?? '').startsWith('system:') && !isBuiltin(b.obj));
}

function findRole(inv: Inventory, b: BindingRef): KObject | undefined {
  const k = inv.k8s;
  if (!k) return undefined;
  if (b.roleKind === 'ClusterRole') return k.clusterRoles.find((r) => r.metadata?.name === b.roleName);
  return k.roles.find((r) => r.metadata?.namespace === b.ns && r.metadata?.name === b.roleName);
}

const has = (list: string[] | undefined, v: string) => (list ?? []).includes(v) || (list ?? []).includes('*');

function readsSecrets(r: Rule): boolean {
  const coreGroup = has(r.apiGroups, '');
  return coreGroup && has(r.resources, 'secrets') && ['get', 'list', 'watch'].some((v) => has(r.verbs, v));
}

function ruleFindings(id: string, sev: Finding['severity'], test: (r: Rule) => string | undefined) {
  return (inv: Inventory): Finding[] =>
    customRoles(inv).flatMap((role) => {
      const msgs = [
        ...new Set(
          rulesOf(role)
            .map(test)
            .filter((m): m is string => !!m),
        ),
      ];
      return msgs.length ? [objFinding(role, roleTarget(role), id, sev, msgs.join('; '))] : [];
    });
}

export const rbacChecks: Check[] = [
  {
    id: 'HIVE-RBAC-001',
    severity: 'high',
    scope: 'k8s',
    title: 'Wildcard verbs in a role',
    why: 'verbs: ["*"] grants every current and future verb, including escalate, bind and impersonate.',
    remediation: 'List the verbs the subject needs (get, list, watch, ...).',
    frameworks: ['cis-rbac', 'nsa'],
    references: [
      cis('5.1.3', 'Minimize wildcard use in Roles and ClusterRoles'),
      nsa('Authentication and authorization'),
    ],
    run: ruleFindings('HIVE-RBAC-001', 'high', (r) =>
      (r.verbs ?? []).includes('*')
        ? `verbs "*" on ${(r.resources ?? r.nonResourceURLs ?? []).join(',') || '?'}`
        : undefined,
    ),
  },
  {
    id: 'HIVE-RBAC-002',
    severity: 'high',
    scope: 'k8s',
    title: 'Wildcard resources in a role',
    why: 'resources: ["*"] grants access to every resource type, including Secrets and any CRD installed later.',
    remediation: 'List the resources the subject needs.',
    frameworks: ['cis-rbac', 'nsa'],
    references: [cis('5.1.3', 'Minimize wildcard use in Roles and ClusterRoles')],
    run: ruleFindings('HIVE-RBAC-002', 'high', (r) =>
      (r.resources ?? []).includes('*')
        ? `resources "*" in API groups ${(r.apiGroups ?? []).map((g) => g || '""').join(',')}`
        : undefined,
    ),
  },
  {
    id: 'HIVE-RBAC-003',
    severity: 'critical',
    scope: 'k8s',
    title: 'cluster-admin bound to a non-system subject',
    why: 'cluster-admin is unrestricted superuser access; any token of the subject owns the cluster.',
    remediation:
      'Bind a narrower role (see `hivectl iam-policy` for what hivectl itself needs); keep cluster-admin for break-glass identities.',
    frameworks: ['cis-rbac', 'nsa'],
    references: [cis('5.1.1', 'Ensure that the cluster-admin role is only used where required')],
    run: (inv) =>
      bindings(inv).flatMap((b) => {
        if (b.roleKind !== 'ClusterRole' || b.roleName !== 'cluster-admin') return [];
        const subs = b.subjects.filter((s) => !isSystemSubject(s));
        return subs.length
          ? [
              objFinding(
                b.obj,
                b.target,
                'HIVE-RBAC-003',
                'critical',
                `binds cluster-admin to ${subs.map((s) => subjectText(s, b.ns)).join(', ')}`,
              ),
            ]
          : [];
      }),
  },
  {
    id: 'HIVE-RBAC-004',
    severity: 'high',
    scope: 'k8s',
    title: 'escalate, bind or impersonate granted',
    why: 'These verbs let a subject grant itself permissions it does not hold or act as another user: privilege escalation by design.',
    remediation: 'Remove escalate, bind and impersonate unless the subject is a trusted RBAC manager.',
    frameworks: ['cis-rbac'],
    references: [
      cis('5.1.8', 'Limit use of the Bind, Impersonate and Escalate permissions'),
      k8sDoc(
        'Kubernetes: RBAC privilege escalation prevention',
        'reference/access-authn-authz/rbac/#privilege-escalation-prevention-and-bootstrapping',
      ),
    ],
    run: ruleFindings('HIVE-RBAC-004', 'high', (r) => {
      const v = (r.verbs ?? []).filter((x) => x === 'escalate' || x === 'bind' || x === 'impersonate');
      return v.length ? `grants ${v.join(', ')} on ${(r.resources ?? []).join(',') || '?'}` : undefined;
    }),
  },
  {
    id: 'HIVE-RBAC-005',
    severity: 'high',
    scope: 'k8s',
    title: 'Secrets readable cluster-wide',
    why: 'get/list/watch on secrets across all namespaces exposes every credential in the cluster, service-account tokens included.',
    remediation:
      'Bind the role with RoleBindings in the namespaces that need it, or grant get on named secrets (resourceNames).',
    frameworks: ['cis-rbac', 'nsa'],
    references: [cis('5.1.2', 'Minimize access to secrets')],
    run: (inv) =>
      bindings(inv).flatMap((b) => {
        if (b.ns || b.roleKind !== 'ClusterRole' || b.roleName === 'cluster-admin') return []; // cluster-admin: HIVE-RBAC-003
        const role = findRole(inv, b);
        if (!role) return [];
        const subs = b.subjects.filter((s) => !isSystemSubject(s));
        const rules = rulesOf(role).filter(
          (r) =>
            readsSecrets(r) &&
            !(
              Array.isArray((r as { resourceNames?: string[] }).resourceNames) &&
              (r as { resourceNames?: string[] }).resourceNames!.length > 0
            ),
        );
        if (!rules.length || !subs.length) return [];
        return [
          objFinding(
            b.obj,
            b.target,
            'HIVE-RBAC-005',
            'high',
            `ClusterRole ${b.roleName} lets ${subs.map((s) => subjectText(s)).join(', ')} read secrets in every namespace`,
          ),
        ];
      }),
  },
  {
    id: 'HIVE-RBAC-006',
    severity: 'medium',
    scope: 'k8s',
    title: 'Default ServiceAccount holds permissions',
    why: 'Every pod that names no ServiceAccount runs as `default`; permissions bound to it leak to all of them.',
    remediation: 'Create a dedicated ServiceAccount for the workload that needs the permissions and bind it instead.',
    frameworks: ['cis-rbac', 'nsa'],
    references: [cis('5.1.5', 'Ensure that default service accounts are not actively used')],
    run: (inv) =>
      bindings(inv).flatMap((b) => {
        const subs = b.subjects.filter((s) => s.kind === 'ServiceAccount' && s.name === 'default');
        return subs.length
          ? [
              objFinding(
                b.obj,
                b.target,
                'HIVE-RBAC-006',
                'medium',
                `grants ${b.roleKind} ${b.roleName} to ${subs.map((s) => subjectText(s, b.ns)).join(', ')}`,
              ),
            ]
          : [];
      }),
  },
];
