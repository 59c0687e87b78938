// Seeds the sandbox's primary cluster for bench/scan: 200 namespaces x 10 bare pods (2,000 pods)
// plus a NetworkPolicy, ServiceAccount, Role, RoleBinding and Service each, on extra KWOK nodes
// (the sandbox's own 3 nodes hold only 330 pods). Everything carries hive.dev/bench=scan so
// `node bench/scan/seed.mjs --delete` removes it. Usage: node bench/scan/seed.mjs [--namespaces N] [--pods N] [--delete]
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const num = (flag, dflt) => {
  const i = args.indexOf(flag);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const NS = num('--namespaces', 200);
const PODS = num('--pods', 10);
const LABEL = 'hive.dev/bench';
const kubectl = process.env.KUBECTL ?? 'kubectl';

function k(argv, input) {
  const r = spawnSync(kubectl, argv, { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) {
    process.stderr.write(r.stderr);
    throw new Error(`kubectl ${argv.slice(0, 3).join(' ')} exited ${r.status}`);
  }
  return r.stdout;
}

if (args.includes('--delete')) {
  const t = Date.now();
  // Namespaces first, while KWOK still runs the nodes that confirm their pods' termination.
  k(['delete', 'namespace', '-l', `${LABEL}=scan`, '--wait=true', '--timeout=600s']);
  k(['delete', 'node', '-l', `${LABEL}=scan`, '--wait=false']);
  console.log(`bench/scan: deleted the seeded namespaces and nodes in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  process.exit(0);
}

const nodes = Math.ceil((NS * PODS) / 100);
const list = (items) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
const res = { cpu: '32', memory: '256Gi', pods: '110' };
const nodeObjs = Array.from({ length: nodes }, (_, i) => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: {
    name: `bench-scan-${i}`,
    annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
    labels: { type: 'kwok', [LABEL]: 'scan', 'kubernetes.io/hostname': `bench-scan-${i}` },
  },
  spec: {},
  status: { capacity: res, allocatable: res },
}));

const t0 = Date.now();
k(['apply', '-f', '-'], list(nodeObjs));
const batches = [];
for (let n = 0; n < NS; n++) {
  const ns = `bench-scan-${String(n).padStart(3, '0')}`;
  const meta = (name) => ({ name, namespace: ns, labels: { [LABEL]: 'scan' } });
  const items = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { [LABEL]: 'scan' } } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('app') },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta('default-deny'),
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta('app'),
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta('app'),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'app' },
      subjects: [{ kind: 'ServiceAccount', name: 'app', namespace: ns }],
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta('app'),
      spec: { selector: { app: 'app' }, ports: [{ port: 80 }] },
    },
  ];
  for (let p = 0; p < PODS; p++)
    items.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { ...meta(`app-${p}`), labels: { [LABEL]: 'scan', app: 'app' } },
      spec: {
        serviceAccountName: 'app',
        nodeSelector: { [LABEL]: 'scan' },
        tolerations: [{ key: 'kwok.x-k8s.io/node', operator: 'Exists', effect: 'NoSchedule' }],
        containers: [
          {
            name: 'app',
            image: 'ghcr.io/agent-hive/agent:1.0.0',
            env: [{ name: 'LOG_LEVEL', value: 'info' }],
            resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '32Mi' } },
          },
        ],
      },
    });
  batches.push(items);
}
// Namespaces first (one request each is fine), then everything else in chunks of 20 namespaces.
for (let i = 0; i < batches.length; i += 20) {
  const chunk = batches.slice(i, i + 20).flat();
  k(['apply', '-f', '-'], list(chunk.filter((o) => o.kind === 'Namespace')));
  k(['create', '-f', '-'], list(chunk.filter((o) => o.kind !== 'Namespace')));
  process.stderr.write(`\rbench/scan: seeded ${Math.min(i + 20, NS)}/${NS} namespaces`);
}
process.stderr.write('\n');
console.log(
  `bench/scan: ${NS} namespaces, ${NS * PODS} pods on ${nodes} extra KWOK nodes in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
);
