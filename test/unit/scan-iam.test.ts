// iam-policy generation from the permission table.
import { describe, expect, it } from 'vitest';
import { SCAN_KINDS } from '../../src/adapters/k8s-list.js';
import type { HivectlConfig } from '../../src/core/config.js';
import { configSchema } from '../../src/core/config-schema.js';
import { ALL_PERMISSIONS, SCAN_K8S } from '../../src/iam/permissions.js';
import { iamPolicy, rbacObjects } from '../../src/iam/policy.js';

const config = configSchema.parse({
  backup: { bucket: 'hive-backups', drBucket: 'hive-backups-dr' },
  database: { kind: 'rds', instanceId: 'hive-db' },
}) as HivectlConfig;

describe('iam-policy', () => {
  it('the scan RBAC lists exactly the kinds the scan reads, with list only', () => {
    const granted = SCAN_K8S.flatMap((r) => r.resources.map((res) => `${r.apiGroups[0]}/${res}`)).sort();
    const listed = SCAN_KINDS.map(
      (k) => `${k.prefix === '/api/v1' ? '' : k.prefix.split('/')[2]}/${k.resource}`,
    ).sort();
    expect(granted).toEqual(listed);
    expect(new Set(SCAN_K8S.flatMap((r) => r.verbs))).toEqual(new Set(['list']));
  });

  it('scan needs a ClusterRole and its binding, nothing namespaced', () => {
    const objs = rbacObjects(['scan'], config, {
      serviceAccount: { namespace: 'ops', name: 'scanner' },
      name: 'hivectl-scan',
    });
    expect(objs.map((o) => o.kind)).toEqual(['ClusterRole', 'ClusterRoleBinding']);
    expect((objs[1] as { subjects: unknown }).subjects).toEqual([
      { kind: 'ServiceAccount', name: 'scanner', namespace: 'ops' },
    ]);
  });

  it('namespaced permissions become Roles in the platform and state namespaces only', () => {
    const objs = rbacObjects(['backup'], config, {
      serviceAccount: { namespace: 'hive-system', name: 'hivectl' },
      name: 'hivectl',
    });
    const roles = objs.filter((o) => o.kind === 'Role').map((o) => (o.metadata as { namespace: string }).namespace);
    expect(roles).toEqual(['hive-agents', 'hive-api', 'hive-system']);
    expect(objs.some((o) => o.kind === 'ClusterRole')).toBe(false);
  });

  it('the IAM policy is read-only for scan and scoped to the configured buckets for backup', () => {
    const scan = iamPolicy(['scan'], config);
    const actions = scan.Statement.flatMap((s) => s.Action);
    expect(actions.every((a) => /^(s3|rds):(Get|List|Describe)/.test(a))).toBe(true);
    const backup = iamPolicy(['backup'], config);
    const put = backup.Statement.find((s) => s.Action.includes('s3:PutObject'))!;
    expect(put.Resource).toEqual(['arn:aws:s3:::hive-backups-dr/*', 'arn:aws:s3:::hive-backups/*']);
    expect(backup.Statement.flatMap((s) => s.Resource)).not.toContain('*');
  });

  it('every command entry says why, and says whether it was tested', () => {
    for (const p of ALL_PERMISSIONS) {
      for (const r of [...p.k8s, ...p.aws]) expect(r.why).toBeTruthy();
      expect(['tested', 'from-code']).toContain(p.verified);
    }
  });
});
