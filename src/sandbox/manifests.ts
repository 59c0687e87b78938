// Kubernetes objects the sandbox puts into its KWOK clusters: fake nodes with zone labels, the exec
// mapping, and the unprivileged identity. Plain data (JSON documents), applied with kubectl.

/** Annotation KWOK's controller selects its nodes by; removing it "fails" the node (chaos). */
export const FAKE_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
export const SANDBOX_NODE_LABEL = 'hivectl.dev/sandbox-node';
export const LIMITED_SA = { name: 'hivectl-limited', namespace: 'default', clusterRole: 'view' } as const;

export function nodeName(cluster: string, i: number) {
  return `${cluster}-node-${i}`;
}

export function fakeNodes(cluster: string, region: string, count: number): object[] {
  const zones = ['a', 'b', 'c'].map((z) => `${region}${z}`);
  // Room for many test runs' pods on three fake nodes (a real node's default is 110).
  const resources = { cpu: '32', memory: '256Gi', pods: '1000', 'ephemeral-storage': '500Gi' };
  return Array.from({ length: count }, (_, i) => {
    const name = nodeName(cluster, i);
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        annotations: { [FAKE_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
        labels: {
          'kubernetes.io/hostname': name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'node.kubernetes.io/instance-type': 'm5.8xlarge',
          'topology.kubernetes.io/region': region,
          'topology.kubernetes.io/zone': zones[i % zones.length],
          type: 'kwok',
          [SANDBOX_NODE_LABEL]: 'true',
        },
      },
      spec: {},
      // Nodes (unlike most kinds) keep the status given at create time.
      status: {
        capacity: resources,
        allocatable: resources,
        addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
      },
    };
  });
}

/** Every exec into a pod without its own mapping runs in one shared local directory. */
export function sharedClusterExec(dir: string): object {
  return {
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'ClusterExec',
    metadata: { name: 'hivectl-sandbox-shared' },
    spec: { execs: [{ local: { workDir: dir } }] },
  };
}

/** Exec object named like the pod: KWOK runs every exec into that pod in `dir` (takes precedence). */
export function podExec(namespace: string, pod: string, dir: string, podUid?: string): object {
  return {
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'Exec',
    metadata: {
      name: pod,
      namespace,
      labels: { 'hivectl.dev/sandbox-exec': 'true' },
      // Owned by its pod: the garbage collector removes the mapping when the pod goes.
      ...(podUid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: pod, uid: podUid }] } : {}),
    },
    spec: { execs: [{ local: { workDir: dir } }] },
  };
}

export function limitedIdentity(): object[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: LIMITED_SA.name, namespace: LIMITED_SA.namespace },
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: `${LIMITED_SA.name}-${LIMITED_SA.clusterRole}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: LIMITED_SA.clusterRole },
      subjects: [{ kind: 'ServiceAccount', name: LIMITED_SA.name, namespace: LIMITED_SA.namespace }],
    },
  ];
}

export function list(items: object[]): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

/** A kubeconfig that authenticates with a bearer token only (no client certificate). */
export function tokenKubeconfig(o: { server: string; caData: string; token: string; name: string }): string {
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: o.name, cluster: { server: o.server, 'certificate-authority-data': o.caData } }],
      users: [{ name: o.name, user: { token: o.token } }],
      contexts: [{ name: o.name, context: { cluster: o.name, user: o.name, namespace: LIMITED_SA.namespace } }],
      'current-context': o.name,
    },
    null,
    2,
  );
}
