// RDS facade for backups and restores: instance and Aurora cluster snapshots, cross-region copies,
// restores from a snapshot or to a point in time. Waits use the SDK waiters and honour the AbortSignal.
import {
  CopyDBClusterSnapshotCommand,
  CopyDBSnapshotCommand,
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  type DBSnapshot,
  DeleteDBClusterSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
  RestoreDBInstanceToPointInTimeCommand,
  waitUntilDBClusterSnapshotAvailable,
  waitUntilDBInstanceAvailable,
  waitUntilDBSnapshotAvailable,
} from '@aws-sdk/client-rds';
import { StepError } from '../core/errors.js';
import { type AwsTarget, awsClientConfig } from './aws.js';

export interface SnapshotInfo {
  id: string;
  arn: string;
  status: string;
  createdAt?: string;
  tags: Record<string, string>;
}

export interface InstanceInfo {
  id: string;
  status: string;
  endpoint?: { address: string; port: number };
  latestRestorableTime?: string;
  engine?: string;
}

export interface Rds {
  region: string;
  client: RDSClient;
  createSnapshot(
    kind: 'rds' | 'aurora',
    sourceId: string,
    snapshotId: string,
    tags: Record<string, string>,
  ): Promise<SnapshotInfo>;
  describeSnapshot(kind: 'rds' | 'aurora', snapshotId: string): Promise<SnapshotInfo | undefined>;
  waitSnapshot(kind: 'rds' | 'aurora', snapshotId: string, signal: AbortSignal, maxWaitS: number): Promise<void>;
  /** Copy a snapshot from another region into this client's region. */
  copySnapshotFrom(
    kind: 'rds' | 'aurora',
    sourceArn: string,
    sourceRegion: string,
    targetId: string,
    tags: Record<string, string>,
    kmsKeyId?: string,
  ): Promise<SnapshotInfo>;
  deleteSnapshot(kind: 'rds' | 'aurora', snapshotId: string): Promise<void>;
  listSnapshotsTagged(kind: 'rds' | 'aurora', tagKey: string): Promise<SnapshotInfo[]>;
  describeInstance(id: string): Promise<InstanceInfo | undefined>;
  restoreFromSnapshot(snapshotId: string, instanceId: string): Promise<void>;
  restoreToTime(sourceId: string, instanceId: string, time: Date): Promise<void>;
  waitInstance(id: string, signal: AbortSignal, maxWaitS: number): Promise<InstanceInfo>;
}

function rdsError(e: unknown, what: string): StepError {
  if (e instanceof StepError) return e;
  const name = (e as { name?: string })?.name ?? '';
  return new StepError(`${what}: ${name && name !== 'Error' ? `${name}: ` : ''}${(e as Error)?.message ?? String(e)}`, {
    cause: e,
  });
}

const tagList = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
const tagMap = (tags?: { Key?: string; Value?: string }[]) =>
  Object.fromEntries((tags ?? []).filter((t) => t.Key).map((t) => [t.Key!, t.Value ?? '']));

function fromInstanceSnapshot(s: DBSnapshot): SnapshotInfo {
  return {
    id: s.DBSnapshotIdentifier!,
    arn: s.DBSnapshotArn ?? '',
    status: s.Status ?? 'unknown',
    ...(s.SnapshotCreateTime ? { createdAt: s.SnapshotCreateTime.toISOString() } : {}),
    tags: tagMap(s.TagList),
  };
}

function fromClusterSnapshot(s: {
  DBClusterSnapshotIdentifier?: string;
  DBClusterSnapshotArn?: string;
  Status?: string;
  SnapshotCreateTime?: Date;
  TagList?: { Key?: string; Value?: string }[];
}): SnapshotInfo {
  return {
    id: s.DBClusterSnapshotIdentifier!,
    arn: s.DBClusterSnapshotArn ?? '',
    status: s.Status ?? 'unknown',
    ...(s.SnapshotCreateTime ? { createdAt: s.SnapshotCreateTime.toISOString() } : {}),
    tags: tagMap(s.TagList),
  };
}

const notFound = (e: unknown) => /NotFound/.test((e as { name?: string })?.name ?? '');

