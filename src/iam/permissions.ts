// What each hivectl command needs from Kubernetes and AWS, in one table. `hivectl iam-policy`
// generates the minimal IAM policy and RBAC from it; the Kubernetes half of the scan, backup, restore,
// bootstrap, failover, chaos and scale entries is proven in the sandbox (test/integration/scan-k8s.test.ts,
// iam-*.test.ts: an identity holding exactly this RBAC succeeds; one rule less and it fails naming it).
// Keep an entry in step with the code it describes: the adapter or step named in `why`.

/** Kubernetes rule. `cluster`: granted cluster-wide; `platform`/`state`: in those namespaces only. */
export interface K8sRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  scope: 'cluster' | 'platform' | 'state';
  why: string;
}

/** Resource classes, turned into ARNs from hivectl.yaml (or `*` when not configured). */
export type AwsResource =
  | 'backup-bucket'
  | 'backup-objects'
  | 'any-bucket'
  | 'db-instance'
  | 'db-snapshot'
  | 'db-cluster'
  | 'db-cluster-snapshot'
  | 'kms-key'
  | '*';

export interface AwsRule {
  actions: string[];
  resources: AwsResource[];
  why: string;
}

export interface CommandPermissions {
  command: string;
  summary: string;
  k8s: K8sRule[];
  aws: AwsRule[];
  /** `tested`: proven by a sandbox test; `from-code`: read from the adapters/steps the command uses. */
  verified: 'tested' | 'from-code';
}

const READ = ['get', 'list', 'watch'];
const APPLY = ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'];
const LOCK: K8sRule = {
  apiGroups: ['coordination.k8s.io'],
  resources: ['leases'],
  verbs: ['get', 'create', 'update', 'delete'],
  scope: 'state',
  why: 'the run lock (src/adapters/k8s-lease.ts)',
};

/** Kinds `hivectl scan` lists once per cluster (src/adapters/k8s-list.ts SCAN_KINDS). */
export const SCAN_K8S: K8sRule[] = [
  {
    apiGroups: [''],
    resources: ['namespaces', 'pods', 'services', 'serviceaccounts'],
    verbs: ['list'],
    scope: 'cluster',
    why: 'scan: workloads, namespaces, exposure, service accounts',
  },
  {
    apiGroups: ['apps'],
    resources: ['deployments', 'statefulsets', 'daemonsets', 'replicasets'],
    verbs: ['list'],
    scope: 'cluster',
    why: 'scan: pod templates of controllers',
  },
  {
    apiGroups: ['batch'],
    resources: ['jobs', 'cronjobs'],
    verbs: ['list'],
    scope: 'cluster',
    why: 'scan: pod templates of jobs',
  },
  {
    apiGroups: ['networking.k8s.io'],
    resources: ['networkpolicies'],
    verbs: ['list'],
    scope: 'cluster',
    why: 'scan: NetworkPolicy coverage',
  },
  {
    apiGroups: ['policy'],
    resources: ['poddisruptionbudgets'],
    verbs: ['list'],
    scope: 'cluster',
    why: 'scan: disruption budgets',
  },
  {
    apiGroups: ['rbac.authorization.k8s.io'],
    resources: ['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'],
    verbs: ['list'],
    scope: 'cluster',
    why: 'scan: RBAC checks',
  },
];

