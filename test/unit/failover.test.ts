import { describe, expect, it } from 'vitest';
import { defaultMode } from '../../src/commands/failover.js';
import { configSchema } from '../../src/core/config-schema.js';
import { failoverReport } from '../../src/report/failover.js';
import { failoverSpec } from '../../src/runbooks/failover.js';
import { endpointData } from '../../src/steps/failover/steps.js';

const config = configSchema.parse({
  cluster: { context: 'east', drContext: 'west' },
  aws: { region: 'us-east-1', drRegion: 'us-west-2' },
  database: { kind: 'rds', instanceId: 'db', drReplicaId: 'db-dr', url: 'postgres://app:pw@db.east:5432/hive' },
});
const target = { namespace: 'hive-system', context: 'east', region: 'us-east-1', drRegion: 'us-west-2' };

describe('failover spec', () => {
  it('failover goes primary -> DR; failback the reverse with the ids swapped', () => {
    const f = failoverSpec({ direction: 'failover', mode: 'replica' }, { config, target });
    expect(f.from).toEqual({ label: 'primary', context: 'east', region: 'us-east-1' });
    expect(f.to).toEqual({ label: 'dr', context: 'west', region: 'us-west-2' });
    expect(f.replicaId).toBe('db-dr');
    expect(f.snapshotSourceId).toBe('db');
    const b = failoverSpec({ direction: 'failback', mode: 'snapshot', suffix: 'x' }, { config, target });
    expect(b.to.label).toBe('primary');
    expect(b.snapshotSourceId).toBe('db-dr');
    expect(b.newInstanceId).toBe('db-dr-failback-x');
  });

  it('refuses a --to that is not the target region, and a missing DR context (exit 2)', () => {
    expect(() => failoverSpec({ direction: 'failover', mode: 'replica', to: 'eu-west-1' }, { config, target })).toThrow(
      /not the dr region/,
    );
    const noDr = configSchema.parse({});
    expect(() => failoverSpec({ direction: 'failover', mode: 'none' }, { config: noDr, target })).toThrow(
      /no DR cluster/,
    );
  });

  it('picks the database mode from hivectl.yaml', () => {
    expect(defaultMode({ kind: 'aurora', clusterId: 'c' })).toBe('cluster');
    expect(defaultMode({ kind: 'rds', drReplicaId: 'r', instanceId: 'i' })).toBe('replica');
    expect(defaultMode({ kind: 'rds', instanceId: 'i' })).toBe('snapshot');
    expect(defaultMode({ kind: 'postgres' })).toBe('none');
  });
});

describe('endpoint Secret data', () => {
  it('kind postgres: the configured PostgreSQL is the data plane', () => {
    expect(endpointData('postgres', 'postgres://hive@127.0.0.1:5433/app', undefined, undefined)).toEqual({
      host: '127.0.0.1',
      port: '5433',
      database: 'app',
      url: 'postgres://hive@127.0.0.1:5433/app',
    });
  });

  it('RDS: the promoted endpoint, keeping user and database of the previous URL', () => {
    const promoted = {
      mode: 'replica' as const,
      endpoint: { host: 'db-dr.west', port: 5432 },
      rpoMs: null,
      rpoSource: '',
      startedAt: '',
      endedAt: '',
      ms: 0,
    };
    const d = endpointData('rds', undefined, promoted, {
      url: 'postgres://app:pw@db.east:5432/hive',
      database: 'hive',
    });
    expect(d).toEqual({
      host: 'db-dr.west',
      port: '5432',
      database: 'hive',
      url: 'postgres://app:pw@db-dr.west:5432/hive',
    });
  });
});

describe('failover report', () => {
  it('measures RTO from the first step to DR verified and lists steps in order', () => {
    const t = (a: number, b: number) => ({
      startedAt: new Date(a).toISOString(),
      endedAt: new Date(b).toISOString(),
      ms: b - a,
    });
    const r = failoverReport('failover', 'run', 'succeeded', {
      preflight: { ...t(1000, 1200), checks: [], rpoMs: null, rpoSource: 'lag' },
      'fence-source': {
        ...t(1200, 1500),
        reachable: false,
        fenced: [],
        notFenced: ['primary cluster unreachable'],
        replicas: [],
      },
      'promote-db': { ...t(1500, 1600), mode: 'snapshot', rpoMs: 60_000, rpoSource: 'age of snapshot s1' },
      'scale-target': { ...t(1600, 2600), scaled: [], readyAfterMs: 900 },
      'verify-target': { ...t(2600, 2700), deployments: [], database: 'ok', verifiedAt: new Date(2700).toISOString() },
    });
    expect(r.rtoMs).toBe(1700);
    expect(r.rpoMs).toBe(60_000);
    expect(r.readyAfterMs).toBe(900);
    expect(r.notFenced).toEqual(['primary cluster unreachable']);
    expect(r.steps.map((s) => s.id)).toEqual([
      'preflight',
      'fence-source',
      'promote-db',
      'scale-target',
      'verify-target',
    ]);
  });
});
