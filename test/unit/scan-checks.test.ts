// Every check fires on a seeded bad object and stays quiet on a good one (table-driven).
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/scan/engine.js';
import { buildK8sInventory } from '../../src/scan/inventory.js';
import { CHECKS } from '../../src/scan/registry.js';
import type { AwsInventory, BucketPosture, DbInstancePosture, Inventory, KObject } from '../../src/scan/types.js';
import { goodObjects, withWeb } from '../fixtures/scan/k8s-good.js';

const NOW = new Date('2026-11-27T12:00:00Z');

function scanK8s(objs: KObject[]) {
  return evaluate({ k8s: buildK8sInventory(objs, 'live') }, { scopes: ['k8s'], now: NOW }).findings;
}

const ns = 'shop';
const rb = (name: string, roleKind: string, role: string, subjects: unknown[], namespace?: string): KObject => ({
  kind: namespace ? 'RoleBinding' : 'ClusterRoleBinding',
  metadata: { name, ...(namespace ? { namespace } : {}) },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: role },
  subjects,
});
const extra = (...more: KObject[]) => [...goodObjects(ns), ...more];

const K8S_CASES: { id: string; why: string; objs: () => KObject[]; target?: string }[] = [
  {
    id: 'HIVE-PSS-001',
    why: 'privileged',
    objs: () =>
      withWeb((_p, c) => {
        c.securityContext.privileged = true;
      }),
  },
  {
    id: 'HIVE-PSS-002',
    why: 'hostNetwork',
    objs: () =>
      withWeb((p) => {
        p.hostPID = true;
      }),
  },
  {
    id: 'HIVE-PSS-003',
    why: 'hostPath',
    objs: () =>
      withWeb((p) => {
        p.volumes.push({ name: 'h', hostPath: { path: '/var/run' } });
      }),
  },
  {
    id: 'HIVE-PSS-004',
    why: 'SYS_ADMIN',
    objs: () =>
      withWeb((_p, c) => {
        c.securityContext.capabilities.add = ['SYS_ADMIN'];
      }),
  },
  {
    id: 'HIVE-PSS-005',
    why: 'no drop ALL',
    objs: () =>
      withWeb((_p, c) => {
        c.securityContext.capabilities = { drop: ['NET_RAW'] };
      }),
  },
  {
    id: 'HIVE-PSS-006',
    why: 'runAsUser 0',
    objs: () =>
      withWeb((_p, c) => {
        c.securityContext.runAsUser = 0;
      }),
  },
  {
    id: 'HIVE-PSS-006',
    why: 'no runAsNonRoot',
    objs: () =>
      withWeb((p) => {
        delete p.securityContext.runAsNonRoot;
      }),
  },
  {
    id: 'HIVE-PSS-007',
    why: 'escalation',
    objs: () =>
      withWeb((_p, c) => {
        delete c.securityContext.allowPrivilegeEscalation;
      }),
  },
  {
    id: 'HIVE-PSS-008',
    why: 'no seccomp',
    objs: () =>
      withWeb((p) => {
        delete p.securityContext.seccompProfile;
      }),
  },
  {
    id: 'HIVE-PSS-008',
    why: 'Unconfined',
    objs: () =>
      withWeb((_p, c) => {
        c.securityContext.seccompProfile = { type: 'Unconfined' };
      }),
  },
  {
    id: 'HIVE-PSS-010',
    why: 'hostPort',
    objs: () =>
      withWeb((_p, c) => {
        c.ports[0].hostPort = 8080;
      }),
  },
  {
    id: 'HIVE-PSS-011',
    why: 'sysctl',
    objs: () =>
      withWeb((p) => {
        p.securityContext.sysctls = [{ name: 'kernel.msgmax', value: '1' }];
      }),
  },
  {
    id: 'HIVE-PSS-011',
    why: 'procMount',
    objs: () =>
      withWeb((_p, c) => {
        c.securityContext.procMount = 'Unmasked';
      }),
  },
  {
    id: 'HIVE-PSS-012',
    why: 'nfs volume',
    objs: () =>
      withWeb((p) => {
        p.volumes.push({ name: 'n', nfs: { server: 'x', path: '/' } });
      }),
  },
  {
    id: 'HIVE-POD-001',
    why: 'writable root',
    objs: () =>
      withWeb((_p, c) => {
        c.securityContext.readOnlyRootFilesystem = false;
      }),
  },
  {
    id: 'HIVE-IMG-001',
    why: 'latest',
    objs: () =>
      withWeb((_p, c) => {
        c.image = 'nginx:latest';
      }),
  },
  {
    id: 'HIVE-IMG-001',
    why: 'untagged',
    objs: () =>
      withWeb((_p, c) => {
        c.image = 'registry:5000/team/nginx';
      }),
  },
  {
    id: 'HIVE-IMG-002',
    why: 'tag only',
    objs: () =>
      withWeb((_p, c) => {
        c.image = 'ghcr.io/agent-hive/web:1.2.3';
      }),
  },
  {
    id: 'HIVE-POD-002',
    why: 'no requests',
    objs: () =>
      withWeb((_p, c) => {
        delete c.resources.requests;
      }),
  },
  {
    id: 'HIVE-POD-003',
    why: 'no memory limit',
    objs: () =>
      withWeb((_p, c) => {
        delete c.resources.limits;
      }),
  },
  {
    id: 'HIVE-POD-004',
    why: 'no probes',
    objs: () =>
      withWeb((_p, c) => {
        delete c.livenessProbe;
      }),
  },
  {
    id: 'HIVE-SEC-001',
    why: 'AWS key by value',
    objs: () =>
      withWeb((_p, c) => {
        c.env.push({ name: 'UPSTREAM', value: 'AKIAIOSFODNN7EXAMPLE' });
      }),
  },
  {
    id: 'HIVE-SEC-001',
    why: 'password by name',
    objs: () =>
      withWeb((_p, c) => {
        c.env.push({ name: 'DB_PASSWORD', value: 'hunter2hunter2' });
      }),
  },
  {
    id: 'HIVE-SEC-001',
    why: 'high entropy',
    objs: () =>
      withWeb((_p, c) => {
        c.env.push({ name: 'UPSTREAM_SIG', value: 'q8Zr3LkP0vXw9Tn2Bd7Hs5Jc1Ym4Qe6U' });
      }),
  },
  {
    id: 'HIVE-SEC-001',
    why: 'private key',
    objs: () =>
      withWeb((_p, c) => {
        c.env.push({ name: 'TLS', value: '-----BEGIN RSA PRIVATE KEY-----\nMIIB...' });
      }),
  },
  {
    id: 'HIVE-POD-005',
    why: 'token mounted, no bindings',
    objs: () =>
      withWeb((p) => {
        delete p.automountServiceAccountToken;
        p.serviceAccountName = 'idle';
      }),
  },
  { id: 'HIVE-POD-006', why: 'no PDB', objs: () => goodObjects(ns).filter((o) => o.kind !== 'PodDisruptionBudget') },
  {
    id: 'HIVE-NS-001',
    why: 'no enforce label',
    objs: () =>
      withWeb((_p, _c, objs) => {
        objs[0]!.metadata!.labels = {};
      }),
  },
  {
    id: 'HIVE-NS-002',
    why: 'baseline enforced, restricted met',
    objs: () =>
      withWeb((_p, _c, objs) => {
        objs[0]!.metadata!.labels = { 'pod-security.kubernetes.io/enforce': 'baseline' };
      }),
  },
  {
    id: 'HIVE-NET-001',
    why: 'no policy selects',
    objs: () => goodObjects(ns).filter((o) => o.kind !== 'NetworkPolicy'),
  },
  {
    id: 'HIVE-NET-002',
    why: 'no default deny ingress',
    objs: () => goodObjects(ns).filter((o) => o.metadata?.name !== 'default-deny'),
  },
  {
    id: 'HIVE-NET-003',
    why: 'deny ingress only',
    objs: () =>
      withWeb((_p, _c, objs) => {
        objs.find((o) => o.metadata?.name === 'default-deny')!.spec.policyTypes = ['Ingress'];
      }),
  },
  {
    id: 'HIVE-NET-004',
    why: 'LoadBalancer',
    objs: () =>
      withWeb((_p, _c, objs) => {
        objs.find((o) => o.kind === 'Service')!.spec.type = 'LoadBalancer';
      }),
  },
  {
    id: 'HIVE-RBAC-001',
    why: 'verbs *',
    objs: () =>
      extra({
        kind: 'Role',
        metadata: { name: 'w', namespace: ns },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['*'] }],
      }),
  },
  {
    id: 'HIVE-RBAC-002',
    why: 'resources *',
    objs: () =>
      extra({
        kind: 'ClusterRole',
        metadata: { name: 'w' },
        rules: [{ apiGroups: ['apps'], resources: ['*'], verbs: ['get'] }],
      }),
  },
  {
    id: 'HIVE-RBAC-003',
    why: 'cluster-admin to a user',
    objs: () => extra(rb('ops-admin', 'ClusterRole', 'cluster-admin', [{ kind: 'User', name: 'alice' }])),
  },
  {
    id: 'HIVE-RBAC-004',
    why: 'impersonate',
    objs: () =>
      extra({
        kind: 'ClusterRole',
        metadata: { name: 'imp' },
        rules: [{ apiGroups: [''], resources: ['users'], verbs: ['impersonate'] }],
      }),
  },
  {
    id: 'HIVE-RBAC-005',
    why: 'secrets cluster-wide',
    objs: () =>
      extra(
        {
          kind: 'ClusterRole',
          metadata: { name: 'secret-reader' },
          rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['list'] }],
        },
        rb('secret-reader', 'ClusterRole', 'secret-reader', [{ kind: 'ServiceAccount', name: 'web', namespace: ns }]),
      ),
  },
  {
    id: 'HIVE-RBAC-006',
    why: 'default SA bound',
    objs: () =>
      extra(rb('dflt', 'Role', 'web-reader', [{ kind: 'ServiceAccount', name: 'default', namespace: ns }], ns)),
  },
];