export const PERMISSIONS: readonly CommandPermissions[] = [
  {
    command: 'scan',
    summary: 'read-only: LIST 16 kinds cluster-wide; S3 bucket settings; RDS instances and snapshots',
    verified: 'tested',
    k8s: SCAN_K8S,
    aws: [
      {
        actions: ['s3:ListAllMyBuckets'],
        resources: ['*'],
        why: 'scan: every bucket when no backup bucket is configured',
      },
      {
        actions: [
          's3:GetBucketLocation',
          's3:GetBucketPublicAccessBlock',
          's3:GetEncryptionConfiguration',
          's3:GetBucketVersioning',
          's3:GetBucketObjectLockConfiguration',
          's3:GetLifecycleConfiguration',
          's3:GetReplicationConfiguration',
          's3:GetBucketPolicy',
        ],
        resources: ['any-bucket'],
        why: 'scan: S3 posture (src/adapters/aws-posture.ts)',
      },
      {
        actions: ['rds:DescribeDBInstances', 'rds:DescribeDBSnapshots', 'rds:DescribeDBSnapshotAttributes'],
        resources: ['*'],
        why: 'scan: RDS posture, snapshot age, public snapshots, DR copies',
      },
    ],
  },
  {
    command: 'backup',
    summary: 'dump PostgreSQL and cluster state to S3, RDS snapshots and their DR copies, retention pruning',
    verified: 'tested',
    k8s: [
      LOCK,
      {
        apiGroups: [''],
        resources: ['serviceaccounts', 'configmaps', 'secrets', 'services'],
        verbs: ['list'],
        scope: 'platform',
        why: 'cluster-state backup: one LIST per kind and namespace (src/backup/cluster-state-steps.ts)',
      },
      {
        apiGroups: ['rbac.authorization.k8s.io'],
        resources: ['roles', 'rolebindings'],
        verbs: ['list'],
        scope: 'platform',
        why: 'cluster-state backup',
      },
      {
        apiGroups: ['networking.k8s.io'],
        resources: ['networkpolicies'],
        verbs: ['list'],
        scope: 'platform',
        why: 'cluster-state backup',
      },
      {
        apiGroups: ['policy'],
        resources: ['poddisruptionbudgets'],
        verbs: ['list'],
        scope: 'platform',
        why: 'cluster-state backup',
      },
      {
        apiGroups: ['autoscaling'],
        resources: ['horizontalpodautoscalers'],
        verbs: ['list'],
        scope: 'platform',
        why: 'cluster-state backup',
      },
      {
        apiGroups: ['apps'],
        resources: ['deployments'],
        verbs: ['get', 'list'],
        scope: 'platform',
        why: 'cluster-state backup (list); the agents Deployment selector (get, src/steps/exec/pods.ts)',
      },
      {
        apiGroups: [''],
        resources: ['pods'],
        verbs: ['list'],
        scope: 'platform',
        why: 'the agent pods whose workspaces are backed up (src/steps/exec/pods.ts)',
      },
      {
        apiGroups: [''],
        resources: ['pods/exec'],
        verbs: ['create', 'get'],
        scope: 'platform',
        why: 'pre/post hooks, workspace backup: the websocket exec is authorized as both get and create',
      },
    ],
    aws: [
      {
        actions: [
          's3:GetBucketLocation',
          's3:ListBucket',
          's3:GetBucketVersioning',
          's3:GetBucketObjectLockConfiguration',
        ],
        resources: ['backup-bucket'],
        why: 'backup: find and list backups (src/adapters/s3.ts)',
      },
      {
        actions: [
          's3:PutObject',
          's3:GetObject',
          's3:DeleteObject',
          's3:AbortMultipartUpload',
          's3:ListMultipartUploadParts',
          's3:GetObjectRetention',
        ],
        resources: ['backup-objects'],
        why: 'backup: streamed multipart upload, verification read-back, retention pruning, copy to DR',
      },
      {
        actions: [
          'rds:CreateDBSnapshot',
          'rds:CopyDBSnapshot',
          'rds:DeleteDBSnapshot',
          'rds:DescribeDBSnapshots',
          'rds:DescribeDBInstances',
          'rds:AddTagsToResource',
        ],
        resources: ['db-instance', 'db-snapshot'],
        why: 'backup: RDS snapshots and their copies in the DR region (src/adapters/rds.ts)',
      },
      {
        actions: [
          'rds:CreateDBClusterSnapshot',
          'rds:CopyDBClusterSnapshot',
          'rds:DeleteDBClusterSnapshot',
          'rds:DescribeDBClusterSnapshots',
        ],
        resources: ['db-cluster', 'db-cluster-snapshot'],
        why: 'backup: Aurora cluster snapshots (database.kind: aurora)',
      },
      {
        actions: ['kms:GenerateDataKey', 'kms:Decrypt', 'kms:CreateGrant', 'kms:DescribeKey'],
        resources: ['kms-key'],
        why: 'SSE-KMS uploads and encrypted snapshot copies',
      },
    ],
  },
  {
    command: 'restore',
    summary: 'restore PostgreSQL / RDS and cluster state from a backup',
    verified: 'tested',
    k8s: [
      LOCK,
      {
        apiGroups: [''],
        resources: ['serviceaccounts', 'configmaps', 'secrets', 'services'],
        verbs: ['create', 'patch'],
        scope: 'platform',
        why: 'cluster-state restore: server-side apply (patch; create when missing) (src/backup/cluster-state-steps.ts)',
      },
      {
        apiGroups: [''],
        resources: ['secrets'],
        verbs: ['get'],
        scope: 'platform',
        why: 'RDS restore: read, then patch the endpoint Secret (src/steps/aws/rds-restore.ts)',
      },
      {
        apiGroups: ['rbac.authorization.k8s.io'],
        resources: ['roles', 'rolebindings'],
        verbs: ['create', 'patch'],
        scope: 'platform',
        why: 'cluster-state restore',
      },
      {
        apiGroups: ['rbac.authorization.k8s.io'],
        resources: ['roles'],
        verbs: ['bind', 'escalate'],
        scope: 'platform',
        why: 'restoring a Role (Binding) needs what it grants, or these; no wider than creating Deployments there',
      },
      {
        apiGroups: ['networking.k8s.io'],
        resources: ['networkpolicies'],
        verbs: ['create', 'patch'],
        scope: 'platform',
        why: 'cluster-state restore',
      },
      {
        apiGroups: ['policy'],
        resources: ['poddisruptionbudgets'],
        verbs: ['create', 'patch'],
        scope: 'platform',
        why: 'cluster-state restore',
      },
      {
        apiGroups: ['autoscaling'],
        resources: ['horizontalpodautoscalers'],
        verbs: ['create', 'patch'],
        scope: 'platform',
        why: 'cluster-state restore',
      },
      {
        apiGroups: ['apps'],
        resources: ['deployments'],
        verbs: ['get', 'create', 'patch'],
        scope: 'platform',
        why: 'cluster-state restore; quiesce reads replicas and waits (src/steps/k8s/quiesce.ts); agents selector',
      },
      {
        apiGroups: ['apps'],
        resources: ['deployments/scale'],
        verbs: ['patch'],
        scope: 'platform',
        why: 'quiesce / unquiesce: JSON patch of the scale subresource',
      },
      {
        apiGroups: [''],
        resources: ['pods'],
        verbs: ['list'],
        scope: 'platform',
        why: 'the agent pods the workspaces go into (src/steps/exec/pods.ts)',
      },
      {
        apiGroups: [''],
        resources: ['pods/exec'],
        verbs: ['create', 'get'],
        scope: 'platform',
        why: 'workspace restore: tar over the websocket exec (authorized as both get and create)',
      },
    ],
    aws: [
      {
        actions: ['s3:GetBucketLocation', 's3:ListBucket'],
        resources: ['backup-bucket'],
        why: 'restore: find backups',
      },
      {
        actions: ['s3:GetObject', 's3:GetObjectRetention'],
        resources: ['backup-objects'],
        why: 'restore: stream the dump',
      },
      {
        actions: [
          'rds:RestoreDBInstanceFromDBSnapshot',
          'rds:RestoreDBInstanceToPointInTime',
          'rds:DescribeDBInstances',
          'rds:DescribeDBSnapshots',
          'rds:AddTagsToResource',
        ],
        resources: ['db-instance', 'db-snapshot'],
        why: 'restore: RDS from snapshot or point in time',
      },
      {
        actions: ['kms:Decrypt', 'kms:CreateGrant', 'kms:DescribeKey'],
        resources: ['kms-key'],
        why: 'encrypted snapshots and objects',
      },
    ],
  },
  {
    command: 'bootstrap',
    summary: 'server-side apply of the hardened stack, prune, revisions',
    verified: 'tested',
    k8s: [
      LOCK,
      {
        apiGroups: [''],
        resources: ['namespaces'],
        verbs: ['get', 'list', 'create', 'patch'],
        scope: 'cluster',
        why: 'stack namespaces with PSS labels',
      },
      {
        apiGroups: ['scheduling.k8s.io'],
        resources: ['priorityclasses'],
        verbs: ['get', 'list', 'create', 'patch', 'delete'],
        scope: 'cluster',
        why: 'stack PriorityClasses',
      },
      {
        apiGroups: [''],
        resources: ['resourcequotas', 'limitranges', 'serviceaccounts', 'configmaps', 'secrets', 'services'],
        verbs: APPLY,
        scope: 'platform',
        why: 'stack objects (templates/)',
      },
      {
        apiGroups: ['rbac.authorization.k8s.io'],
        resources: ['roles', 'rolebindings'],
        verbs: APPLY,
        scope: 'platform',
        why: 'stack RBAC',
      },
      {
        apiGroups: ['rbac.authorization.k8s.io'],
        resources: ['roles'],
        verbs: ['bind', 'escalate'],
        scope: 'platform',
        why: 'the stack Roles grant what hivectl does not hold (agents patch their pods); planning a RoleBinding by dry-run needs bind',
      },
      {
        apiGroups: ['networking.k8s.io'],
        resources: ['networkpolicies'],
        verbs: APPLY,
        scope: 'platform',
        why: 'default-deny and allow policies',
      },
      {
        apiGroups: ['apps'],
        resources: ['deployments'],
        verbs: APPLY,
        scope: 'platform',
        why: 'workloads, rollout wait',
      },
      { apiGroups: ['apps'], resources: ['replicasets'], verbs: READ, scope: 'platform', why: 'rollout status' },
      { apiGroups: [''], resources: ['pods'], verbs: READ, scope: 'platform', why: 'rollout status' },
      { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: APPLY, scope: 'platform', why: 'PDBs' },
      {
        apiGroups: ['autoscaling'],
        resources: ['horizontalpodautoscalers'],
        verbs: APPLY,
        scope: 'platform',
        why: 'HPAs',
      },
      {
        apiGroups: [''],
        resources: ['secrets'],
        verbs: ['get', 'list', 'create', 'delete'],
        scope: 'state',
        why: 'bootstrap revisions: typed Secrets, the oldest deleted (src/steps/k8s/revisions.ts)',
      },
      {
        apiGroups: ['apiextensions.k8s.io'],
        resources: ['customresourcedefinitions'],
        verbs: ['get', 'list'],
        scope: 'cluster',
        why: 'discover optional CRDs (ExternalSecret, ServiceMonitor, ...)',
      },
    ],
    aws: [],
  },
  {
    command: 'failover',
    summary: 'fence the primary, promote the DR database, repoint the endpoint Secret, scale the DR side',
    verified: 'tested',
    k8s: [
      LOCK,
      {
        apiGroups: ['apps'],
        resources: ['deployments'],
        verbs: ['get', 'list', 'watch', 'patch'],
        scope: 'platform',
        why: 'fence and scale (get, merge patch of spec.replicas: src/steps/failover/steps.ts), wait Ready (list + watch)',
      },
      {
        apiGroups: [''],
        resources: ['pods'],
        verbs: ['list'],
        scope: 'platform',
        why: 'why a rollout is not Ready, on timeout (src/adapters/k8s-watch.ts)',
      },
      {
        apiGroups: [''],
        resources: ['secrets'],
        verbs: ['get', 'create', 'update'],
        scope: 'platform',
        why: 'repoint the database endpoint Secret: read, replace (create when missing)',
      },
    ],
    aws: [
      {
        actions: [
          'rds:DescribeDBInstances',
          'rds:DescribeDBClusters',
          'rds:DescribeDBSnapshots',
          'rds:PromoteReadReplica',
          'rds:RebootDBInstance',
          'rds:FailoverDBCluster',
          'rds:RestoreDBInstanceFromDBSnapshot',
        ],
        resources: ['db-instance', 'db-cluster', 'db-snapshot'],
        why: 'promote the DR replica, fail the cluster over, or restore the newest DR snapshot (src/adapters/rds-failover.ts, rds.ts)',
      },
      {
        actions: ['cloudwatch:GetMetricData'],
        resources: ['*'],
        why: "the DR replica's ReplicaLag, the RPO of a replica failover (src/adapters/cloudwatch.ts)",
      },
    ],
  },
  {
    command: 'chaos',
    summary:
      'pod-kill, network-partition, dependency-outage, cleanup, abort (node-failure needs node writes: not granted)',
    verified: 'tested',
    k8s: [
      LOCK,
      {
        apiGroups: [''],
        resources: ['namespaces'],
        verbs: ['get'],
        scope: 'cluster',
        why: 'the opt-in label of the target namespace (src/chaos/actions.ts); the lock and ledger namespace exists',
      },
      {
        apiGroups: [''],
        resources: ['pods'],
        verbs: ['list', 'delete'],
        scope: 'platform',
        why: 'pod-kill: pick opted-in pods, delete them (src/adapters/k8s-chaos.ts)',
      },
      {
        apiGroups: ['apps'],
        resources: ['deployments'],
        verbs: ['get', 'list', 'watch'],
        scope: 'platform',
        why: 'ready-replicas probes (a GET, or a watch while observing)',
      },
      {
        apiGroups: ['networking.k8s.io'],
        resources: ['networkpolicies'],
        verbs: ['create', 'patch', 'delete'],
        scope: 'platform',
        why: 'network-partition, dependency-outage: server-side apply of the fault (create + patch), rollback',
      },
      {
        apiGroups: [''],
        resources: ['configmaps'],
        verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'],
        scope: 'state',
        why: 'the fault ledger, one ConfigMap per run, and the kill switch, watched while observing (src/chaos/faults.ts, src/steps/chaos/experiment.ts)',
      },
      {
        apiGroups: ['networking.k8s.io'],
        resources: ['networkpolicies'],
        verbs: ['list'],
        scope: 'cluster',
        why: 'cleanup: sweep by run label for faults whose ledger is gone',
      },
      {
        apiGroups: [''],
        resources: ['nodes'],
        verbs: ['list'],
        scope: 'cluster',
        why: 'cleanup: sweep by run label for failed nodes',
      },
    ],
    aws: [
      {
        actions: ['rds:DescribeDBInstances', 'rds:DescribeDBClusters', 'rds:RebootDBInstance', 'rds:FailoverDBCluster'],
        resources: ['db-instance', 'db-cluster'],
        why: 'db-failover: reboot with failover or FailoverDBCluster (src/adapters/rds-failover.ts)',
      },
    ],
  },
  {
    command: 'scale',
    summary: 'scale the agent workers by hand, by policy, or on queue depth',
    verified: 'tested',
    k8s: [
      LOCK,
      {
        apiGroups: ['apps'],
        resources: ['deployments'],
        verbs: ['get', 'list', 'watch', 'patch'],
        scope: 'platform',
        why: 'read the agents Deployment, its autoscale history annotation (patch), wait Ready (list + watch) (src/steps/k8s/scale.ts)',
      },
      {
        apiGroups: ['apps'],
        resources: ['deployments/scale'],
        verbs: ['patch'],
        scope: 'platform',
        why: 'scale through the scale subresource',
      },
      {
        apiGroups: [''],
        resources: ['pods'],
        verbs: ['list', 'patch'],
        scope: 'platform',
        why: 'idle agents first on scale-in: pod-deletion-cost annotations',
      },
      {
        apiGroups: [''],
        resources: ['resourcequotas'],
        verbs: ['list'],
        scope: 'platform',
        why: 'scale policy: --max must fit the namespace quota',
      },
      {
        apiGroups: ['autoscaling'],
        resources: ['horizontalpodautoscalers'],
        verbs: ['list', 'patch'],
        scope: 'platform',
        why: 'find the HPA owning the count; pause (min = max), resume, policy',
      },
      {
        apiGroups: ['keda.sh'],
        resources: ['scaledobjects'],
        verbs: ['list', 'patch'],
        scope: 'platform',
        why: 'the same for a KEDA ScaledObject when KEDA is installed (from code: no KEDA in the sandbox)',
      },
    ],
    aws: [],
  },
  {
    command: 'doctor',
    summary: 'read-only checks: server version, access review, AWS identity, buckets',
    verified: 'from-code',
    k8s: [
      {
        apiGroups: ['authorization.k8s.io'],
        resources: ['selfsubjectaccessreviews'],
        verbs: ['create'],
        scope: 'cluster',
        why: 'what the identity may do (src/adapters/k8s-access.ts)',
      },
    ],
    aws: [
      { actions: ['sts:GetCallerIdentity'], resources: ['*'], why: 'which AWS identity is in use' },
      { actions: ['s3:ListBucket'], resources: ['backup-bucket'], why: 'HeadBucket on the backup bucket' },
    ],
  },
];

/** `drill` runs backup, restore, failover and chaos runbooks in a row: it needs all of theirs. */
const DRILL_OF = ['backup', 'restore', 'failover', 'chaos'];
export const ALL_PERMISSIONS: readonly CommandPermissions[] = [
  ...PERMISSIONS,
  {
    command: 'drill',
    summary: `a DR drill: the union of ${DRILL_OF.join(', ')}`,
    verified: 'from-code',
    k8s: PERMISSIONS.filter((p) => DRILL_OF.includes(p.command)).flatMap((p) => p.k8s),
    aws: PERMISSIONS.filter((p) => DRILL_OF.includes(p.command)).flatMap((p) => p.aws),
  },
];

export function permissionsFor(commands: string[]): CommandPermissions[] {
  return commands.map((c) => {
    const p = ALL_PERMISSIONS.find((x) => x.command === c);
    if (!p) throw new Error(`unknown command ${c}`);
    return p;
  });
}
