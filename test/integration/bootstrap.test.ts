// `hivectl bootstrap` against the sandbox's real kube-apiserver (KWOK nodes). One stack instance per
// file (unique namespaces), steps in order: install, no-op rerun, drift, conflict, broken rollout ->
// automatic rollback, prune, history and rollback.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { kubectl, runCli, uniqueName } from '../helpers/sandbox.js';

const id = uniqueName('bs');
const ns = { api: `${id}-api`, agents: `${id}-agt`, system: `${id}-sys` };
const dir = mkdtempSync(join(tmpdir(), 'hivectl-bootstrap-'));
const stateDir = join(dir, 'state');

function writeConfig(file: string, extra: Record<string, unknown> = {}): string {
  const path = join(dir, file);
  const base = {
    cluster: { namespace: ns.system },
    platform: {
      namespaces: { api: ns.api, agents: ns.agents },
      ...((extra.platform as object) ?? {}),
    },
  };
  writeFileSync(path, stringify({ ...base, ...extra, platform: base.platform }));
  return path;
}

const cfg = writeConfig('hivectl.yaml');
const cli = (args: string[], config = cfg) =>
  runCli(['--config', config, ...args], { env: { HIVECTL_STATE_DIR: stateDir } });
const getJson = async (args: string[]) => {
  const r = await kubectl([...args, '-o', 'json']);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
};

