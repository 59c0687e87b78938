// `hivectl sandbox` as a user runs it (the built CLI), reuse of a running sandbox, and the node
// failure that chaos experiments rely on (KWOK stops heartbeats, the real node controller reacts).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema } from '../../src/core/config-schema.js';
import { sandboxUp } from '../../src/sandbox/index.js';
import { kubectl, runCli, sandbox, uniqueName } from '../helpers/sandbox.js';

describe('hivectl sandbox', () => {
  it('status -o json lists every component running, with pid, port and log', async () => {
    const r = await runCli(['sandbox', 'status', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const st = JSON.parse(r.stdout) as {
      up: boolean;
      components: { name: string; running: boolean; pid: number; log: string }[];
    };
    expect(st.up).toBe(true);
    const names = st.components.map((c) => c.name);
    for (const n of [
      'moto',
      'redis',
      'postgres',
      'prometheus',
      'hive/kube-apiserver',
      'hive/etcd',
      'hive-dr/kube-apiserver',
    ])
      expect(names).toContain(n);
    for (const c of st.components) {
      expect(c.running).toBe(true);
      expect(c.pid).toBeGreaterThan(0);
      expect(c.log).toMatch(/\.log$/);
    }
  });

  it('env prints exports for the sandbox and --write-config writes a valid hivectl.yaml', async () => {
    const s = sandbox();
    const file = join(mkdtempSync(join(tmpdir(), 'sbcli-')), 'hivectl.yaml');
    const r = await runCli(['sandbox', 'env', '--write-config', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`export KUBECONFIG=${s.kubeconfig}`);
    expect(r.stdout).toContain(`export AWS_ENDPOINT_URL=${s.endpointUrl}`);
    expect(r.stdout).toContain('export AWS_REGION=us-east-1');
    expect(r.stdout).toContain(`export HIVECTL_DR_CONTEXT=${s.drContext}`);
    expect(r.stdout).toContain(`export HIVECTL_PROMETHEUS_URL=${s.prometheusUrl}`);
    expect(r.stdout).toMatch(/export PATH=.*k8s-v1\.37\.2.*:"\$PATH"/);
    const cfg = configSchema.parse(parse(readFileSync(file, 'utf8')));
    expect(cfg.cluster).toMatchObject({ context: s.context, drContext: s.drContext });
    expect(cfg.aws).toMatchObject({ region: 'us-east-1', drRegion: 'us-west-2', endpointUrl: s.endpointUrl });
    expect(cfg.database).toMatchObject({ kind: 'postgres', url: s.pgUrl });
    expect(cfg.redis.url).toBe(s.redisUrl);
    expect(cfg.prometheus.url).toBe(s.prometheusUrl);
  });

  it('a second up reuses the running servers (same ports)', async () => {
    const s = sandbox();
    const again = await sandboxUp({ root: s.root });
    expect(again.ports).toEqual(s.ports);
    expect(again.kubeconfig).toBe(s.kubeconfig);
  });

  // How `chaos node-failure` fails a node here: without its annotation KWOK stops managing the node
  // (it keeps renewing the node Lease, so the node controller alone would not notice), the node is
  // reported NotReady through the status subresource as a kubelet would, and the real
  // node-lifecycle controller reacts with its not-ready taint. With the annotation back, KWOK
  // reports it Ready again.
  it('a fake node taken from KWOK stays NotReady (tainted by the node controller) until KWOK manages it again', async () => {
    const name = uniqueName('sbchaos-node');
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, annotations: { 'kwok.x-k8s.io/node': 'fake' }, labels: { type: 'kwok' } },
      // Tainted so that no other test's pod lands on it while it is down.
      spec: { taints: [{ key: 'hivectl.dev/test', value: 'chaos', effect: 'NoSchedule' }] },
      status: {
        allocatable: { cpu: '4', memory: '8Gi', pods: '10' },
        capacity: { cpu: '4', memory: '8Gi', pods: '10' },
      },
    };
    const jsonpath = async (path: string) =>
      (await kubectl(['get', 'node', name, '-o', `jsonpath=${path}`])).stdout.trim();
    const ready = () => jsonpath('{.status.conditions[?(@.type=="Ready")].status}');
    const until = async (what: string, ok: () => Promise<boolean>, ms = 60_000) => {
      const end = Date.now() + ms;
      while (!(await ok())) {
        if (Date.now() > end) throw new Error(`node ${name}: ${what} not seen within ${ms / 1000}s`);
        await new Promise((r) => setTimeout(r, 300));
      }
    };
    try {
      expect((await kubectl(['apply', '-f', '-'], { input: JSON.stringify(node) })).code).toBe(0);
      await until('Ready=True', async () => (await ready()) === 'True');
      expect((await kubectl(['annotate', 'node', name, 'kwok.x-k8s.io/node-'])).code).toBe(0);
      const notReady = {
        status: {
          conditions: [
            {
              type: 'Ready',
              status: 'False',
              reason: 'HivectlTest',
              message: 'reported down by the test',
              lastHeartbeatTime: new Date().toISOString(),
              lastTransitionTime: new Date().toISOString(),
            },
          ],
        },
      };
      const patched = await kubectl(['patch', 'node', name, '--subresource=status', '-p', JSON.stringify(notReady)]);
      expect(patched.code, patched.stderr).toBe(0);
      await until("the node controller's not-ready taint", async () =>
        (await jsonpath('{.spec.taints[*].key}')).split(' ').includes('node.kubernetes.io/not-ready'),
      );
      // KWOK no longer manages it: nothing flips it back.
      await new Promise((r) => setTimeout(r, 3000));
      expect(await ready()).toBe('False');
      expect((await kubectl(['annotate', 'node', name, 'kwok.x-k8s.io/node=fake'])).code).toBe(0);
      await until('Ready=True again', async () => (await ready()) === 'True');
    } finally {
      await kubectl(['delete', 'node', name, '--wait=false']);
    }
  }, 170_000);
});
