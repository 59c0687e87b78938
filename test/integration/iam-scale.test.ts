// Least privilege for `hivectl scale`: a ServiceAccount holding exactly the RBAC that
// `hivectl iam-policy --commands scale` generates scales the agents past a paused HPA and back in
// (idle agents first: pod-deletion-cost), resumes the HPA, changes the policy within the namespace
// quota, decides on queue depth (`scale auto --once`) and reports status; with `patch
// deployments/scale` taken away it exits 1 with one sentence naming the grant.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { connectRedis, type Redis } from '../../src/adapters/redis.js';
import {
  createNamespaces,
  kubectl,
  runCli,
  sandbox,
  serviceAccountKubeconfig,
  uniqueName,
} from '../helpers/sandbox.js';

const sys = uniqueName('iamsc-sys');
const api = uniqueName('iamsc-api');
const agents = uniqueName('iamsc-agt');
const queueKey = `hive:tasks:${sys}`;
const sa = 'scale-runner';
const name = `${sys}-scale`;
const tmp = mkdtempSync(join(tmpdir(), 'hivectl-iam-scale-'));
const cfg = join(tmp, 'hivectl.yaml');
const kc = join(tmp, 'scale-runner.kubeconfig');
let redis: Redis;

const cli = (args: string[]) =>
  runCli(['--config', cfg, ...args, '--journal-dir', join(tmp, 'journal')], {
    cwd: tmp,
    env: { KUBECONFIG: kc, HIVECTL_STATE_DIR: join(tmp, 'state') },
  });

async function ok(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} -> ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const replicas = async () =>
  Number(await ok(['get', 'deploy', '-n', agents, 'agent-worker', '-o', 'jsonpath={.spec.replicas}']));
const hpaBounds = async () =>
  ok(['get', 'hpa', '-n', agents, 'agent-worker', '-o', 'jsonpath={.spec.minReplicas}-{.spec.maxReplicas}']);

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are open-ended JSON
let rbac: { items: any[] };

beforeAll(async () => {
  const s = sandbox();
  redis = await connectRedis(s.redisUrl);
  await createNamespaces(sys, api, agents);
  const app = 'agent-worker';
  const labels = { 'app.kubernetes.io/name': app };
  await ok(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: app, namespace: agents, labels },
          spec: {
            replicas: 1,
            selector: { matchLabels: labels },
            template: {
              metadata: { labels },
              spec: {
                containers: [
                  {
                    name: app,
                    image: `${app}:1.0.0`,
                    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '1Gi' } },
                  },
                ],
              },
            },
          },
        },
        {
          // No metrics server in the sandbox: the HPA stays inactive (ScalingActive=False) but owns the count.
          apiVersion: 'autoscaling/v2',
          kind: 'HorizontalPodAutoscaler',
          metadata: { name: app, namespace: agents },
          spec: {
            scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: app },
            minReplicas: 1,
            maxReplicas: 5,
            metrics: [
              { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
            ],
          },
        },
        {
          apiVersion: 'v1',
          kind: 'ResourceQuota',
          metadata: { name: 'agents', namespace: agents },
          spec: { hard: { pods: '20', 'requests.cpu': '4', 'requests.memory': '8Gi' } },
        },
      ],
    }),
  );
  await ok(['rollout', 'status', '-n', agents, 'deployment/agent-worker', '--timeout=90s']);
  await ok(['create', 'serviceaccount', sa, '-n', sys]);
  writeFileSync(
    cfg,
    stringify({
      cluster: { kubeconfig: kc, context: 'scale-runner', namespace: sys },
      platform: { namespaces: { api, agents } },
      redis: { url: s.redisUrl, queueKey },
      scaling: { min: 1, max: 5, perAgent: 5, scaleDownWindow: '5m' },
    }),
  );
  const gen = await runCli([
    '--config',
    cfg,
    'iam-policy',
    '--commands',
    'scale',
    '--part',
    'k8s',
    '--format',
    'json',
    '--service-account',
    `${sys}/${sa}`,
    '--name',
    name,
  ]);
  if (gen.code !== 0) throw new Error(`iam-policy failed (${gen.code}): ${gen.stderr}`);
  rbac = JSON.parse(gen.stdout);
  await ok(['apply', '-f', '-'], JSON.stringify(rbac));
  await serviceAccountKubeconfig({ namespace: sys, serviceAccount: sa, file: kc, contextName: 'scale-runner' });
});

