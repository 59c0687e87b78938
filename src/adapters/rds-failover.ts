// RDS calls for failover and db-failover chaos that rds.ts (backup/restore) does not have: a replica-
// aware describe, the newest snapshot of an instance whatever its tags, PromoteReadReplica,
// FailoverDBCluster and reboot-with-failover, each waited on with the SDK's waiters (AbortSignal).
// Restoring from a snapshot uses rds.ts.
import {
  CreateDBInstanceCommand,
  CreateDBInstanceReadReplicaCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  FailoverDBClusterCommand,
  PromoteReadReplicaCommand,
  RDSClient,
  RebootDBInstanceCommand,
  waitUntilDBInstanceAvailable,
} from '@aws-sdk/client-rds';
import { StepError } from '../core/errors.js';
import { type AwsTarget, sharedClient } from './aws.js';

export interface DbInstanceInfo {
  id: string;
  status: string;
  address?: string;
  port?: number;
  engine?: string;
  /** Set on a read replica: its source (ARN or id). */
  replicaSource?: string;
  replicas: string[];
  instanceClass?: string;
}

export interface DbSnapshotInfo {
  id: string;
  instanceId: string;
  createdAt?: string;
  status: string;
  arn?: string;
}

function client(t: AwsTarget, region: string): Promise<RDSClient> {
  return sharedClient('rds', t, region, (cfg) => new RDSClient(cfg as import('@aws-sdk/client-rds').RDSClientConfig));
}

function rdsError(e: unknown, what: string): StepError {
  const name = (e as { name?: string }).name ?? '';
  const msg = (e as Error).message ?? String(e);
  if (name === 'DBInstanceNotFoundFault' || name === 'DBInstanceNotFound')
    return new StepError(`${what}: ${msg}`, {
      hint: 'check database.instanceId / drReplicaId and the region',
      cause: e,
    });
  return new StepError(`${what}: ${name ? `${name}: ` : ''}${msg}`, { cause: e });
}

export async function describeInstance(t: AwsTarget, region: string, id: string): Promise<DbInstanceInfo | undefined> {
  const c = await client(t, region);
  try {
    const r = await c.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
    const d = r.DBInstances?.[0];
    if (!d) return undefined;
    return {
      id: d.DBInstanceIdentifier ?? id,
      status: d.DBInstanceStatus ?? 'unknown',
      ...(d.Endpoint?.Address ? { address: d.Endpoint.Address } : {}),
      ...(d.Endpoint?.Port ? { port: d.Endpoint.Port } : {}),
      ...(d.Engine ? { engine: d.Engine } : {}),
      ...(d.ReadReplicaSourceDBInstanceIdentifier ? { replicaSource: d.ReadReplicaSourceDBInstanceIdentifier } : {}),
      replicas: d.ReadReplicaDBInstanceIdentifiers ?? [],
      ...(d.DBInstanceClass ? { instanceClass: d.DBInstanceClass } : {}),
    };
  } catch (e) {
    if (
      (e as { name?: string }).name === 'DBInstanceNotFoundFault' ||
      (e as { name?: string }).name === 'DBInstanceNotFound'
    )
      return undefined;
    throw rdsError(e, `describe DB instance ${id} in ${region}`);
  }
}

/** Newest available snapshot of an instance in a region (copies keep the source instance id). */
export async function newestSnapshot(
  t: AwsTarget,
  region: string,
  instanceId: string,
): Promise<DbSnapshotInfo | undefined> {
  const c = await client(t, region);
  try {
    // Filtered server-side: the region's whole list grows with every backup (and pages past 100).
    const r = await c.send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: instanceId }));
    const snaps = (r.DBSnapshots ?? [])
      .filter((s) => s.DBInstanceIdentifier === instanceId && (s.Status ?? 'available') === 'available')
      .sort((a, b) => (b.SnapshotCreateTime?.getTime() ?? 0) - (a.SnapshotCreateTime?.getTime() ?? 0));
    const s = snaps[0];
    if (!s) return undefined;
    return {
      id: s.DBSnapshotIdentifier ?? '',
      instanceId,
      ...(s.SnapshotCreateTime ? { createdAt: s.SnapshotCreateTime.toISOString() } : {}),
      status: s.Status ?? 'available',
      ...(s.DBSnapshotArn ? { arn: s.DBSnapshotArn } : {}),
    };
  } catch (e) {
    throw rdsError(e, `list DB snapshots in ${region}`);
  }
}

