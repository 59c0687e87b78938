// Namespace and network checks: Pod Security admission labels, NetworkPolicy coverage (a
// namespace-wide default-deny with podSelector {} DOES select every pod), and exposure.
import type { Check, Finding, Inventory, KObject, Workload } from '../types.js';
import { cis, k8sDoc, nsa } from './refs.js';
import { isEmptySelector, objFinding, selectorMatches, workloadFinding } from './util.js';
import { pssLevelOf } from './workload.js';

const LEVELS = ['privileged', 'baseline', 'restricted'] as const;
type Level = (typeof LEVELS)[number];

interface NsInfo {
  name: string;
  obj?: KObject;
  workloads: Workload[];
}

/** Namespaces in scope: defined ones plus (for manifests) the ones workloads live in. */
function namespaces(inv: Inventory): NsInfo[] {
  const k = inv.k8s;
  if (!k) return [];
  const map = new Map<string, NsInfo>();
  for (const n of k.namespaces) {
    const name = n.metadata?.name ?? '';
    map.set(name, { name, obj: n, workloads: [] });
  }
  // Live: every namespace is listed, so a namespace we did not see is out of scope (filtered).
  // Manifests: workloads may target namespaces defined elsewhere; check their pods, not their labels.
  for (const w of k.workloads) {
    const e = map.get(w.namespace);
    if (e) e.workloads.push(w);
  }
  return [...map.values()];
}

/**
 * Namespaces that run something. A NetworkPolicy selects pods only, so a pod-less namespace (hivectl's
 * own state namespace holds just Leases and Secrets) has nothing for a default-deny to protect; the
 * check fires as soon as a workload lands there. Pod Security labels (HIVE-NS-001) still apply to all.
 */
function withWorkloads(inv: Inventory): NsInfo[] {
  return namespaces(inv).filter((n) => n.workloads.length > 0);
}

function policiesIn(inv: Inventory, ns: string): KObject[] {
  return (inv.k8s?.networkPolicies ?? []).filter((p) => p.metadata?.namespace === ns);
}

function policyTypes(p: KObject): string[] {
  const t = p.spec?.policyTypes as string[] | undefined;
  if (Array.isArray(t) && t.length) return t;
  // The API defaults: Ingress always; Egress when egress rules are present.
  return p.spec?.egress ? ['Ingress', 'Egress'] : ['Ingress'];
}

/** podSelector {} with the direction in policyTypes and no rule for it: denies that direction to all pods. */
export function isDefaultDeny(p: KObject, direction: 'Ingress' | 'Egress'): boolean {
  if (!isEmptySelector(p.spec?.podSelector ?? {})) return false;
  if (!policyTypes(p).includes(direction)) return false;
  const rules = direction === 'Ingress' ? p.spec?.ingress : p.spec?.egress;
  return !Array.isArray(rules) || rules.length === 0;
}

function nsTarget(n: NsInfo): string {
  return `Namespace/${n.name}`;
}

