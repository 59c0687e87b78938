// `hivectl scan` against the sandbox cluster: seeded bad workloads and roles yield exactly the
// expected findings (pods owned by the Deployment are not reported twice), a hardened namespace
// stays quiet, the gate exits 3, and an identity holding exactly the RBAC from
// `hivectl iam-policy --commands scan` can scan while one rule less fails with a clear error.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { goodObjects } from '../fixtures/scan/k8s-good.js';
import { applyRole, iamPolicyK8s, ok, removeTestObjects, untilDenied, withoutRule } from '../helpers/iam.js';
import { kubectl, runCli, sandbox, serviceAccountKubeconfig, uniqueName } from '../helpers/sandbox.js';

const bad = uniqueName('scan-bad');
const good = uniqueName('scan-good');
const admin = `${bad}-admin`;
const tmp = mkdtempSync(join(tmpdir(), 'hivectl-scan-'));

function badObjects() {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: bad } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'legacy', namespace: bad },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'legacy' } },
        template: {
          metadata: { labels: { app: 'legacy' } },
          spec: {
            hostPID: true,
            containers: [
              {
                name: 'app',
                image: 'nginx:latest',
                securityContext: { privileged: true },
                env: [
                  { name: 'UPSTREAM_KEY', value: 'AKIAIOSFODNN7EXAMPLE' },
                  { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'pw' } } },
                ],
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'legacy', namespace: bad },
      spec: { type: 'LoadBalancer', selector: { app: 'legacy' }, ports: [{ port: 80 }] },
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'anything', namespace: bad },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['*'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: admin },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'User', name: `alice-${bad}` }],
    },
  ];
}

interface JsonFinding {
  checkId: string;
  target: string;
  container?: string;
  suppressed?: unknown;
}

async function scanJson(extra: string[] = [], env: Record<string, string> = {}) {
  const r = await runCli(['scan', '--scope', 'k8s', '-o', 'json', ...extra], { env });
  return { r, json: r.stdout.trim() ? JSON.parse(r.stdout) : undefined };
}

beforeAll(async () => {
  const list = (items: object[]) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
  await ok(['apply', '-f', '-'], list(badObjects()));
  await ok(['apply', '-f', '-'], list(goodObjects(good)));
  // Wait until the ReplicaSets have made pods, so the scan sees owned pods and must dedupe them.
  for (let i = 0; i < 60; i++) {
    const n = (await ok(['get', 'pods', '-n', bad, '-o', 'name'])).split('\n').filter(Boolean).length;
    if (n >= 2) break;
    await new Promise((r) => setTimeout(r, 500));
  }
});

afterAll(async () => {
  await removeTestObjects({ namespaces: [bad, good], clusterRbac: `${bad}-scan` });
  await kubectl(['delete', 'clusterrolebinding', admin, '--ignore-not-found']);
});