async function waitAvailable(c: RDSClient, id: string, signal: AbortSignal, timeoutMs: number): Promise<void> {
  try {
    await waitUntilDBInstanceAvailable(
      {
        client: c,
        maxWaitTime: Math.max(1, Math.ceil(timeoutMs / 1000)),
        minDelay: 1,
        maxDelay: 15,
        abortSignal: signal,
      },
      { DBInstanceIdentifier: id },
    );
  } catch (e) {
    throw rdsError(e, `wait for DB instance ${id} to be available`);
  }
}

/** Promote a read replica to a standalone instance and wait until it is available. Idempotent. */
export async function promoteReplica(
  t: AwsTarget,
  region: string,
  id: string,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<DbInstanceInfo> {
  const c = await client(t, region);
  const before = await describeInstance(t, region, id);
  if (!before) throw new StepError(`read replica ${id} not found in ${region}`);
  // Already standalone and available (a resumed run, a failback): nothing to promote or wait for.
  if (!before.replicaSource && before.status === 'available') return before;
  if (before.replicaSource) {
    try {
      await c.send(new PromoteReadReplicaCommand({ DBInstanceIdentifier: id }));
    } catch (e) {
      throw rdsError(e, `promote read replica ${id} in ${region}`);
    }
  }
  await waitAvailable(c, id, signal, timeoutMs);
  return (await describeInstance(t, region, id)) as DbInstanceInfo;
}

export interface DbClusterInfo {
  status: string;
  /** The writer endpoint. */
  address?: string;
  port?: number;
  engine?: string;
  writer?: string;
  readers: string[];
}

export async function describeClusterEndpoint(
  t: AwsTarget,
  region: string,
  clusterId: string,
): Promise<DbClusterInfo | undefined> {
  const c = await client(t, region);
  try {
    const r = await c.send(new DescribeDBClustersCommand({ DBClusterIdentifier: clusterId }));
    const d = r.DBClusters?.[0];
    if (!d) return undefined;
    const members = d.DBClusterMembers ?? [];
    const writer = members.find((m) => m.IsClusterWriter)?.DBInstanceIdentifier;
    return {
      status: d.Status ?? 'unknown',
      ...(d.Endpoint ? { address: d.Endpoint } : {}),
      ...(d.Port ? { port: d.Port } : {}),
      ...(d.Engine ? { engine: d.Engine } : {}),
      ...(writer ? { writer } : {}),
      readers: members
        .filter((m) => !m.IsClusterWriter && m.DBInstanceIdentifier)
        .map((m) => m.DBInstanceIdentifier as string)
        .sort(),
    };
  } catch (e) {
    if ((e as { name?: string }).name === 'DBClusterNotFoundFault') return undefined;
    throw rdsError(e, `describe DB cluster ${clusterId} in ${region}`);
  }
}

/**
 * Aurora: FailoverDBCluster (to a named instance when given, else the reader Aurora picks by promotion
 * tier), then wait until the cluster is available with a writer other than `writerBefore`. Idempotent:
 * when the writer already differs from `writerBefore` (a resumed run) no second failover is asked for,
 * which would move the writer back. Returns the cluster as it stands after.
 */
export async function failoverCluster(
  t: AwsTarget,
  region: string,
  clusterId: string,
  signal: AbortSignal,
  timeoutMs: number,
  opts: { writerBefore?: string | undefined; targetInstance?: string | undefined } = {},
): Promise<DbClusterInfo & { failedOver: boolean }> {
  const c = await client(t, region);
  const now = await describeClusterEndpoint(t, region, clusterId);
  if (!now)
    throw new StepError(`DB cluster ${clusterId} not found in ${region}`, {
      hint: 'check database.clusterId and the DR region',
    });
  const before = opts.writerBefore ?? now.writer;
  const failedOver = before === undefined || now.writer === before;
  if (failedOver) {
    try {
      await c.send(
        new FailoverDBClusterCommand({
          DBClusterIdentifier: clusterId,
          ...(opts.targetInstance ? { TargetDBInstanceIdentifier: opts.targetInstance } : {}),
        }),
      );
    } catch (e) {
      throw rdsError(e, `fail over DB cluster ${clusterId} in ${region}`);
    }
  }
  // Right after the call the cluster may still say "available" with the old writer: wait for the
  // new writer, not only for the status (what the SDK's cluster waiter checks).
  const deadline = Date.now() + timeoutMs;
  let delay = 250;
  for (;;) {
    const d = await describeClusterEndpoint(t, region, clusterId);
    if (d && d.status === 'available' && d.writer && d.writer !== before) return { ...d, failedOver };
    if (Date.now() + delay > deadline)
      throw new StepError(
        `DB cluster ${clusterId} in ${region}: no new writer after ${Math.round(timeoutMs / 1000)}s (status ${d?.status ?? 'gone'}, writer ${d?.writer ?? 'none'})`,
        { hint: 'look at the cluster in the RDS console; `hivectl resume` continues without failing over twice' },
      );
    await sleep(delay, signal);
    delay = Math.min(delay * 2, 5000);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason ?? new Error('aborted'));
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason ?? new Error('aborted'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Multi-AZ instance: reboot with ForceFailover (moto ignores the failover part). */
export async function rebootWithFailover(
  t: AwsTarget,
  region: string,
  id: string,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<{ forced: boolean }> {
  const c = await client(t, region);
  let forced = true;
  try {
    await c.send(new RebootDBInstanceCommand({ DBInstanceIdentifier: id, ForceFailover: true }));
  } catch (e) {
    // A single-AZ instance refuses ForceFailover: reboot plainly, which is what a failover costs it.
    if (!/ForceFailover|Multi-AZ|InvalidParameterCombination/i.test(String((e as Error).message)))
      throw rdsError(e, `reboot ${id} with failover in ${region}`);
    forced = false;
    try {
      await c.send(new RebootDBInstanceCommand({ DBInstanceIdentifier: id }));
    } catch (e2) {
      throw rdsError(e2, `reboot ${id} in ${region}`);
    }
  }
  await waitAvailable(c, id, signal, timeoutMs);
  return { forced };
}

/**
 * For drills on the sandbox: a primary instance and a cross-region read replica of it (created when
 * missing; the SDK presigns the cross-region call from SourceRegion).
 */
export async function ensureInstanceWithReplica(
  t: AwsTarget,
  region: string,
  id: string,
  drRegion: string,
  replicaId: string,
): Promise<{ instance: DbInstanceInfo; replica: DbInstanceInfo }> {
  const c = await client(t, region);
  let instance = await describeInstance(t, region, id);
  if (!instance) {
    try {
      await c.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: id,
          DBInstanceClass: 'db.t3.micro',
          Engine: 'postgres',
          AllocatedStorage: 20,
          MasterUsername: 'hive',
          MasterUserPassword: 'sandbox-only-password',
          BackupRetentionPeriod: 1,
        }),
      );
    } catch (e) {
      throw rdsError(e, `create DB instance ${id} in ${region}`);
    }
    instance = (await describeInstance(t, region, id)) as DbInstanceInfo;
  }
  let replica = await describeInstance(t, drRegion, replicaId);
  if (!replica) {
    const dr = await client(t, drRegion);
    const arn = `arn:aws:rds:${region}:123456789012:db:${id}`;
    try {
      const d = await c.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
      // SourceRegion is honoured by the SDK's presign middleware but missing from the input type.
      const input = {
        DBInstanceIdentifier: replicaId,
        SourceDBInstanceIdentifier: d.DBInstances?.[0]?.DBInstanceArn ?? arn,
        SourceRegion: region,
        DBInstanceClass: 'db.t3.micro',
      };
      await dr.send(new CreateDBInstanceReadReplicaCommand(input));
    } catch (e) {
      throw rdsError(e, `create read replica ${replicaId} in ${drRegion}`);
    }
    replica = (await describeInstance(t, drRegion, replicaId)) as DbInstanceInfo;
  }
  return { instance, replica };
}
