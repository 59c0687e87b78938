import { describe, expect, it } from 'vitest';
import { defaultMode } from '../../src/commands/failover.js';
import { configSchema } from '../../src/core/config-schema.js';
import { failoverReport, failoverReportText } from '../../src/report/failover.js';
import { failoverSpec } from '../../src/runbooks/failover.js';
import { endpointData, replicaLag } from '../../src/steps/failover/steps.js';

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

describe('failover report of a failed run', () => {
  it('says the database stays promoted (one-way) and names the new writer', () => {
    const t = { startedAt: new Date(0).toISOString(), endedAt: new Date(10).toISOString(), ms: 10 };
    const r = failoverReport('failover', 'run', 'partial', {
      preflight: { ...t, checks: [], rpoMs: null, rpoSource: 'in-cluster failover' },
      'promote-db': {
        ...t,
        mode: 'cluster',
        instanceId: 'aurora-1',
        writer: 'aurora-1-b',
        writerBefore: 'aurora-1-a',
        rpoMs: null,
        rpoSource: 'in-cluster failover',
      },
    });
    expect(r.promoted).toMatchObject({ writer: 'aurora-1-b', writerBefore: 'aurora-1-a' });
    const text = failoverReportText(r);
    expect(text).toContain('database writer aurora-1-a -> aurora-1-b (aurora-1)');
    expect(text).toContain('DATABASE STAYS PROMOTED: cluster aurora-1');
    expect(failoverReportText({ ...r, status: 'succeeded' })).not.toContain('STAYS PROMOTED');
  });
});

describe('replica lag as the RPO', () => {
  const ctx = { signal: new AbortController().signal, target };

  it('the newest ReplicaLag datapoint is the RPO', async () => {
    const r = await replicaLag(ctx, 'us-west-2', 'db-dr', async () => ({
      seconds: 2.5,
      at: '2026-11-27T03:00:00.000Z',
    }));
    expect(r.rpoMs).toBe(2500);
    expect(r.rpoSource).toBe('replica lag of db-dr (CloudWatch ReplicaLag at 2026-11-27T03:00:00.000Z)');
  });

  it('no datapoint, or CloudWatch refusing the read, is an unknown RPO with the reason, not a failure', async () => {
    const none = await replicaLag(ctx, 'us-west-2', 'db-dr', async () => undefined);
    expect(none.rpoMs).toBeNull();
    const denied = Object.assign(new Error('User is not authorized to perform: cloudwatch:GetMetricData'), {
      name: 'AccessDenied',
    });
    const r = await replicaLag(ctx, 'us-west-2', 'db-dr', async () => {
      throw denied;
    });
    expect(r.rpoMs).toBeNull();
    expect(r.rpoSource).toMatch(
      /CloudWatch could not be read \(AccessDenied: User is not authorized.*grant cloudwatch:GetMetricData/,
    );
    expect(r.detail).toMatch(/^replica lag unknown \(CloudWatch: AccessDenied/);
  });

  it('an interrupted run is not turned into an unknown RPO', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(
      replicaLag({ signal: ac.signal, target }, 'us-west-2', 'db-dr', async () => {
        throw new Error('aborted');
      }),
    ).rejects.toThrow('aborted');
  });
});