beforeAll(async () => {
  const r = await cli(['bootstrap', '--env', 'prod', '-y', '--timeout', '120s']);
  if (r.code !== 0) throw new Error(`first bootstrap failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
});

afterAll(async () => {
  await kubectl(['delete', 'namespace', ns.api, ns.agents, ns.system, '--wait=false', '--ignore-not-found']);
  await kubectl(['delete', 'priorityclass', `${ns.api}-priority`, `${ns.agents}-priority`, '--ignore-not-found']);
});

describe('bootstrap --env prod', () => {
  it('rolls out every Deployment', async () => {
    for (const [n, name] of [
      [ns.api, 'hive-api'],
      [ns.agents, 'agent-worker'],
    ] as const) {
      const d = await getJson(['-n', n, 'get', 'deployment', name, '--show-managed-fields']);
      expect(d.status.readyReplicas).toBe(d.spec.replicas);
      expect(d.status.updatedReplicas).toBe(d.spec.replicas);
      expect(
        d.metadata.managedFields.some(
          (m: { manager: string; operation: string }) => m.manager === 'hivectl' && m.operation === 'Apply',
        ),
      ).toBe(true);
    }
  });

  it('has every NetworkPolicy: default deny, DNS, ingress, datastores, metrics', async () => {
    const api = await getJson(['-n', ns.api, 'get', 'networkpolicy']);
    const agents = await getJson(['-n', ns.agents, 'get', 'networkpolicy']);
    const names = (l: { items: { metadata: { name: string } }[] }) => l.items.map((i) => i.metadata.name).sort();
    expect(names(api)).toEqual([
      'allow-datastores',
      'allow-dns',
      'allow-metrics-scrape',
      'api-from-ingress',
      'default-deny',
    ]);
    expect(names(agents)).toEqual(['allow-datastores', 'allow-dns', 'allow-metrics-scrape', 'default-deny']);
  });

  it('rejects a privileged pod in the agents namespace (Pod Security "restricted")', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'privileged', namespace: ns.agents },
      spec: { containers: [{ name: 'c', image: 'busybox', securityContext: { privileged: true } }] },
    };
    const r = await kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/violates PodSecurity "restricted:latest"/);
    expect(r.stderr).toMatch(/privileged/);
  });

  it('reports 0 changes on a second run', async () => {
    const r = await cli(['bootstrap', '--env', 'prod', '-y', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.results.changes).toBe(0);
    const d = await cli(['bootstrap', '--env', 'prod', '--diff', '--exit-code']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toBe('');
  });

  it('shows drift with --diff and repairs it', async () => {
    expect((await kubectl(['-n', ns.api, 'delete', 'networkpolicy', 'allow-dns'])).code).toBe(0);
    // Scaled to zero: outside the autoscaler's bounds, so it is drift (a count within the bounds is left
    // to the autoscaler). At zero the HPA itself stands still, so nothing races the repair.
    expect((await kubectl(['-n', ns.agents, 'scale', 'deployment', 'agent-worker', '--replicas=0'])).code).toBe(0);

    const d = await cli(['bootstrap', '--env', 'prod', '--diff', '--exit-code']);
    expect(d.code, d.stderr).toBe(3);
    expect(d.stdout).toContain(`+++ hivectl/NetworkPolicy ${ns.api}/allow-dns`);
    expect(d.stdout).toContain(`+++ hivectl/Deployment ${ns.agents}/agent-worker`);
    expect(d.stdout).toMatch(/-\s+replicas: 0\n\+\s+replicas: 2/);
    // Without --exit-code a diff with changes still exits 0, like a report.
    expect((await cli(['bootstrap', '--env', 'prod', '--diff'])).code).toBe(0);

    const r = await cli(['bootstrap', '--env', 'prod', '-y']);
    expect(r.code, r.stderr).toBe(0);
    await getJson(['-n', ns.api, 'get', 'networkpolicy', 'allow-dns']);
    const dep = await getJson(['-n', ns.agents, 'get', 'deployment', 'agent-worker']);
    expect(dep.spec.replicas).toBe(2);
    expect(dep.status.readyReplicas).toBe(2);
    expect((await cli(['bootstrap', '--env', 'prod', '--diff', '--exit-code'])).code).toBe(0);
  });

  it('exits 1 naming object, field and manager when another manager owns a field; --force-conflicts takes it', async () => {
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'hive-config', namespace: ns.api },
      data: { LOG_LEVEL: 'debug' },
    };
    const a = await kubectl(['apply', '--server-side', '--field-manager=other-tool', '--force-conflicts', '-f', '-'], {
      input: JSON.stringify(cm),
    });
    expect(a.code, a.stderr).toBe(0);

    const r = await cli(['bootstrap', '--env', 'prod', '-y']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`ConfigMap ${ns.api}/hive-config`);
    expect(r.stderr).toContain('.data.LOG_LEVEL');
    expect(r.stderr).toContain('"other-tool"');
    expect(r.stderr).toContain('--force-conflicts');

    const f = await cli(['bootstrap', '--env', 'prod', '-y', '--force-conflicts']);
    expect(f.code, f.stderr).toBe(0);
    const live = await getJson(['-n', ns.api, 'get', 'configmap', 'hive-config']);
    expect(live.data.LOG_LEVEL).toBe('info');
  });

  it('rolls back to the previous revision when the rollout times out', async () => {
    const before = JSON.parse((await cli(['bootstrap', 'history', '-o', 'json'])).stdout) as {
      revision: number;
      status: string;
    }[];
    // KWOK never pulls images, so a broken image cannot fail here. What the test does instead is real
    // scheduler behaviour with the same effect: the new pods request more CPU than any node has
    // (nodes: 32 CPU), stay Pending (FailedScheduling: Insufficient cpu), and the rollout never completes.
    const broken = writeConfig('broken.yaml', {
      platform: {
        api: {
          deployment: 'hive-api',
          image: 'ghcr.io/agent-hive/api:9.9.9-broken',
          replicas: 3,
          resources: { requests: { cpu: '500', memory: '512Mi' }, limits: { cpu: '500', memory: '512Mi' } },
        },
      },
    });
    const r = await cli(['bootstrap', '--env', 'prod', '-y', '--timeout', '20s'], broken);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`Deployment ${ns.api}/hive-api`);
    expect(r.stderr).toMatch(/Insufficient cpu|Unschedulable/);
    expect(r.stderr).toMatch(/rolled back to revision|rolling back to bootstrap revision/);

    const dep = await getJson(['-n', ns.api, 'get', 'deployment', 'hive-api']);
    const c = dep.spec.template.spec.containers[0];
    expect(c.image).toBe('ghcr.io/agent-hive/api:1.0.0');
    expect(c.resources.requests.cpu).toBe('500m');
    expect(dep.status.readyReplicas).toBe(3);
    const after = JSON.parse((await cli(['bootstrap', 'history', '-o', 'json'])).stdout) as { revision: number }[];
    expect(after.at(-1)?.revision).toBe(before.at(-1)?.revision);
  });

  it('prunes an owned object the templates no longer render, and nothing else', async () => {
    const labels = {
      'app.kubernetes.io/managed-by': 'hivectl',
      'app.kubernetes.io/part-of': 'agent-hive',
      'app.kubernetes.io/instance': ns.api,
    };
    // What an older template version left behind, and an object of another stack instance.
    const dropped = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'legacy-flags', namespace: ns.api, labels },
      data: { a: '1' },
    };
    const foreign = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'other-instance',
        namespace: ns.api,
        labels: { ...labels, 'app.kubernetes.io/instance': 'someone-else' },
      },
      data: { a: '1' },
    };
    for (const o of [dropped, foreign])
      expect((await kubectl(['apply', '-f', '-'], { input: JSON.stringify(o) })).code).toBe(0);

    const d = await cli(['bootstrap', '--env', 'prod', '--diff', '--exit-code']);
    expect(d.code).toBe(3);
    expect(d.stdout).toContain(`ConfigMap ${ns.api}/legacy-flags`);
    expect(d.stdout).not.toContain('other-instance');

    const r = await cli(['bootstrap', '--env', 'prod', '-y', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).results.pruned).toBe(1);
    expect((await kubectl(['-n', ns.api, 'get', 'configmap', 'legacy-flags'])).code).not.toBe(0);
    expect((await kubectl(['-n', ns.api, 'get', 'configmap', 'other-instance'])).code).toBe(0);
  });

  it('keeps a history and rolls back to a chosen revision', async () => {
    const h = JSON.parse((await cli(['bootstrap', 'history', '-o', 'json'])).stdout) as {
      revision: number;
      env: string;
      status: string;
    }[];
    expect(h.length).toBeGreaterThanOrEqual(2);
    expect(h.every((x) => x.env === 'prod' && x.status === 'deployed')).toBe(true);
    // Revision secrets hold no Secret values.
    const s = await getJson(['-n', ns.system, 'get', 'secret', `hivectl-bootstrap-${ns.api}-rev-1`]);
    expect(s.type).toBe('hivectl.dev/bootstrap-revision.v1');

    const r = await cli(['bootstrap', 'rollback', '--to', '1', '-y']);
    expect(r.code, r.stderr).toBe(0);
    const h2 = JSON.parse((await cli(['bootstrap', 'history', '-o', 'json'])).stdout) as {
      revision: number;
      description: string;
    }[];
    expect(h2.at(-1)?.description).toBe('rollback to 1');
    expect((await cli(['bootstrap', 'rollback', '--to', '99', '-y'])).code).toBe(2);
  });

  it('--render prints manifests without a cluster', async () => {
    const r = await runCli(['--config', cfg, '--kubeconfig', '/nonexistent', 'bootstrap', '--render', '--env', 'dev'], {
      env: { HIVECTL_STATE_DIR: stateDir },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('kind: Namespace');
    expect(r.stdout).toContain('pod-security.kubernetes.io/enforce: baseline');
  });
});
