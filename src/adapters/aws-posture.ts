// Reads the AWS posture the scan checks evaluate: S3 bucket settings and RDS instances with their
// snapshots (and their copies in the DR region). Read-only; every "not configured" answer
// (NoSuch...Configuration) is data, not an error. Counts requests for the report.

import {
  type DBSnapshot,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotAttributesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketLocationCommand,
  GetBucketPolicyCommand,
  GetBucketReplicationCommand,
  GetBucketVersioningCommand,
  GetObjectLockConfigurationCommand,
  GetPublicAccessBlockCommand,
  ListBucketsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { StepError } from '../core/errors.js';
import type { BucketPosture, DbInstancePosture } from '../scan/types.js';
import { type AwsTarget, awsClientConfig } from './aws.js';

export interface PostureRequest {
  target: AwsTarget;
  region: string;
  drRegion?: string | undefined;
  /** Buckets to read; `all` lists the account's buckets. Backup buckets get the backup-only checks too. */
  buckets: { name: string; backup: boolean }[] | 'all';
  backupBuckets?: string[];
  /** DB instance ids; `all` describes every instance in the region. */
  dbInstances: string[] | 'all';
  signal?: AbortSignal | undefined;
}

export interface PostureResult {
  buckets: BucketPosture[];
  dbInstances: DbInstancePosture[];
  requests: number;
  warnings: string[];
}

const NOT_CONFIGURED = new Set([
  'NoSuchPublicAccessBlockConfiguration',
  'ServerSideEncryptionConfigurationNotFoundError',
  'ObjectLockConfigurationNotFoundError',
  'NoSuchLifecycleConfiguration',
  'ReplicationConfigurationNotFoundError',
  'NoSuchBucketPolicy',
]);

function errName(e: unknown): string {
  return (e as { name?: string; Code?: string })?.name ?? (e as { Code?: string })?.Code ?? '';
}
function httpStatus(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function awsError(e: unknown, what: string): StepError {
  const name = errName(e);
  if (name === 'AccessDenied' || name === 'AccessDeniedException' || httpStatus(e) === 403)
    return new StepError(`${what}: permission denied (${name || 'HTTP 403'})`, {
      hint: 'attach the IAM policy printed by `hivectl iam-policy --commands scan` to this identity',
      cause: e,
    });
  const code = (e as { code?: string })?.code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT')
    return new StepError(`${what}: cannot reach the AWS endpoint (${code})`, {
      hint: 'check --endpoint-url / AWS_ENDPOINT_URL and the network',
      cause: e,
    });
  return new StepError(`${what}: ${name ? `${name}: ` : ''}${(e as Error)?.message ?? e}`, { cause: e });
}

export async function readAwsPosture(req: PostureRequest): Promise<PostureResult> {
  let requests = 0;
  const warnings: string[] = [];
  const s3Clients = new Map<string, S3Client>();
  const rdsClients = new Map<string, RDSClient>();
  const s3 = async (region: string) => {
    let c = s3Clients.get(region);
    if (!c) {
      // biome-ignore lint/suspicious/noExplicitAny: the shared config's credentials type is opaque
      c = new S3Client((await awsClientConfig(req.target, region)) as any);
      countRequests(c);
      s3Clients.set(region, c);
    }
    return c;
  };
  const rds = async (region: string) => {
    let c = rdsClients.get(region);
    if (!c) {
      // biome-ignore lint/suspicious/noExplicitAny: see above
      c = new RDSClient((await awsClientConfig(req.target, region)) as any);
      countRequests(c);
      rdsClients.set(region, c);
    }
    return c;
  };
  const opts = { abortSignal: req.signal };
  // One count per API call (retries not counted twice): what the report's request count means.
  type Next = (args: unknown) => Promise<unknown>;
  const countRequests = (c: S3Client | RDSClient) =>
    (c.middlewareStack as unknown as { add(mw: (next: Next) => Next, o: object): void }).add(
      (next) => (args) => {
        requests++;
        return next(args);
      },
      { step: 'initialize', name: 'hivectlCountRequests' },
    );
  /** The answer, or undefined when the setting is simply not configured. */
  const optional = async <T>(p: Promise<T>): Promise<T | undefined> => {
    try {
      return await p;
    } catch (e) {
      if (NOT_CONFIGURED.has(errName(e))) return undefined;
      throw e;
    }
  };

  try {
    // ---------- S3 ----------
    let bucketList: { name: string; backup: boolean }[];
    const backupSet = new Set(req.backupBuckets ?? []);
    if (req.buckets === 'all') {
      const r = await (await s3(req.region)).send(new ListBucketsCommand({}), opts);
      bucketList = (r.Buckets ?? []).map((b) => ({ name: b.Name ?? '', backup: backupSet.has(b.Name ?? '') }));
    } else bucketList = req.buckets;

    const locationOf = async (bucket: string): Promise<string | undefined> => {
      try {
        const r = await (await s3(req.region)).send(new GetBucketLocationCommand({ Bucket: bucket }), opts);
        return r.LocationConstraint || 'us-east-1';
      } catch (e) {
        if (errName(e) === 'NoSuchBucket') return undefined;
        throw awsError(e, `s3://${bucket}: GetBucketLocation`);
      }
    };

    const buckets = (
      await Promise.all(
        bucketList.map(async (b): Promise<BucketPosture | undefined> => {
          const region = await locationOf(b.name);
          if (!region) {
            warnings.push(`s3://${b.name} does not exist: not scanned`);
            return undefined;
          }
          const c = await s3(region);
          const B = { Bucket: b.name };
          try {
            const [pab, enc, ver, lock, life, repl, pol] = await Promise.all([
              optional(c.send(new GetPublicAccessBlockCommand(B), opts)),
              optional(c.send(new GetBucketEncryptionCommand(B), opts)),
              c.send(new GetBucketVersioningCommand(B), opts),
              optional(c.send(new GetObjectLockConfigurationCommand(B), opts)),
              optional(c.send(new GetBucketLifecycleConfigurationCommand(B), opts)),
              optional(c.send(new GetBucketReplicationCommand(B), opts)),
              optional(c.send(new GetBucketPolicyCommand(B), opts)),
            ]);
            const rules = repl?.ReplicationConfiguration?.Rules ?? [];
            const dests = rules
              .filter((r) => r.Status === 'Enabled')
              .map((r) => r.Destination?.Bucket ?? '')
              .filter(Boolean);
            const destRegions = (
              await Promise.all(dests.map((arn) => locationOf(arn.replace(/^arn:aws[a-z-]*:s3:::/, ''))))
            ).filter((x): x is string => !!x);
            let policy: unknown;
            if (pol?.Policy) {
              try {
                policy = JSON.parse(pol.Policy);
              } catch {
                warnings.push(`s3://${b.name}: bucket policy is not valid JSON`);
              }
            }
            const sse = enc?.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault;
            return {
              name: b.name,
              region,
              backup: b.backup || backupSet.has(b.name),
              publicAccessBlock: pab?.PublicAccessBlockConfiguration,
              encryption: sse ? { algorithm: sse.SSEAlgorithm } : undefined,
              versioning: ver.Status,
              objectLock: lock?.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled',
              lifecycleRules: (life?.Rules ?? []).filter((r) => r.Status === 'Enabled').length,
              replicationDestinations: dests,
              replicationRegions: destRegions,
              policy,
            };
          } catch (e) {
            throw awsError(e, `s3://${b.name}`);
          }
        }),
      )
    ).filter((b): b is BucketPosture => !!b);

    // ---------- RDS ----------
    const primary = await rds(req.region);
    // biome-ignore lint/suspicious/noExplicitAny: DBInstance shape
    const dbList: any[] = [];
    try {
      if (req.dbInstances === 'all') {
        let marker: string | undefined;
        do {
          const r = await primary.send(new DescribeDBInstancesCommand({ Marker: marker }), opts);
          dbList.push(...(r.DBInstances ?? []));
          marker = r.Marker;
        } while (marker);
      } else {
        for (const id of req.dbInstances) {
          try {
            const r = await primary.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }), opts);
            dbList.push(...(r.DBInstances ?? []));
          } catch (e) {
            if (errName(e) === 'DBInstanceNotFound' || errName(e) === 'DBInstanceNotFoundFault') {
              warnings.push(`RDS instance ${id} not found in ${req.region}: not scanned`);
              continue;
            }
            throw e;
          }
        }
      }
    } catch (e) {
      throw awsError(e, `RDS in ${req.region}: DescribeDBInstances`);
    }

    let drSnaps: DBSnapshot[] | undefined;
    if (req.drRegion && dbList.length) {
      try {
        drSnaps = [];
        const dr = await rds(req.drRegion);
        let marker: string | undefined;
        do {
          const r = await dr.send(new DescribeDBSnapshotsCommand({ Marker: marker }), opts);
          drSnaps.push(...(r.DBSnapshots ?? []));
          marker = r.Marker;
        } while (marker);
      } catch (e) {
        throw awsError(e, `RDS in ${req.drRegion}: DescribeDBSnapshots`);
      }
    }

    const dbInstances = await Promise.all(
      dbList.map(async (d): Promise<DbInstancePosture> => {
        const id = String(d.DBInstanceIdentifier);
        let snaps: DBSnapshot[] = [];
        try {
          let marker: string | undefined;
          do {
            const r = await primary.send(
              new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: id, Marker: marker }),
              opts,
            );
            snaps.push(...(r.DBSnapshots ?? []));
            marker = r.Marker;
          } while (marker);
        } catch (e) {
          throw awsError(e, `rds:${id}: DescribeDBSnapshots`);
        }
        snaps = snaps.filter((s) => s.Status === undefined || s.Status === 'available' || s.Status === 'creating');
        const snapshots = await Promise.all(
          snaps.map(async (s) => {
            let isPublic = false;
            // Only manual snapshots can be shared.
            if (s.SnapshotType !== 'automated') {
              try {
                const a = await primary.send(
                  new DescribeDBSnapshotAttributesCommand({ DBSnapshotIdentifier: s.DBSnapshotIdentifier }),
                  opts,
                );
                isPublic = (a.DBSnapshotAttributesResult?.DBSnapshotAttributes ?? []).some(
                  (x) => x.AttributeName === 'restore' && (x.AttributeValues ?? []).includes('all'),
                );
              } catch (e) {
                throw awsError(e, `rds-snapshot:${s.DBSnapshotIdentifier}: DescribeDBSnapshotAttributes`);
              }
            }
            return {
              id: String(s.DBSnapshotIdentifier),
              created: s.SnapshotCreateTime ? new Date(s.SnapshotCreateTime).toISOString() : undefined,
              public: isPublic,
            };
          }),
        );
        const arns = new Set(snaps.map((s) => s.DBSnapshotArn).filter(Boolean));
        const copies = drSnaps?.filter(
          (s) =>
            s.DBInstanceIdentifier === id ||
            (s.SourceDBSnapshotIdentifier !== undefined && arns.has(s.SourceDBSnapshotIdentifier)),
        );
        return {
          id,
          region: req.region,
          engine: d.Engine,
          storageEncrypted: d.StorageEncrypted,
          publiclyAccessible: d.PubliclyAccessible,
          backupRetentionPeriod: d.BackupRetentionPeriod,
          deletionProtection: d.DeletionProtection,
          multiAZ: d.MultiAZ,
          iamAuth: d.IAMDatabaseAuthenticationEnabled,
          latestRestorableTime: d.LatestRestorableTime ? new Date(d.LatestRestorableTime).toISOString() : undefined,
          snapshots,
          drSnapshots: copies?.map((s) => ({
            id: String(s.DBSnapshotIdentifier),
            created: s.SnapshotCreateTime ? new Date(s.SnapshotCreateTime).toISOString() : undefined,
          })),
          drRegion: req.drRegion,
        };
      }),
    );
    return { buckets, dbInstances, requests, warnings };
  } finally {
    for (const c of s3Clients.values()) c.destroy();
    for (const c of rdsClients.values()) c.destroy();
  }
}
