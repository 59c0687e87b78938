// Least privilege for `hivectl scale`: a ServiceAccount holding exactly the RBAC that
// `hivectl iam-policy --commands scale` generates scales the agents past a paused HPA and back in
// (idle agents first: pod-deletion-cost), resumes the HPA, changes the policy within the namespace
// quota, decides on queue depth (`scale auto --once`) and reports status; with `patch
// deployments/scale` taken away it exits 1 with one sentence naming the grant.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { connectRedis, type Redis } from '../../src/adapters/redis.js';
import * as iam from '../helpers/iam.js';
import { createNamespaces, sandbox } from '../helpers/sandbox.js';

const { ok } = iam;
const { sys, api, agents, sa, name, tmp, cfg, kc } = iam.testNames('iamsc', 'scale');
const queueKey = `hive:tasks:${sys}`;
let redis: Redis;

const cli = iam.cliWith(tmp, cfg, { KUBECONFIG: kc, HIVECTL_STATE_DIR: join(tmp, 'state') });

const replicas = async () =>
  Number(await ok(['get', 'deploy', '-n', agents, 'agent-worker', '-o', 'jsonpath={.spec.replicas}']));
const hpaBounds = async () =>
  ok(['get', 'hpa', '-n', agents, 'agent-worker', '-o', 'jsonpath={.spec.minReplicas}-{.spec.maxReplicas}']);

let rbac: iam.Rbac;

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
  rbac = await iam.grantGeneratedRbac({
    config: cfg,
    commands: 'scale',
    namespace: sys,
    serviceAccount: sa,
    name,
    kubeconfig: kc,
  });
});

afterAll(async () => {
  await redis?.del(queueKey);
  await redis?.quit();
  await iam.removeTestObjects({ namespaces: [sys, api, agents], tmp });
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
    await iam.applyRole(rbac, agents, iam.withoutRule('deployments/scale'));
    const before = await replicas();
    const target = String(before === 2 ? 3 : 2);
    // The first try changes the count: the retries ask for the count as it was before.
    const r = await iam.untilDenied((attempt) =>
      cli(['scale', 'agents', '--replicas', attempt === 0 ? target : String(before), '--pause-autoscaler', '-y']),
    );
    expect(r.code, r.stderr).toBe(1);
    const errors = iam.errorLines(r.stderr);
    expect(errors, r.stderr).toHaveLength(1);
    expect(errors[0]).toContain(
      `deployments/agent-worker/scale: permission denied: deployments.apps "agent-worker" is forbidden`,
    );
    expect(errors[0]).toContain('cannot patch resource "deployments/scale"');
    expect(r.stderr).toContain('hivectl iam-policy');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