async function waitOrThrow(p: Promise<{ state: string; reason?: unknown }>, what: string): Promise<void> {
  try {
    const r = await p;
    if (r.state !== 'SUCCESS') throw new StepError(`${what}: waiter ended in state ${r.state}`);
  } catch (e) {
    const name = (e as { name?: string })?.name;
    if (name === 'AbortError') throw new StepError(`${what}: aborted`);
    if (name === 'TimeoutError')
      throw new StepError(`${what}: timed out`, { hint: 'raise --timeout and resume the run' });
    throw rdsError(e, what);
  }
}

export async function connectRds(t: AwsTarget, region?: string): Promise<Rds> {
  const cfg = await awsClientConfig(t, region);
  const { forcePathStyle: _f, ...rest } = cfg;
  // biome-ignore lint/suspicious/noExplicitAny: credentials type from the provider package
  const client = new RDSClient(rest as any);
  const r: Rds = {
    region: cfg.region,
    client,
    async createSnapshot(kind, sourceId, snapshotId, tags) {
      try {
        if (kind === 'aurora') {
          const o = await client.send(
            new CreateDBClusterSnapshotCommand({
              DBClusterIdentifier: sourceId,
              DBClusterSnapshotIdentifier: snapshotId,
              Tags: tagList(tags),
            }),
          );
          return fromClusterSnapshot(o.DBClusterSnapshot!);
        }
        const o = await client.send(
          new CreateDBSnapshotCommand({
            DBInstanceIdentifier: sourceId,
            DBSnapshotIdentifier: snapshotId,
            Tags: tagList(tags),
          }),
        );
        return fromInstanceSnapshot(o.DBSnapshot!);
      } catch (e) {
        if ((e as { name?: string }).name?.includes('AlreadyExists')) {
          const s = await r.describeSnapshot(kind, snapshotId);
          if (s) return s;
        }
        throw rdsError(e, `snapshot ${sourceId} as ${snapshotId} (${cfg.region})`);
      }
    },
    async describeSnapshot(kind, snapshotId) {
      try {
        if (kind === 'aurora') {
          const o = await client.send(
            new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: snapshotId }),
          );
          const s = o.DBClusterSnapshots?.[0];
          return s ? fromClusterSnapshot(s) : undefined;
        }
        const o = await client.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshotId }));
        const s = o.DBSnapshots?.[0];
        return s ? fromInstanceSnapshot(s) : undefined;
      } catch (e) {
        if (notFound(e)) return undefined;
        throw rdsError(e, `describe snapshot ${snapshotId} (${cfg.region})`);
      }
    },
    async waitSnapshot(kind, snapshotId, signal, maxWaitS) {
      const w = { client, maxWaitTime: maxWaitS, minDelay: 1, maxDelay: 15, abortSignal: signal };
      await waitOrThrow(
        kind === 'aurora'
          ? waitUntilDBClusterSnapshotAvailable(w, { DBClusterSnapshotIdentifier: snapshotId })
          : waitUntilDBSnapshotAvailable(w, { DBSnapshotIdentifier: snapshotId }),
        `wait for snapshot ${snapshotId} (${cfg.region})`,
      );
    },
    async copySnapshotFrom(kind, sourceArn, sourceRegion, targetId, tags, kmsKeyId) {
      try {
        if (kind === 'aurora') {
          const o = await client.send(
            new CopyDBClusterSnapshotCommand({
              SourceDBClusterSnapshotIdentifier: sourceArn,
              TargetDBClusterSnapshotIdentifier: targetId,
              SourceRegion: sourceRegion,
              Tags: tagList(tags),
              ...(kmsKeyId ? { KmsKeyId: kmsKeyId } : {}),
            } as ConstructorParameters<typeof CopyDBClusterSnapshotCommand>[0]),
          );
          return fromClusterSnapshot(o.DBClusterSnapshot!);
        }
        const o = await client.send(
          new CopyDBSnapshotCommand({
            SourceDBSnapshotIdentifier: sourceArn,
            TargetDBSnapshotIdentifier: targetId,
            SourceRegion: sourceRegion,
            Tags: tagList(tags),
            ...(kmsKeyId ? { KmsKeyId: kmsKeyId } : {}),
            // SourceRegion is consumed by the SDK's RDS middleware, which presigns the source URL.
          } as ConstructorParameters<typeof CopyDBSnapshotCommand>[0]),
        );
        return fromInstanceSnapshot(o.DBSnapshot!);
      } catch (e) {
        if ((e as { name?: string }).name?.includes('AlreadyExists')) {
          const s = await r.describeSnapshot(kind, targetId);
          if (s) return s;
        }
        throw rdsError(e, `copy snapshot ${sourceArn} to ${cfg.region}`);
      }
    },
    async deleteSnapshot(kind, snapshotId) {
      try {
        if (kind === 'aurora')
          await client.send(new DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: snapshotId }));
        else await client.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: snapshotId }));
      } catch (e) {
        if (notFound(e)) return;
        throw rdsError(e, `delete snapshot ${snapshotId} (${cfg.region})`);
      }
    },
    async listSnapshotsTagged(kind, tagKey) {
      const out: SnapshotInfo[] = [];
      let marker: string | undefined;
      try {
        do {
          if (kind === 'aurora') {
            const o = await client.send(
              new DescribeDBClusterSnapshotsCommand({ Marker: marker, SnapshotType: 'manual' }),
            );
            out.push(...(o.DBClusterSnapshots ?? []).map(fromClusterSnapshot));
            marker = o.Marker;
          } else {
            const o = await client.send(new DescribeDBSnapshotsCommand({ Marker: marker, SnapshotType: 'manual' }));
            out.push(...(o.DBSnapshots ?? []).map(fromInstanceSnapshot));
            marker = o.Marker;
          }
        } while (marker);
      } catch (e) {
        throw rdsError(e, `list snapshots (${cfg.region})`);
      }
      return out.filter((s) => tagKey in s.tags);
    },
    async describeInstance(id) {
      try {
        const o = await client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
        const i = o.DBInstances?.[0];
        if (!i) return undefined;
        return {
          id: i.DBInstanceIdentifier!,
          status: i.DBInstanceStatus ?? 'unknown',
          ...(i.Endpoint?.Address ? { endpoint: { address: i.Endpoint.Address, port: i.Endpoint.Port ?? 5432 } } : {}),
          ...(i.LatestRestorableTime ? { latestRestorableTime: i.LatestRestorableTime.toISOString() } : {}),
          ...(i.Engine ? { engine: i.Engine } : {}),
        };
      } catch (e) {
        if (notFound(e)) return undefined;
        throw rdsError(e, `describe instance ${id} (${cfg.region})`);
      }
    },
    async restoreFromSnapshot(snapshotId, instanceId) {
      try {
        await client.send(
          new RestoreDBInstanceFromDBSnapshotCommand({
            DBSnapshotIdentifier: snapshotId,
            DBInstanceIdentifier: instanceId,
          }),
        );
      } catch (e) {
        if ((e as { name?: string }).name?.includes('AlreadyExists')) return;
        throw rdsError(e, `restore ${snapshotId} into ${instanceId} (${cfg.region})`);
      }
    },
    async restoreToTime(sourceId, instanceId, time) {
      try {
        await client.send(
          new RestoreDBInstanceToPointInTimeCommand({
            SourceDBInstanceIdentifier: sourceId,
            TargetDBInstanceIdentifier: instanceId,
            RestoreTime: time,
          }),
        );
      } catch (e) {
        if ((e as { name?: string }).name?.includes('AlreadyExists')) return;
        throw rdsError(e, `restore ${sourceId} to ${time.toISOString()} into ${instanceId} (${cfg.region})`);
      }
    },
    async waitInstance(id, signal, maxWaitS) {
      await waitOrThrow(
        waitUntilDBInstanceAvailable(
          { client, maxWaitTime: maxWaitS, minDelay: 1, maxDelay: 15, abortSignal: signal },
          { DBInstanceIdentifier: id },
        ),
        `wait for instance ${id} (${cfg.region})`,
      );
      const i = await r.describeInstance(id);
      if (!i) throw new StepError(`instance ${id} vanished while waiting (${cfg.region})`);
      return i;
    },
  };
  return r;
}