export const networkChecks: Check[] = [
  {
    id: 'HIVE-NS-001',
    severity: 'medium',
    scope: 'k8s',
    title: 'Namespace without a Pod Security enforce label',
    why: 'Without pod-security.kubernetes.io/enforce the namespace admits privileged pods: nothing stops a bad manifest.',
    remediation:
      'Label the namespace pod-security.kubernetes.io/enforce=restricted (or baseline where a workload truly needs it).',
    frameworks: ['pss-baseline', 'pss-restricted', 'cis-workload'],
    references: [
      k8sDoc(
        'Kubernetes: enforce Pod Security Standards with namespace labels',
        'tasks/configure-pod-container/enforce-standards-namespace-labels/',
      ),
      cis('5.2.1', 'Ensure that the cluster has at least one active policy control mechanism in place'),
    ],
    run: (inv) =>
      namespaces(inv).flatMap((n) => {
        const level = n.obj?.metadata?.labels?.['pod-security.kubernetes.io/enforce'];
        if (level) return [];
        return [
          objFinding(
            n.obj ?? {},
            nsTarget(n),
            'HIVE-NS-001',
            'medium',
            `namespace ${n.name} has no pod-security.kubernetes.io/enforce label`,
          ),
        ];
      }),
  },
  {
    id: 'HIVE-NS-002',
    severity: 'low',
    scope: 'k8s',
    title: 'Namespace enforces a weaker Pod Security level than its workloads meet',
    why: 'Every workload already meets a stricter level; enforcing the weaker one leaves room for a future manifest to regress silently.',
    remediation: 'Raise pod-security.kubernetes.io/enforce to the level named in the finding.',
    frameworks: ['pss-restricted'],
    references: [k8sDoc('Kubernetes: Pod Security admission', 'concepts/security/pod-security-admission/')],
    run: (inv) =>
      namespaces(inv).flatMap((n) => {
        const label = n.obj?.metadata?.labels?.['pod-security.kubernetes.io/enforce'] as Level | undefined;
        if (!label || !LEVELS.includes(label) || n.workloads.length === 0) return [];
        const met = n.workloads
          .map(pssLevelOf)
          .reduce<Level>((lo, l) => (LEVELS.indexOf(l) < LEVELS.indexOf(lo) ? l : lo), 'restricted');
        if (LEVELS.indexOf(met) <= LEVELS.indexOf(label)) return [];
        return [
          objFinding(
            n.obj ?? {},
            nsTarget(n),
            'HIVE-NS-002',
            'low',
            `namespace ${n.name} enforces ${label} but all ${n.workloads.length} workloads meet ${met}`,
          ),
        ];
      }),
  },
  {
    id: 'HIVE-NET-001',
    severity: 'medium',
    scope: 'k8s',
    title: 'Pods that no NetworkPolicy selects',
    why: 'A pod selected by no NetworkPolicy accepts traffic from every pod in the cluster, so one compromised pod reaches it.',
    remediation:
      'Add a default-deny NetworkPolicy (podSelector: {}) to the namespace and allow the traffic the pods need.',
    frameworks: ['cis-workload', 'nsa'],
    references: [
      cis('5.3.2', 'Ensure that all Namespaces have NetworkPolicies defined'),
      nsa('Network separation and hardening'),
    ],
    run: (inv) => {
      const out: Finding[] = [];
      for (const w of inv.k8s?.workloads ?? []) {
        if (w.podSpec?.hostNetwork === true) continue; // NetworkPolicies do not apply; HIVE-PSS-002 reports it
        const selected = policiesIn(inv, w.namespace).some((p) =>
          selectorMatches(p.spec?.podSelector ?? {}, w.podLabels),
        );
        if (!selected) out.push(workloadFinding(w, 'HIVE-NET-001', 'medium', 'no NetworkPolicy selects its pods'));
      }
      return out;
    },
  },
  {
    id: 'HIVE-NET-002',
    severity: 'medium',
    scope: 'k8s',
    title: 'Namespace without a default-deny ingress policy',
    why: 'Without a namespace-wide default deny, every new pod is reachable from the whole cluster until someone writes a policy for it. Checked in namespaces that run workloads: a NetworkPolicy only selects pods, so in a pod-less namespace (such as the one holding the hivectl lock and revisions) it protects nothing.',
    remediation:
      'Add a NetworkPolicy with podSelector: {}, policyTypes: [Ingress] and no ingress rules; then allow what is needed.',
    frameworks: ['cis-workload', 'nsa'],
    references: [
      k8sDoc(
        'Kubernetes: default deny all ingress traffic',
        'concepts/services-networking/network-policies/#default-deny-all-ingress-traffic',
      ),
      nsa('Network policies'),
    ],
    run: (inv) =>
      withWorkloads(inv).flatMap((n) =>
        policiesIn(inv, n.name).some((p) => isDefaultDeny(p, 'Ingress'))
          ? []
          : [
              objFinding(
                n.obj ?? {},
                nsTarget(n),
                'HIVE-NET-002',
                'medium',
                `namespace ${n.name} has no default-deny ingress NetworkPolicy`,
              ),
            ],
      ),
  },
  {
    id: 'HIVE-NET-003',
    severity: 'low',
    scope: 'k8s',
    title: 'Namespace without a default-deny egress policy',
    why: 'Without egress restrictions a compromised pod can reach the cloud metadata endpoint, the API server and the internet. Checked in namespaces that run workloads.',
    remediation:
      'Add a NetworkPolicy with podSelector: {}, policyTypes: [Egress] and allow DNS plus the destinations the pods need.',
    frameworks: ['nsa'],
    references: [
      k8sDoc(
        'Kubernetes: default deny all egress traffic',
        'concepts/services-networking/network-policies/#default-deny-all-egress-traffic',
      ),
      nsa('Network policies'),
    ],
    run: (inv) =>
      withWorkloads(inv).flatMap((n) =>
        policiesIn(inv, n.name).some((p) => isDefaultDeny(p, 'Egress'))
          ? []
          : [
              objFinding(
                n.obj ?? {},
                nsTarget(n),
                'HIVE-NET-003',
                'low',
                `namespace ${n.name} has no default-deny egress NetworkPolicy`,
              ),
            ],
      ),
  },
  {
    id: 'HIVE-NET-004',
    severity: 'medium',
    scope: 'k8s',
    title: 'Service exposed outside the cluster (LoadBalancer or NodePort)',
    why: 'A LoadBalancer or NodePort Service opens the workload to networks outside the cluster; it should be deliberate and restricted.',
    remediation:
      'Use ClusterIP behind the ingress controller, or restrict spec.loadBalancerSourceRanges and record an exception.',
    frameworks: ['nsa'],
    references: [
      k8sDoc('Kubernetes: Service types', 'concepts/services-networking/service/#publishing-services-service-types'),
      nsa('Network separation and hardening'),
    ],
    run: (inv) =>
      (inv.k8s?.services ?? []).flatMap((s) => {
        const type = s.spec?.type;
        if (type !== 'LoadBalancer' && type !== 'NodePort') return [];
        const ranges = (s.spec?.loadBalancerSourceRanges ?? []) as string[];
        const open = type === 'NodePort' || ranges.length === 0 || ranges.includes('0.0.0.0/0');
        if (!open) return [];
        const t = `Service/${s.metadata?.namespace}/${s.metadata?.name}`;
        return [
          objFinding(
            s,
            t,
            'HIVE-NET-004',
            'medium',
            `type ${type}${type === 'LoadBalancer' ? ' open to any source' : ''}`,
          ),
        ];
      }),
  },
];
