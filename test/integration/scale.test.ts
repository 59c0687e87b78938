// `hivectl scale` against the sandbox: a dev stack of its own (unique namespaces and queue key),
// the queue in the sandbox's real Redis, the agents' HPA as bootstrap renders it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { connectRedis, type Redis } from '../../src/adapters/redis.js';
import { kubectl, runCli, sandbox, uniqueName } from '../helpers/sandbox.js';

const id = uniqueName('sc');
const ns = { api: `${id}-api`, agents: `${id}-agt`, system: `${id}-sys` };
const queueKey = `hive:tasks:${id}`;
const dir = mkdtempSync(join(tmpdir(), 'hivectl-scale-'));
const cfg = join(dir, 'hivectl.yaml');
let redis: Redis;

const cli = (args: string[]) => runCli(['--config', cfg, ...args], { env: { HIVECTL_STATE_DIR: join(dir, 'state') } });
const getJson = async (args: string[]) => {
  const r = await kubectl([...args, '-o', 'json']);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
};
const agentsReplicas = async () =>
  (await getJson(['-n', ns.agents, 'get', 'deployment', 'agent-worker'])).spec.replicas as number;
const hpa = () => getJson(['-n', ns.agents, 'get', 'hpa', 'agent-worker']);
async function setQueue(n: number) {
  await redis.del(queueKey);
  for (let i = 0; i < n; i += 100) {
    await redis.rpush(queueKey, ...Array.from({ length: Math.min(100, n - i) }, (_, k) => `task-${i + k}`));
  }
  expect(await redis.llen(queueKey)).toBe(n);
}
async function auto(): Promise<{ depth: number; recommended: number; replicas: number; reason: string }> {
  const r = await cli(['scale', 'auto', '--once', '-o', 'json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

beforeAll(async () => {
  writeFileSync(
    cfg,
    stringify({
      cluster: { namespace: ns.system },
      platform: {
        namespaces: { api: ns.api, agents: ns.agents },
        api: { deployment: 'hive-api', image: 'ghcr.io/agent-hive/api:1.0.0', replicas: 1 },
      },
      redis: { url: sandbox().redisUrl, queueKey },
      scaling: { min: 1, max: 50, perAgent: 5, scaleDownWindow: '5m' },
    }),
  );
  redis = await connectRedis(sandbox().redisUrl);
  const r = await cli(['bootstrap', '--env', 'dev', '-y', '--timeout', '120s']);
  if (r.code !== 0) throw new Error(`bootstrap failed (${r.code}):\n${r.stderr}`);
});

afterAll(async () => {
  await redis?.del(queueKey);
  await redis?.quit();
  await kubectl(['delete', 'namespace', ns.api, ns.agents, ns.system, '--wait=false', '--ignore-not-found']);
  await kubectl(['delete', 'priorityclass', `${ns.api}-priority`, `${ns.agents}-priority`, '--ignore-not-found']);
});

describe('scale', () => {
  it('refuses (exit 5) to scale by hand while the HPA owns the replica count', async () => {
    const r = await cli(['scale', 'agents', '--replicas', '4']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/HorizontalPodAutoscaler .*agent-worker owns the replica count/);
    expect(r.stderr).toContain('--pause-autoscaler');
  });

  it('scale auto: queue of 0 / 12 / 400 -> 1 / 3 / 50 agents at 5 per agent, and no flapping inside the window', async () => {
    await setQueue(0);
    expect((await auto()).replicas).toBe(1);
    expect(await agentsReplicas()).toBe(1);

    await setQueue(12);
    const d12 = await auto();
    expect(d12).toMatchObject({ depth: 12, recommended: 3, replicas: 3 });
    expect(await agentsReplicas()).toBe(3);

    await setQueue(400);
    expect(await auto()).toMatchObject({ depth: 400, recommended: 50, replicas: 50 });
    expect(await agentsReplicas()).toBe(50);

    // The queue drains: the formula says 1, but 50 was recommended within the 5 min window: hold.
    await setQueue(0);
    const held = await auto();
    expect(held).toMatchObject({ recommended: 1, replicas: 50 });
    expect(held.reason).toMatch(/hold at 50/);
    expect(await agentsReplicas()).toBe(50);
  });

  it('scale status -o json: replicas, queue depth, autoscaler, busy vs idle', async () => {
    await setQueue(7);
    const r = await cli(['scale', 'status', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.replicas.desired).toBe(50);
    expect(s.queue).toEqual({ key: queueKey, depth: 7 });
    expect(s.autoscaler).toMatchObject({
      kind: 'HorizontalPodAutoscaler',
      min: 1,
      max: 50,
      perAgent: 5,
      paused: false,
    });
    expect(s.agents.busy + s.agents.idle + s.agents.unknown).toBeGreaterThan(0);
  });

  it('removes idle agents first on scale-in (pod-deletion-cost from the busy annotation)', async () => {
    const up = await cli(['scale', 'agents', '--replicas', '4', '--pause-autoscaler', '--timeout', '90s']);
    expect(up.code, up.stderr).toBe(0);
    const h = await hpa();
    expect([h.spec.minReplicas, h.spec.maxReplicas]).toEqual([4, 4]);
    const pods = (
      await getJson(['-n', ns.agents, 'get', 'pods', '-l', 'app.kubernetes.io/name=agent-worker'])
    ).items.filter((p: { metadata: { deletionTimestamp?: string } }) => !p.metadata.deletionTimestamp) as {
      metadata: { name: string };
    }[];
    expect(pods).toHaveLength(4);
    const busy = pods.slice(0, 2).map((p) => p.metadata.name);
    const idle = pods.slice(2).map((p) => p.metadata.name);
    for (const n of busy)
      expect(
        (await kubectl(['-n', ns.agents, 'annotate', 'pod', n, 'agent-hive.dev/busy=true', '--overwrite'])).code,
      ).toBe(0);
    for (const n of idle)
      expect(
        (await kubectl(['-n', ns.agents, 'annotate', 'pod', n, 'agent-hive.dev/busy=false', '--overwrite'])).code,
      ).toBe(0);

    const down = await cli(['scale', 'agents', '--replicas', '2', '--pause-autoscaler', '--timeout', '90s']);
    expect(down.code, down.stderr).toBe(0);
    const left = (await getJson(['-n', ns.agents, 'get', 'pods', '-l', 'app.kubernetes.io/name=agent-worker'])).items
      .filter((p: { metadata: { deletionTimestamp?: string } }) => !p.metadata.deletionTimestamp)
      .map((p: { metadata: { name: string } }) => p.metadata.name)
      .sort();
    expect(left).toEqual([...busy].sort());

    const res = await cli(['scale', 'resume']);
    expect(res.code, res.stderr).toBe(0);
    const h2 = await hpa();
    expect([h2.spec.minReplicas, h2.spec.maxReplicas]).toEqual([1, 50]);
    expect(h2.metadata.annotations?.['hivectl.dev/paused-bounds']).toBeUndefined();
  });

  it('scale policy writes the HPA and rejects min > max and a max the quota cannot hold', async () => {
    const bad = await cli(['scale', 'policy', '--min', '5', '--max', '2']);
    expect(bad.code).toBe(2);
    const big = await cli(['scale', 'policy', '--min', '1', '--max', '60']);
    expect(big.code).toBe(5);
    expect(big.stderr).toMatch(/quota/);

    const ok = await cli([
      'scale',
      'policy',
      '--min',
      '2',
      '--max',
      '40',
      '--per-agent',
      '10',
      '--scale-down-window',
      '2m',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    const h = await hpa();
    expect(h.spec.minReplicas).toBe(2);
    expect(h.spec.maxReplicas).toBe(40);
    expect(h.spec.behavior.scaleDown.stabilizationWindowSeconds).toBe(120);
    expect(String(h.spec.metrics[0].external.target.averageValue)).toBe('10');
  });
});