describe('Kubernetes checks', () => {
  it('the hardened fixture is completely clean', () => {
    expect(scanK8s(goodObjects(ns))).toEqual([]);
  });

  for (const c of K8S_CASES) {
    it(`${c.id} fires on ${c.why}, and only it`, () => {
      const f = scanK8s(c.objs());
      const ids = [...new Set(f.map((x) => x.checkId))];
      // Some mutations legitimately trip a related check too (listed), never an unrelated one.
      const related: Record<string, string[]> = {
        'HIVE-PSS-006': ['HIVE-NS-002'],
        'HIVE-PSS-001': [],
        'HIVE-NET-001': ['HIVE-NET-002', 'HIVE-NET-003'],
        'HIVE-NET-002': ['HIVE-NET-003'],
        'HIVE-PSS-004': ['HIVE-PSS-005'],
        'HIVE-RBAC-006': [],
        'HIVE-PSS-005': [],
        'HIVE-PSS-012': [],
      };
      expect(ids).toContain(c.id);
      for (const id of ids) if (id !== c.id) expect(related[c.id] ?? [], `${id} also fired`).toContain(id);
    });
  }

  it('covers every Kubernetes check', () => {
    const covered = new Set(K8S_CASES.map((c) => c.id));
    const k8sChecks = CHECKS.filter((c) => c.scope === 'k8s').map((c) => c.id);
    expect(k8sChecks.filter((id) => !covered.has(id))).toEqual([]);
  });

  it('a namespace without workloads needs a Pod Security label but no default-deny policy', () => {
    const labelled = {
      kind: 'Namespace',
      metadata: { name: 'hive-system', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
    };
    expect(scanK8s([labelled])).toEqual([]);
    const bare = { kind: 'Namespace', metadata: { name: 'hive-system' } };
    expect(scanK8s([bare]).map((f) => f.checkId)).toEqual(['HIVE-NS-001']);
  });

  it('a namespace-wide default-deny selects every pod (no HIVE-NET-001)', () => {
    const objs = goodObjects(ns).filter((o) => o.metadata?.name !== 'web-ingress');
    expect(scanK8s(objs).map((f) => f.checkId)).not.toContain('HIVE-NET-001');
  });

  it('a policy selecting other pods does not cover the workload', () => {
    const objs = goodObjects(ns).filter((o) => o.kind !== 'NetworkPolicy');
    objs.push({
      kind: 'NetworkPolicy',
      metadata: { name: 'other', namespace: ns },
      spec: { podSelector: { matchLabels: { app: 'db' } } },
    });
    expect(
      scanK8s(objs)
        .filter((f) => f.checkId === 'HIVE-NET-001')
        .map((f) => f.target),
    ).toEqual(['Deployment/shop/web']);
  });

  it('pods owned by a ReplicaSet are covered by the Deployment, bare pods are scanned', () => {
    const objs = goodObjects(ns);
    const podSpec = structuredClone(objs.find((o) => o.kind === 'Deployment')!.spec.template.spec);
    podSpec.containers[0].securityContext.privileged = true;
    objs.push(
      {
        kind: 'Pod',
        metadata: {
          name: 'web-abc',
          namespace: ns,
          labels: { app: 'web' },
          ownerReferences: [{ kind: 'ReplicaSet', name: 'web-1', controller: true }],
        },
        spec: podSpec,
      },
      {
        kind: 'ReplicaSet',
        metadata: {
          name: 'web-1',
          namespace: ns,
          ownerReferences: [{ kind: 'Deployment', name: 'web', controller: true }],
        },
        spec: { replicas: 3, template: { metadata: { labels: { app: 'web' } }, spec: podSpec } },
      },
      { kind: 'Pod', metadata: { name: 'debug', namespace: ns, labels: { app: 'web' } }, spec: podSpec },
    );
    const priv = scanK8s(objs).filter((f) => f.checkId === 'HIVE-PSS-001');
    expect(priv.map((f) => f.target)).toEqual(['Pod/shop/debug']);
  });

  it('objects already being deleted are left out', () => {
    const objs = withWeb((_p, c, all) => {
      c.securityContext.privileged = true;
      all.find((o) => o.kind === 'Deployment')!.metadata!.deletionTimestamp = '2026-11-27T00:00:00Z';
    });
    expect(scanK8s(objs).filter((f) => f.checkId === 'HIVE-PSS-001')).toEqual([]);
  });

  it('secretKeyRef and harmless literals are never secrets', () => {
    const f = scanK8s(goodObjects(ns)).filter((x) => x.checkId === 'HIVE-SEC-001');
    expect(f).toEqual([]);
  });

  it('built-in roles are not reported for their own wildcards, and system bindings are fine', () => {
    const f = scanK8s(goodObjects(ns)).filter((x) => x.checkId.startsWith('HIVE-RBAC'));
    expect(f).toEqual([]);
  });
});

// ---------------- AWS ----------------

const goodBucket = (name = 'hive-backups'): BucketPosture => ({
  name,
  region: 'us-east-1',
  backup: true,
  publicAccessBlock: {
    BlockPublicAcls: true,
    IgnorePublicAcls: true,
    BlockPublicPolicy: true,
    RestrictPublicBuckets: true,
  },
  encryption: { algorithm: 'aws:kms' },
  versioning: 'Enabled',
  objectLock: true,
  lifecycleRules: 1,
  replicationDestinations: ['arn:aws:s3:::hive-backups-dr'],
  replicationRegions: ['us-west-2'],
  policy: {
    Statement: [
      { Effect: 'Deny', Principal: '*', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
    ],
  },
});
const goodDb = (): DbInstancePosture => ({
  id: 'hive-db',
  region: 'us-east-1',
  storageEncrypted: true,
  publiclyAccessible: false,
  backupRetentionPeriod: 14,
  deletionProtection: true,
  multiAZ: true,
  iamAuth: true,
  snapshots: [{ id: 's1', created: '2026-11-27T11:58:00Z', public: false }],
  drSnapshots: [{ id: 's1-copy', created: '2026-11-27T11:59:00Z' }],
  drRegion: 'us-west-2',
});
function awsInv(b: BucketPosture[], d: DbInstancePosture[]): Inventory {
  const aws: AwsInventory = {
    region: 'us-east-1',
    drRegion: 'us-west-2',
    buckets: b,
    dbInstances: d,
    rpoSeconds: 300,
    now: NOW,
  };
  return { aws };
}
const scanAws = (inv: Inventory) => evaluate(inv, { scopes: ['aws'], now: NOW }).findings;

const AWS_CASES: { id: string; why: string; b?: (b: BucketPosture) => void; d?: (d: DbInstancePosture) => void }[] = [
  {
    id: 'HIVE-S3-001',
    why: 'no PAB',
    b: (b) => {
      b.publicAccessBlock = undefined;
    },
  },
  {
    id: 'HIVE-S3-001',
    why: 'partial PAB',
    b: (b) => {
      b.publicAccessBlock!.RestrictPublicBuckets = false;
    },
  },
  {
    id: 'HIVE-S3-002',
    why: 'no encryption',
    b: (b) => {
      b.encryption = undefined;
    },
  },
  {
    id: 'HIVE-S3-003',
    why: 'versioning suspended',
    b: (b) => {
      b.versioning = 'Suspended';
    },
  },
  {
    id: 'HIVE-S3-004',
    why: 'no object lock',
    b: (b) => {
      b.objectLock = false;
    },
  },
  {
    id: 'HIVE-S3-005',
    why: 'no lifecycle',
    b: (b) => {
      b.lifecycleRules = 0;
    },
  },
  {
    id: 'HIVE-S3-006',
    why: 'no replication',
    b: (b) => {
      b.replicationDestinations = [];
    },
  },
  {
    id: 'HIVE-S3-006',
    why: 'replication elsewhere',
    b: (b) => {
      b.replicationRegions = ['eu-west-1'];
    },
  },
  {
    id: 'HIVE-S3-007',
    why: 'public policy',
    b: (b) => {
      b.policy = {
        Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::x/*' }],
      };
    },
  },
  {
    id: 'HIVE-RDS-001',
    why: 'unencrypted',
    d: (d) => {
      d.storageEncrypted = false;
    },
  },
  {
    id: 'HIVE-RDS-002',
    why: 'public',
    d: (d) => {
      d.publiclyAccessible = true;
    },
  },
  {
    id: 'HIVE-RDS-003',
    why: 'retention 1',
    d: (d) => {
      d.backupRetentionPeriod = 1;
    },
  },
  {
    id: 'HIVE-RDS-004',
    why: 'no deletion protection',
    d: (d) => {
      d.deletionProtection = false;
    },
  },
  {
    id: 'HIVE-RDS-005',
    why: 'single AZ',
    d: (d) => {
      d.multiAZ = false;
    },
  },
  {
    id: 'HIVE-RDS-006',
    why: 'no IAM auth',
    d: (d) => {
      d.iamAuth = false;
    },
  },
  {
    id: 'HIVE-RDS-007',
    why: 'public snapshot',
    d: (d) => {
      d.snapshots[0]!.public = true;
    },
  },
  {
    id: 'HIVE-RDS-008',
    why: 'stale snapshot',
    d: (d) => {
      d.snapshots[0]!.created = '2026-11-27T10:00:00Z';
    },
  },
  {
    id: 'HIVE-RDS-009',
    why: 'no DR copy',
    d: (d) => {
      d.drSnapshots = [];
    },
  },
];

describe('AWS checks', () => {
  it('the hardened bucket and instance are clean', () => {
    expect(scanAws(awsInv([goodBucket()], [goodDb()]))).toEqual([]);
  });
  for (const c of AWS_CASES) {
    it(`${c.id} fires on ${c.why}, and only it`, () => {
      const b = goodBucket();
      const d = goodDb();
      c.b?.(b);
      c.d?.(d);
      const ids = [...new Set(scanAws(awsInv([b], [d])).map((f) => f.checkId))];
      expect(ids).toEqual([c.id]);
    });
  }
  it('covers every AWS check', () => {
    const covered = new Set(AWS_CASES.map((c) => c.id));
    expect(CHECKS.filter((c) => c.scope === 'aws' && !covered.has(c.id)).map((c) => c.id)).toEqual([]);
  });
  it('a non-backup bucket is not held to the backup-only controls', () => {
    const b = {
      ...goodBucket('assets'),
      backup: false,
      objectLock: false,
      lifecycleRules: 0,
      replicationDestinations: [],
    };
    expect(scanAws(awsInv([b], []))).toEqual([]);
  });
  it('a Principal "*" narrowed by aws:PrincipalOrgID is not public', () => {
    const b = goodBucket();
    b.policy = {
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: '*' },
          Action: 's3:GetObject',
          Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-1' } },
        },
      ],
    };
    expect(scanAws(awsInv([b], []))).toEqual([]);
  });
  it('point-in-time restore counts as a recovery point for the RPO', () => {
    const d = goodDb();
    d.snapshots[0]!.created = '2026-11-20T00:00:00Z';
    d.latestRestorableTime = '2026-11-27T11:57:00Z';
    expect(scanAws(awsInv([], [d]))).toEqual([]);
  });
});

describe('image checks', () => {
  it('say when Trivy did not run, as a note', () => {
    const r = evaluate(
      { images: { ran: false, reason: 'trivy not found on PATH', images: ['a:1'], vulns: [] } },
      { scopes: ['images'] },
    );
    expect(r.findings.map((f) => [f.checkId, f.severity, f.message])).toEqual([
      ['HIVE-IMG-000', 'note', 'image check did not run: trivy not found on PATH (1 images not scanned)'],
    ]);
  });
  it('turn Trivy vulnerabilities into findings with their severity', () => {
    const r = evaluate(
      {
        images: {
          ran: true,
          images: ['a:1'],
          vulns: [
            {
              image: 'a:1',
              id: 'CVE-2026-1',
              severity: 'critical',
              pkg: 'openssl',
              installed: '3.0.1',
              fixed: '3.0.9',
            },
          ],
        },
      },
      { scopes: ['images'] },
    );
    expect(r.findings.map((f) => [f.checkId, f.severity, f.target])).toEqual([
      ['HIVE-IMG-010', 'critical', 'image:a:1'],
    ]);
  });
});

describe('check registry', () => {
  it('has unique, well-formed IDs and complete metadata', () => {
    const ids = CHECKS.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of CHECKS) {
      expect(c.id).toMatch(/^HIVE-[A-Z0-9]+-\d{3}$/);
      expect(c.title && c.why && c.remediation).toBeTruthy();
      expect(c.references.length).toBeGreaterThan(0);
    }
  });
});
