import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/core/config-schema.js';
import { parseCpuMillis, parseMemoryBytes } from '../../src/render/quantity.js';
import { applyPhasesOf, kindTier, renderStack, renderStackDetailed, tiersOf } from '../../src/render/stack.js';
import { substitute } from '../../src/render/template.js';
import type { KubernetesObject } from '../../src/render/types.js';
import { readSecretValues } from '../../src/runbooks/bootstrap.js';
import { parseConflicts, redactSecret, sameObject, unifiedDiff } from '../../src/steps/k8s/object-diff.js';
import { decodeObjects, encodeObjects, stripSecretValues } from '../../src/steps/k8s/revisions.js';

const config = (over: Record<string, unknown> = {}) =>
  configSchema.parse({ platform: { namespaces: { api: 'u-api', agents: 'u-agents' } }, ...over });

const find = (objs: KubernetesObject[], kind: string, ns?: string, name?: string) =>
  objs.filter((o) => o.kind === kind && (!ns || o.metadata.namespace === ns) && (!name || o.metadata.name === name));

describe('renderStack', () => {
  it('labels every object and takes namespaces from the config', async () => {
    const objs = await renderStack(config(), { env: 'prod' });
    expect(objs.length).toBeGreaterThan(30);
    for (const o of objs) {
      expect(o.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('hivectl');
      expect(o.metadata.labels?.['app.kubernetes.io/part-of']).toBe('agent-hive');
      expect(o.metadata.labels?.['app.kubernetes.io/instance']).toBe('u-api');
      if (o.kind !== 'Namespace' && o.kind !== 'PriorityClass')
        expect(['u-api', 'u-agents']).toContain(o.metadata.namespace);
    }
    expect(find(objs, 'Namespace').map((n) => n.metadata.name)).toEqual(['u-api', 'u-agents']);
  });

  it('enforces Pod Security "restricted" in prod and baseline in dev', async () => {
    const prod = find(await renderStack(config(), { env: 'prod' }), 'Namespace');
    for (const n of prod) {
      expect(n.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
      expect(n.metadata.labels?.['pod-security.kubernetes.io/audit']).toBe('restricted');
      expect(n.metadata.labels?.['pod-security.kubernetes.io/warn']).toBe('restricted');
    }
    const dev = find(await renderStack(config(), { env: 'dev' }), 'Namespace');
    expect(dev[0]?.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('baseline');
  });

  it('renders the database endpoint Secret in both namespaces with host, port, database, url', async () => {
    const objs = await renderStack(config({ database: { url: 'postgres://hive:pw@db.example:6543/hivedb' } }), {
      env: 'prod',
    });
    const secrets = find(objs, 'Secret', undefined, 'hive-db');
    expect(secrets.map((s) => s.metadata.namespace).sort()).toEqual(['u-agents', 'u-api']);
    expect(secrets[0]?.stringData).toEqual({
      host: 'db.example',
      port: '6543',
      database: 'hivedb',
      url: 'postgres://hive:pw@db.example:6543/hivedb',
    });
  });

  it('hardens the workloads: restricted security context, probes, Guaranteed QoS for the API', async () => {
    const objs = await renderStack(config(), { env: 'prod' });
    for (const d of find(objs, 'Deployment')) {
      const pod = (d.spec as { template: { spec: Record<string, unknown> } }).template.spec as {
        securityContext: { runAsNonRoot: boolean; seccompProfile: { type: string } };
        containers: {
          securityContext: Record<string, unknown>;
          readinessProbe: unknown;
          livenessProbe: unknown;
          startupProbe: unknown;
          resources: { requests: unknown; limits: unknown };
        }[];
        topologySpreadConstraints: unknown[];
        priorityClassName: string;
      };
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.securityContext.seccompProfile.type).toBe('RuntimeDefault');
      expect(pod.topologySpreadConstraints.length).toBeGreaterThan(0);
      expect(pod.priorityClassName).toMatch(/-priority$/);
      for (const c of pod.containers) {
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(c.readinessProbe && c.livenessProbe && c.startupProbe).toBeTruthy();
      }
      if (d.metadata.name === 'hive-api')
        expect(pod.containers[0]?.resources.requests).toEqual(pod.containers[0]?.resources.limits);
    }
  });

  it('sizes the agents quota for scaling.max agents plus a rollout surge', async () => {
    const objs = await renderStack(config(), { env: 'prod' });
    const q = find(objs, 'ResourceQuota', 'u-agents')[0]!;
    const hard = (q.spec as { hard: Record<string, string> }).hard;
    const pods = Number(hard.pods);
    expect(pods).toBeGreaterThanOrEqual(50 + 13);
    expect(parseCpuMillis(hard['requests.cpu']!)).toBeGreaterThanOrEqual(pods * 100);
    expect(parseMemoryBytes(hard['requests.memory']!)).toBeGreaterThanOrEqual(pods * 256 * 2 ** 20);
  });

  it('orders objects by kind tier: namespaces and priority classes first, autoscalers last', async () => {
    const objs = await renderStack(config(), { env: 'prod' });
    const tiers = objs.map((o) => kindTier(o.kind));
    expect([...tiers].sort((a, b) => a - b)).toEqual(tiers);
    expect(objs[0]?.kind).toBe('Namespace');
    const t = tiersOf(objs);
    expect(t.at(-1)?.map((o) => o.kind)).toContain('HorizontalPodAutoscaler');
    expect(t.findIndex((g) => g.some((o) => o.kind === 'PriorityClass'))).toBeLessThan(
      t.findIndex((g) => g.some((o) => o.kind === 'Deployment')),
    );
  });

  it('applies in three phases: cluster prerequisites, namespace furniture, then workloads', async () => {
    const phases = applyPhasesOf(await renderStack(config(), { env: 'prod' })).map(
      (p) => new Set(p.map((o) => o.kind)),
    );
    expect(phases).toHaveLength(3);
    expect([...phases[0]!].sort()).toEqual(['Namespace', 'PriorityClass']);
    for (const k of [
      'ResourceQuota',
      'LimitRange',
      'ServiceAccount',
      'Role',
      'ConfigMap',
      'Secret',
      'NetworkPolicy',
      'Service',
    ])
      expect(phases[1]!.has(k)).toBe(true);
    expect([...phases[2]!].sort()).toEqual(['Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']);
  });

  it('renders optional CRD kinds only when the cluster serves them, and says why otherwise', () => {
    const none = renderStackDetailed(config(), { env: 'prod' });
    expect(none.objects.some((o) => o.kind === 'ExternalSecret' || o.kind === 'ScaledObject')).toBe(false);
    expect(none.skipped.find((s) => s.kind === 'ExternalSecret')?.reason).toMatch(/External Secrets/);
    expect(none.skipped.find((s) => s.kind === 'ServiceMonitor')?.reason).toMatch(/servicemonitors/);
    const all = renderStackDetailed(config(), {
      env: 'prod',
      capabilities: {
        externalSecrets: 'external-secrets.io/v1',
        certManager: 'cert-manager.io/v1',
        serviceMonitor: 'monitoring.coreos.com/v1',
        keda: 'keda.sh/v1alpha1',
      },
      secrets: { API_KEY: 'x' },
    });
    expect(find(all.objects, 'ExternalSecret')).toHaveLength(2);
    expect(find(all.objects, 'Certificate')).toHaveLength(1);
    expect(find(all.objects, 'ScaledObject')[0]?.apiVersion).toBe('keda.sh/v1alpha1');
    // KEDA replaces the agents HPA; ExternalSecret replaces the Secret from input.
    expect(find(all.objects, 'HorizontalPodAutoscaler', 'u-agents')).toHaveLength(0);
    expect(find(all.objects, 'Secret', undefined, 'hive-app-secrets')).toHaveLength(0);
  });

  it('puts secret values from input into a Secret only when given', () => {
    const r = renderStackDetailed(config(), { env: 'prod', secrets: { API_KEY: 's3cr3t' } });
    const s = find(r.objects, 'Secret', 'u-api', 'hive-app-secrets')[0];
    expect(s?.stringData).toEqual({ API_KEY: 's3cr3t' });
    // Without values, the Secret is skipped but marked so that prune keeps a live one.
    const none = renderStackDetailed(config(), { env: 'prod' });
    expect(
      none.skipped.filter((x) => x.name === 'hive-app-secrets' && x.kind === 'Secret').every((x) => x.keepLive),
    ).toBe(true);
    expect(none.skipped.filter((x) => x.kind === 'ServiceMonitor').some((x) => x.keepLive)).toBe(false);
  });
});

describe('templates', () => {
  it('keeps types for whole placeholders and interpolates inside strings', () => {
    const v = { a: { n: 3, list: [1, 2] }, s: 'x' };
    expect(substitute({ n: '{{ a.n }}', l: '{{ a.list }}', t: 'pre-{{ s }}-{{ a.n }}' }, v, 't')).toEqual({
      n: 3,
      l: [1, 2],
      t: 'pre-x-3',
    });
    expect(() => substitute('{{ nope }}', v, 'file.yaml')).toThrow(/file.yaml: no value for \{\{ nope \}\}/);
  });
});

describe('secret inputs', () => {
  it('reads KEY=VALUE files and HIVECTL_SECRET_* variables', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hv-sec-'));
    const f = join(dir, 's.env');
    writeFileSync(f, '# comment\nAPI_KEY=abc\nQUOTED="q v"\n');
    expect(
      readSecretValues({ secretFile: f, secretEnv: ['HIVECTL_SECRET_TOKEN'] }, { HIVECTL_SECRET_TOKEN: 't0k' }),
    ).toEqual({
      API_KEY: 'abc',
      QUOTED: 'q v',
      TOKEN: 't0k',
    });
  });
});

describe('object diff', () => {
  const live = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'c', namespace: 'n', resourceVersion: '5', uid: 'u', managedFields: [{ manager: 'x' }] },
    data: { a: '1' },
  };
  it('ignores server bookkeeping when comparing', () => {
    expect(sameObject(live, { ...live, metadata: { name: 'c', namespace: 'n', resourceVersion: '9' } })).toBe(true);
    expect(sameObject(live, { ...live, data: { a: '2' } })).toBe(false);
  });

  it('prints a unified diff with removals before additions', () => {
    const d = unifiedDiff('a\nb\nc\n', 'a\nB\nc\n', 'old', 'new');
    expect(d).toBe('--- old\n+++ new\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n');
    expect(unifiedDiff('same\n', 'same\n', 'a', 'b')).toBe('');
  });

  it('never shows Secret values: digests instead', () => {
    const s = redactSecret({
      kind: 'Secret',
      data: { k: Buffer.from('hunter2').toString('base64') },
      stringData: { j: 'pw' },
    });
    expect(JSON.stringify(s)).not.toContain('hunter2');
    expect(JSON.stringify(s)).not.toContain(Buffer.from('hunter2').toString('base64'));
    expect(s.data?.k).toMatch(/^<secret sha256:[0-9a-f]{12}>$/);
  });

  it('parses field manager conflicts', () => {
    expect(
      parseConflicts([
        { type: 'FieldManagerConflict', message: 'conflict with "other" using v1', field: '.data.level' },
      ]),
    ).toEqual([{ manager: 'other', field: '.data.level' }]);
  });
});

describe('revisions', () => {
  it('round-trips objects and strips Secret values', () => {
    const objs: KubernetesObject[] = [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { password: 'hunter2' } },
    ];
    const enc = encodeObjects(objs);
    expect(Buffer.from(enc, 'base64').toString('latin1')).not.toContain('hunter2');
    const back = decodeObjects(enc);
    expect(back[0]).toEqual(objs[0]);
    expect(back[1]).toEqual(stripSecretValues(objs[1]!));
    expect(JSON.stringify(back)).not.toContain('hunter2');
  });
});
