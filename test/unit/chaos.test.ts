import { describe, expect, it } from 'vitest';
import { faultPolicy, matchLabels } from '../../src/chaos/actions.js';
import { builtinExperiment } from '../../src/chaos/builtins.js';
import { dnsSafe, faultLabels, ledgerName } from '../../src/chaos/faults.js';
import { inWindow, parseExperiment, resolveCount } from '../../src/chaos/schema.js';
import { configSchema } from '../../src/core/config-schema.js';
import { chaosReport } from '../../src/report/chaos.js';

const cfg = configSchema.parse({});

describe('experiment schema', () => {
  it('fills defaults and validates actions', () => {
    const e = parseExperiment({
      metadata: { name: 'kill-one' },
      spec: { method: [{ type: 'pod-kill', namespace: 'a', selector: 'app=x' }] },
    });
    expect(e.spec.duration).toBe('30s');
    expect(e.spec.rollbackStrategy).toBe('always');
    expect(e.spec.maxUnavailable).toBe('50%');
    expect(e.spec.method[0]).toEqual({ type: 'pod-kill', namespace: 'a', selector: 'app=x', count: 1 });
  });

  it('names the path of every problem', () => {
    expect(() =>
      parseExperiment({
        metadata: { name: 'Bad Name' },
        spec: { method: [{ type: 'pod-kill', namespace: 'a' }], extra: 1 },
      }),
    ).toThrow(/metadata\.name[\s\S]*spec\.method\.0\.selector|spec\.method\.0\.selector[\s\S]*metadata\.name/);
    expect(() => parseExperiment({ metadata: { name: 'x' }, spec: { method: [] } })).toThrow(/spec\.method/);
  });

  it('resolves counts and shares against a total', () => {
    expect(resolveCount(3, 2)).toBe(2);
    expect(resolveCount('50%', 5)).toBe(2);
    expect(resolveCount('10%', 3)).toBe(1);
    expect(resolveCount('50%', 0)).toBe(0);
  });

  it('honours UTC time windows, across midnight too', () => {
    const at = (h: number, m = 0) => new Date(Date.UTC(2026, 0, 1, h, m));
    expect(inWindow([], at(3))).toBe(true);
    expect(inWindow(['09:00-17:00'], at(10))).toBe(true);
    expect(inWindow(['09:00-17:00'], at(17))).toBe(false);
    expect(inWindow(['22:00-02:00'], at(1))).toBe(true);
    expect(inWindow(['22:00-02:00'], at(12))).toBe(false);
  });
});

describe('built-in experiments', () => {
  it('pod-kill targets the agent workers under an API hypothesis', () => {
    const e = builtinExperiment('pod-kill', { count: '2', duration: '5s' }, cfg);
    expect(e.spec.method[0]).toEqual({
      type: 'pod-kill',
      namespace: 'hive-agents',
      selector: 'app.kubernetes.io/name=agent-worker',
      count: 2,
    });
    expect(e.spec.hypothesis.probes[0]).toMatchObject({
      type: 'ready-replicas',
      namespace: 'hive-api',
      deployment: 'hive-api',
      min: 1,
    });
    expect(e.spec.includeUnlabelled).toBe(false);
  });

  it('dependency-outage defaults to PostgreSQL', () => {
    const e = builtinExperiment('dependency-outage', {}, cfg);
    expect(e.spec.method[0]).toMatchObject({
      type: 'dependency-outage',
      dependency: 'postgres',
      namespace: 'hive-agents',
    });
  });
});

describe('fault objects', () => {
  const at = new Date('2026-11-27T02:00:00Z');

  it('carry the run label and an expiry annotation', () => {
    const p = faultPolicy({ type: 'dependency-outage', namespace: 'ns', dependency: 'redis' }, 'RUN_1', at);
    expect((p.metadata as unknown as { labels: Record<string, string> }).labels).toEqual(faultLabels('RUN_1'));
    expect(
      (p.metadata as unknown as { annotations: Record<string, string> }).annotations['chaos.hive.dev/expires-at'],
    ).toBe(at.toISOString());
    expect(p.metadata.name).toMatch(/^hivectl-chaos-deny-redis-run-1$/);
  });

  it('a dependency outage allows every port but the dependency one', () => {
    const p = faultPolicy({ type: 'dependency-outage', namespace: 'ns', dependency: 'postgres' }, 'r', at);
    const ports = (p.spec as { egress: Array<{ ports: Array<{ protocol: string; port: number; endPort: number }> }> })
      .egress[0]?.ports;
    expect(ports).toEqual([
      { protocol: 'TCP', port: 1, endPort: 5431 },
      { protocol: 'TCP', port: 5433, endPort: 65535 },
      { protocol: 'UDP', port: 1, endPort: 65535 },
    ]);
  });

  it('a partition allows every peer except the other side; without one it isolates', () => {
    const p = faultPolicy({ type: 'network-partition', namespace: 'ns', from: 'app=a', to: 'app=b' }, 'r', at);
    expect(p.spec).toMatchObject({
      podSelector: { matchLabels: { app: 'a' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['b'] }] } }] }],
    });
    const iso = faultPolicy({ type: 'network-partition', namespace: 'ns', from: 'app=a' }, 'r', at);
    expect(iso.spec).toMatchObject({ ingress: [], egress: [] });
  });

  it('only accepts key=value selectors for network faults', () => {
    expect(matchLabels('a=b, c==d')).toEqual({ a: 'b', c: 'd' });
    expect(() => matchLabels('a in (b)')).toThrow(/key=value/);
  });

  it('ledger names are DNS-safe', () => {
    expect(ledgerName('20261127T014207682Z-41a555')).toBe('hivectl-chaos-20261127t014207682z-41a555');
    expect(dnsSafe('__')).toBe('run');
  });
});

describe('chaos report', () => {
  it('is deviated when a sample during the run or the final probe failed', () => {
    const ok = { name: 'p', type: 'command' as const, ok: true, at: 't' };
    const bad = { ...ok, ok: false, value: 1 };
    const base = {
      'chaos-steady-before': { probes: [ok], ok: true },
      'chaos-observe': { samples: [{ at: 't', probes: [ok] }], deviated: false, durationMs: 1 },
      'chaos-steady-after': { probes: [ok], ok: true, recoveredInMs: 5 },
    };
    expect(chaosReport('e', 'r', 'succeeded', base).deviated).toBe(false);
    expect(
      chaosReport('e', 'r', 'succeeded', { ...base, 'chaos-steady-after': { probes: [bad], ok: false } }).deviated,
    ).toBe(true);
    const during = chaosReport('e', 'r', 'succeeded', {
      ...base,
      'chaos-observe': { samples: [{ at: 't', probes: [bad] }], deviated: true, durationMs: 1 },
    });
    expect(during.deviated).toBe(true);
    expect(during.during).toEqual({ samples: 1, failedSamples: 1, worst: [bad] });
  });
});
