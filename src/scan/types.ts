// The scan model: checks, findings and the in-memory inventory they are evaluated over. Pure data:
// no SDK, no I/O, so every check is unit-testable on fixtures.

export const SEVERITIES = ['note', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export function parseSeverity(s: string): Severity | undefined {
  const v = s.toLowerCase();
  if (v === 'info') return 'note';
  return (SEVERITIES as readonly string[]).includes(v) ? (v as Severity) : undefined;
}

/** Frameworks a check belongs to; the per-framework summary counts checks passed/failed in each. */
export const FRAMEWORKS = {
  'pss-baseline': 'Pod Security Standards: baseline',
  'pss-restricted': 'Pod Security Standards: restricted',
  'cis-rbac': 'CIS Kubernetes Benchmark (RBAC and service accounts, 5.1)',
  'cis-workload': 'CIS Kubernetes Benchmark (policies, 5.2-5.7)',
  nsa: 'NSA/CISA Kubernetes Hardening Guide',
  'aws-backup': 'AWS backup posture (S3 and RDS)',
  images: 'Image vulnerabilities (Trivy)',
} as const;
export type Framework = keyof typeof FRAMEWORKS;

export type Scope = 'k8s' | 'aws' | 'images';

export interface Reference {
  /** e.g. `PSS restricted: Running as Non-root`, `CIS 5.1.3`, `NSA/CISA: Pod security` */
  label: string;
  url?: string;
}

export interface CheckMeta {
  /** Stable, never reused: HIVE-PSS-001. */
  id: string;
  severity: Severity;
  title: string;
  /** Why it matters, one or two sentences. */
  why: string;
  /** What to change, concretely. */
  remediation: string;
  frameworks: Framework[];
  references: Reference[];
  scope: Scope;
}

export interface Finding {
  checkId: string;
  severity: Severity;
  /** `Kind/namespace/name` (or `Kind/name` cluster-scoped), `s3://bucket`, `rds:instance`. */
  target: string;
  /** Container name for workload findings. */
  container?: string;
  /** Tells apart several findings of one check on one target (a volume, an env var, a CVE). */
  key?: string;
  message: string;
  /** Where it came from: a manifest file:document, or the cluster/context. */
  source?: string;
}

/** A finding after exceptions, annotations and the baseline are applied. */
export interface EvaluatedFinding extends Finding {
  fingerprint: string;
  suppressed?: { by: 'exception' | 'annotation' | 'baseline'; reason: string; expires?: string };
}

// ---------- Kubernetes objects, loosely typed: only the fields the checks read ----------

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { kind?: string; name?: string; controller?: boolean }[];
  deletionTimestamp?: string;
}

export interface KObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  // biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are read field by field, defensively
  spec?: any;
  // biome-ignore lint/suspicious/noExplicitAny: see above
  [k: string]: any;
}

/** A pod template (from a controller) or a bare pod, the unit the workload checks look at. */
export interface Workload {
  kind: string;
  namespace: string;
  name: string;
  target: string;
  /** Labels of the pods it creates (template labels). */
  podLabels: Record<string, string>;
  annotations: Record<string, string>;
  templateAnnotations: Record<string, string>;
  replicas: number;
  // biome-ignore lint/suspicious/noExplicitAny: PodSpec read defensively
  podSpec: any;
  source?: string | undefined;
}

export interface K8sInventory {
  workloads: Workload[];
  namespaces: KObject[];
  networkPolicies: KObject[];
  services: KObject[];
  pdbs: KObject[];
  roles: KObject[];
  clusterRoles: KObject[];
  roleBindings: KObject[];
  clusterRoleBindings: KObject[];
  serviceAccounts: KObject[];
  /** Namespaces that exist only implicitly (manifests refer to them but do not define them). */
  impliedNamespaces: string[];
  /** Whether namespaces are known fully (live cluster) or only as far as manifests define them. */
  mode: 'live' | 'manifests';
}

// ---------- AWS posture, as read by the adapter ----------

export interface BucketPosture {
  name: string;
  region?: string | undefined;
  /** Marked as a backup bucket (hivectl.yaml backup.bucket/drBucket, or --bucket). */
  backup: boolean;
  publicAccessBlock?:
    | {
        BlockPublicAcls?: boolean;
        IgnorePublicAcls?: boolean;
        BlockPublicPolicy?: boolean;
        RestrictPublicBuckets?: boolean;
      }
    | undefined;
  encryption?: { algorithm?: string | undefined } | undefined;
  versioning?: string | undefined;
  objectLock?: boolean | undefined;
  lifecycleRules?: number | undefined;
  /** Destination bucket ARNs of enabled replication rules. */
  replicationDestinations?: string[] | undefined;
  /** Regions of the replication destinations when known. */
  replicationRegions?: string[] | undefined;
  // biome-ignore lint/suspicious/noExplicitAny: IAM policy documents are arbitrary JSON
  policy?: any;
}

export interface DbInstancePosture {
  id: string;
  region: string;
  engine?: string | undefined;
  storageEncrypted?: boolean | undefined;
  publiclyAccessible?: boolean | undefined;
  backupRetentionPeriod?: number | undefined;
  deletionProtection?: boolean | undefined;
  multiAZ?: boolean | undefined;
  iamAuth?: boolean | undefined;
  /** Point-in-time restore reaches up to here when automated backups are on. */
  latestRestorableTime?: string | undefined;
  snapshots: { id: string; created?: string | undefined; public?: boolean | undefined }[];
  /** Snapshots of this instance found in the DR region (copies). */
  drSnapshots?: { id: string; created?: string | undefined }[] | undefined;
  drRegion?: string | undefined;
}

export interface AwsInventory {
  region: string;
  drRegion?: string | undefined;
  buckets: BucketPosture[];
  dbInstances: DbInstancePosture[];
  /** The recovery point objective in seconds (hivectl.yaml slo.rpo). */
  rpoSeconds: number;
  /** "now" for snapshot age, injectable for tests. */
  now: Date;
}

export interface ImageVuln {
  image: string;
  id: string;
  severity: Severity;
  pkg?: string | undefined;
  installed?: string | undefined;
  fixed?: string | undefined;
  title?: string | undefined;
}

export interface ImageInventory {
  /** Whether the image scanner ran; when not, why (a note-level finding says so: never a silent pass). */
  ran: boolean;
  reason?: string | undefined;
  images: string[];
  vulns: ImageVuln[];
}

export interface Inventory {
  k8s?: K8sInventory;
  aws?: AwsInventory;
  images?: ImageInventory;
}

export interface Check extends CheckMeta {
  run(inv: Inventory): Finding[];
}