afterAll(async () => {
  await redis?.del(queueKey);
  await redis?.quit();
  await kubectl(['delete', 'namespace', sys, api, agents, '--wait=false']);
  rmSync(tmp, { recursive: true, force: true });
});

describe('hivectl scale with exactly the RBAC from `hivectl iam-policy --commands scale`', () => {
  it('generates namespaced Roles only (no cluster-wide grant)', () => {
    const kinds = rbac.items.map((o) => `${o.kind} ${o.metadata.namespace ?? ''}`).sort();
    expect(kinds).toEqual([agents, api, sys].flatMap((ns) => [`Role ${ns}`, `RoleBinding ${ns}`]).sort());
  });

  it('scales past a paused HPA and back in, resumes it, sets the policy, decides on queue depth', async () => {
    const owned = await cli(['scale', 'agents', '--replicas', '3', '-y']);
    expect(owned.code, owned.stderr).toBe(5);
    expect(owned.stderr).toMatch(/HorizontalPodAutoscaler .*agent-worker owns the replica count/);

    const up = await cli(['scale', 'agents', '--replicas', '3', '--pause-autoscaler', '-y']);
    expect(up.code, up.stderr).toBe(0);
    expect(await replicas()).toBe(3);
    expect(await hpaBounds()).toBe('3-3');
    const down = await cli(['scale', 'agents', '--replicas', '1', '--pause-autoscaler', '-y']);
    expect(down.code, down.stderr).toBe(0);
    expect(await replicas()).toBe(1);

    const resume = await cli(['scale', 'resume', '-y']);
    expect(resume.code, resume.stderr).toBe(0);
    expect(await hpaBounds()).toBe('1-5');

    const tooBig = await cli(['scale', 'policy', '--min', '1', '--max', '40', '-y']);
    expect(tooBig.code, tooBig.stderr).toBe(5);
    expect(tooBig.stderr).toMatch(/--max 40 does not fit: the namespace quota holds/);
    const policy = await cli(['scale', 'policy', '--min', '1', '--max', '4', '-y']);
    expect(policy.code, policy.stderr).toBe(0);
    expect(await hpaBounds()).toBe('1-4');

    await redis.del(queueKey);
    await redis.rpush(queueKey, ...Array.from({ length: 12 }, (_, i) => `task-${i}`));
    const auto = await cli(['scale', 'auto', '--once', '-o', 'json']);
    expect(auto.code, auto.stderr).toBe(0);
    expect(JSON.parse(auto.stdout)).toMatchObject({ depth: 12, recommended: 3, replicas: 3 });
    expect(await replicas()).toBe(3);

    const status = await cli(['scale', 'status', '-o', 'json']);
    expect(status.code, status.stderr).toBe(0);
  });

  it('without `patch deployments/scale` exits 1 naming the grant', async () => {
    const role = structuredClone(rbac.items.find((o) => o.kind === 'Role' && o.metadata.namespace === agents));
    role.rules = (role.rules as Rule[]).filter((x) => !x.resources.includes('deployments/scale'));
    await ok(['apply', '-f', '-'], JSON.stringify(role));
    const before = await replicas();
    const target = String(before === 2 ? 3 : 2);
    let r = await cli(['scale', 'agents', '--replicas', target, '--pause-autoscaler', '-y']);
    for (let i = 0; i < 20 && r.code === 0; i++) {
      // The authorizer's cache catches up within moments.
      await new Promise((res) => setTimeout(res, 250));
      r = await cli(['scale', 'agents', '--replicas', String(before), '--pause-autoscaler', '-y']);
    }
    expect(r.code, r.stderr).toBe(1);
    const errors = r.stderr.split('\n').filter((l) => / error /.test(l));
    expect(errors, r.stderr).toHaveLength(1);
    expect(errors[0]).toContain(
      `deployments/agent-worker/scale: permission denied: deployments.apps "agent-worker" is forbidden`,
    );
    expect(errors[0]).toContain('cannot patch resource "deployments/scale"');
    expect(r.stderr).toContain('hivectl iam-policy');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