describe('hivectl scan (live cluster)', () => {
  it('finds exactly the seeded problems, once per workload, and nothing in the hardened namespace', async () => {
    const { r, json } = await scanJson();
    expect(r.code, r.stderr).toBe(0);
    const mine = (json.findings as JsonFinding[])
      .filter((f) => f.target.includes(bad))
      .map((f) => `${f.checkId} ${f.target}${f.container ? ` [${f.container}]` : ''}`)
      .sort();
    const d = `Deployment/${bad}/legacy`;
    expect(mine).toEqual(
      [
        `HIVE-IMG-001 ${d} [app]`,
        `HIVE-NET-001 ${d}`,
        `HIVE-NET-002 Namespace/${bad}`,
        `HIVE-NET-003 Namespace/${bad}`,
        `HIVE-NET-004 Service/${bad}/legacy`,
        `HIVE-NS-001 Namespace/${bad}`,
        `HIVE-POD-001 ${d} [app]`,
        `HIVE-POD-002 ${d} [app]`,
        `HIVE-POD-003 ${d} [app]`,
        `HIVE-POD-004 ${d} [app]`,
        `HIVE-POD-005 ${d}`,
        `HIVE-POD-006 ${d}`,
        `HIVE-PSS-001 ${d} [app]`,
        `HIVE-PSS-002 ${d}`,
        `HIVE-PSS-005 ${d} [app]`,
        `HIVE-PSS-006 ${d} [app]`,
        `HIVE-PSS-007 ${d} [app]`,
        `HIVE-PSS-008 ${d} [app]`,
        `HIVE-RBAC-001 Role/${bad}/anything`,
        `HIVE-RBAC-003 ClusterRoleBinding/${admin}`,
        `HIVE-SEC-001 ${d} [app]`,
      ].sort(),
    );
    expect((json.findings as JsonFinding[]).filter((f) => f.target.includes(good))).toEqual([]);
    // One LIST per kind and page, never per object.
    expect(json.stats.k8sRequests).toBeLessThanOrEqual(16 * Math.ceil(json.stats.k8sObjects / 500 + 1));
  });

  it('exits 3 when --fail-on is met, and an exception file brings it back to 0', async () => {
    const gate = await runCli(['scan', '--scope', 'k8s', '--fail-on', 'critical', '-q']);
    expect(gate.code).toBe(3);
    expect(gate.stderr).toContain('scan gate failed');
    // Everything critical in the cluster right now may include other tests' objects: exempt all of it.
    const exc = join(tmp, 'exceptions.yaml');
    writeFileSync(
      exc,
      'exceptions:\n  - check: "*"\n    target: "*"\n    reason: integration test\n    expires: 2999-01-01\n',
    );
    const passed = await runCli(['scan', '--scope', 'k8s', '--fail-on', 'critical', '--exceptions', exc, '-q']);
    expect(passed.code, passed.stderr).toBe(0);
  });

  it('a baseline written today suppresses today’s findings', async () => {
    const file = join(tmp, 'baseline.json');
    const w = await runCli(['scan', '--scope', 'k8s', '--baseline', file, '--write-baseline']);
    expect(w.code, w.stderr).toBe(0);
    const b = JSON.parse(readFileSync(file, 'utf8'));
    expect(b.findings.some((f: JsonFinding) => f.target === `Deployment/${bad}/legacy`)).toBe(true);
    const { r, json } = await scanJson(['--baseline', file]);
    expect(r.code).toBe(0);
    expect((json.findings as JsonFinding[]).filter((f) => f.target.includes(bad))).toEqual([]);
  });

  it('scans as an identity holding exactly the generated RBAC, and fails clearly with one rule less', async () => {
    const _s = sandbox();
    const sa = `${bad}-scanner`;
    await ok(['create', 'serviceaccount', sa, '-n', bad]);
    const gen = await iamPolicyK8s({ commands: 'scan', serviceAccount: `${bad}/${sa}`, name: `${bad}-scan` });
    expect(gen.code, gen.stderr).toBe(0);
    const rbac = JSON.parse(gen.stdout);
    await ok(['apply', '-f', '-'], JSON.stringify(rbac));

    const kc = join(tmp, 'scanner.kubeconfig');
    await serviceAccountKubeconfig({ namespace: bad, serviceAccount: sa, file: kc, contextName: 'scanner' });
    const env = { KUBECONFIG: kc };
    const allowed = await runCli(['scan', '--scope', 'k8s', '-o', 'json', '--kubeconfig', kc, '--context', 'scanner'], {
      env,
    });
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(JSON.parse(allowed.stdout).findings.some((f: JsonFinding) => f.target === `Role/${bad}/anything`)).toBe(
      true,
    );

    // Remove the rule that lets it list ClusterRoles.
    await applyRole(rbac, undefined, withoutRule('clusterroles'));
    const denied = await untilDenied(() =>
      runCli(['scan', '--scope', 'k8s', '--kubeconfig', kc, '--context', 'scanner'], { env }),
    );
    expect(denied.code).toBe(1);
    const lines = denied.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^hivectl: cannot list clusterroles across the cluster: permission denied \(/);
    expect(lines[1]).toContain('hivectl iam-policy --commands scan');
    expect(denied.stderr).not.toMatch(/\n\s+at /);
    expect(denied.stdout).toBe('');
  });
});

describe('hivectl scan of the stack that `hivectl bootstrap --env prod` installs', () => {
  const id = uniqueName('scanbs');
  const ns = { api: `${id}-api`, agents: `${id}-agt`, system: `${id}-sys` };
  const cfg = join(tmp, 'bootstrap.yaml');

  beforeAll(async () => {
    writeFileSync(
      cfg,
      stringify({ cluster: { namespace: ns.system }, platform: { namespaces: { api: ns.api, agents: ns.agents } } }),
    );
    const r = await runCli(['--config', cfg, 'bootstrap', '--env', 'prod', '-y', '--timeout', '150s'], {
      env: { HIVECTL_STATE_DIR: join(tmp, 'state') },
    });
    if (r.code !== 0) throw new Error(`bootstrap failed (${r.code}):\n${r.stderr}`);
  });

  afterAll(async () => {
    await kubectl(['delete', 'namespace', ns.api, ns.agents, ns.system, '--wait=false', '--ignore-not-found']);
    await kubectl(['delete', 'priorityclass', `${ns.api}-priority`, `${ns.agents}-priority`, '--ignore-not-found']);
  });

  it('is clean at high and above (and at medium) on the live cluster', async () => {
    const { r, json } = await scanJson(['--fail-on', 'high']);
    // The gate covers the whole cluster (other tests seed bad objects): judge this stack's findings.
    expect([0, 3]).toContain(r.code);
    const mine = (json.findings as (JsonFinding & { severity: string; message: string })[]).filter(
      (f) => f.target.includes(`/${ns.api}`) || f.target.includes(`/${ns.agents}`),
    );
    expect(mine.filter((f) => f.severity !== 'low').map((f) => `${f.checkId} ${f.target} ${f.message}`)).toEqual([]);
    // Its workloads were seen (through their Deployments, not once per pod).
    expect(
      mine
        .filter((f) => f.checkId === 'HIVE-IMG-002')
        .map((f) => f.target)
        .sort(),
    ).toEqual([`Deployment/${ns.agents}/agent-worker`, `Deployment/${ns.api}/hive-api`]);
  });
});
