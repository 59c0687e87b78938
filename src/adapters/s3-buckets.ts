// The backup buckets: versioning, default encryption, public access block, lifecycle rules, and
// replication from the primary bucket to the DR bucket. inspect() is read-only (the plan); ensure()
// puts only what differs, so a second run changes nothing.
import {
  CreateBucketCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketReplicationCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { StepError } from '../core/errors.js';
import { type AwsTarget, awsClientConfig } from './aws.js';

export interface BucketSpec {
  bucket: string;
  region: string;
  kmsKeyId?: string | undefined;
  /** Days after which noncurrent versions expire; incomplete multipart uploads are aborted after 7 days. */
  noncurrentDays: number;
  /** Replicate every object to this bucket (in another region). */
  replicateTo?: { bucket: string; region: string } | undefined;
}

export interface BucketFacts {
  exists: boolean;
  versioning: boolean;
  encryption: string | undefined;
  publicAccessBlocked: boolean;
  lifecycle: boolean;
  replicationTo: string | undefined;
}

export type BucketSetting =
  | 'create'
  | 'versioning'
  | 'encryption'
  | 'public-access-block'
  | 'lifecycle'
  | 'replication';

const LIFECYCLE_ID = 'hivectl-backups';

function code(e: unknown): string {
  const x = e as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return x?.name ?? x?.Code ?? String(x?.$metadata?.httpStatusCode ?? '');
}

function s3Error(e: unknown, what: string): StepError {
  const x = e as { name?: string; message?: string };
  return new StepError(`${what}: ${x?.name ?? 'Error'}: ${x?.message ?? String(e)}`, {
    hint: 'check the AWS credentials, region and --endpoint-url, and that the identity may manage this bucket',
    cause: e,
  });
}

export interface S3Buckets {
  inspect(spec: BucketSpec): Promise<BucketFacts>;
  /** What ensure() would change. */
  diff(spec: BucketSpec, facts: BucketFacts): BucketSetting[];
  ensure(spec: BucketSpec, settings: BucketSetting[]): Promise<void>;
}

export async function connectS3Buckets(t: AwsTarget): Promise<S3Buckets> {
  const clients = new Map<string, S3Client>();
  const client = async (region: string) => {
    let c = clients.get(region);
    if (!c) {
      c = new S3Client((await awsClientConfig(t, region)) as import('@aws-sdk/client-s3').S3ClientConfig);
      clients.set(region, c);
    }
    return c;
  };
  let account: Promise<string> | undefined;
  const accountId = (region: string) => {
    account ??= awsClientConfig(t, region).then(async (cfg) => {
      const sts = new STSClient(cfg as import('@aws-sdk/client-sts').STSClientConfig);
      const id = await sts.send(new GetCallerIdentityCommand({}));
      return id.Account ?? '000000000000';
    });
    return account;
  };

  async function inspect(spec: BucketSpec): Promise<BucketFacts> {
    const s3 = await client(spec.region);
    const facts: BucketFacts = {
      exists: false,
      versioning: false,
      encryption: undefined,
      publicAccessBlocked: false,
      lifecycle: false,
      replicationTo: undefined,
    };
    try {
      await s3.send(new HeadBucketCommand({ Bucket: spec.bucket }));
      facts.exists = true;
    } catch (e) {
      if (code(e) === 'NotFound' || code(e) === 'NoSuchBucket' || code(e) === '404') return facts;
      throw s3Error(e, `reading bucket ${spec.bucket}`);
    }
    const opt = async <T>(f: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await f();
      } catch {
        // "no such configuration" answers are 404s with service-specific names: absent.
        return undefined;
      }
    };
    const [v, enc, pab, lc, rep] = await Promise.all([
      opt(() => s3.send(new GetBucketVersioningCommand({ Bucket: spec.bucket }))),
      opt(() => s3.send(new GetBucketEncryptionCommand({ Bucket: spec.bucket }))),
      opt(() => s3.send(new GetPublicAccessBlockCommand({ Bucket: spec.bucket }))),
      opt(() => s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: spec.bucket }))),
      opt(() => s3.send(new GetBucketReplicationCommand({ Bucket: spec.bucket }))),
    ]);
    facts.versioning = v?.Status === 'Enabled';
    facts.encryption =
      enc?.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm;
    const p = pab?.PublicAccessBlockConfiguration;
    facts.publicAccessBlocked = Boolean(
      p?.BlockPublicAcls && p.BlockPublicPolicy && p.IgnorePublicAcls && p.RestrictPublicBuckets,
    );
    facts.lifecycle = Boolean(lc?.Rules?.some((r) => r.ID === LIFECYCLE_ID));
    const dest = rep?.ReplicationConfiguration?.Rules?.[0]?.Destination?.Bucket;
    facts.replicationTo = dest ? dest.replace(/^arn:aws:s3:::/, '') : undefined;
    return facts;
  }

  function diff(spec: BucketSpec, f: BucketFacts): BucketSetting[] {
    const out: BucketSetting[] = [];
    if (!f.exists) out.push('create');
    if (!f.versioning) out.push('versioning');
    const want = spec.kmsKeyId ? 'aws:kms' : 'AES256';
    if (f.encryption !== want) out.push('encryption');
    if (!f.publicAccessBlocked) out.push('public-access-block');
    if (!f.lifecycle) out.push('lifecycle');
    if (spec.replicateTo && f.replicationTo !== spec.replicateTo.bucket) out.push('replication');
    return out;
  }

  async function ensure(spec: BucketSpec, settings: BucketSetting[]): Promise<void> {
    const s3 = await client(spec.region);
    const B = spec.bucket;
    const put = async (what: BucketSetting, f: () => Promise<unknown>) => {
      if (!settings.includes(what)) return;
      try {
        await f();
      } catch (e) {
        if (what === 'create' && (code(e) === 'BucketAlreadyOwnedByYou' || code(e) === 'BucketAlreadyExists')) return;
        throw s3Error(e, `setting ${what} on bucket ${B}`);
      }
    };
    await put('create', () =>
      s3.send(
        new CreateBucketCommand({
          Bucket: B,
          ...(spec.region === 'us-east-1'
            ? {}
            : { CreateBucketConfiguration: { LocationConstraint: spec.region as never } }),
        }),
      ),
    );
    await put('versioning', () =>
      s3.send(new PutBucketVersioningCommand({ Bucket: B, VersioningConfiguration: { Status: 'Enabled' } })),
    );
    await put('encryption', () =>
      s3.send(
        new PutBucketEncryptionCommand({
          Bucket: B,
          ServerSideEncryptionConfiguration: {
            Rules: [
              {
                ApplyServerSideEncryptionByDefault: spec.kmsKeyId
                  ? { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: spec.kmsKeyId }
                  : { SSEAlgorithm: 'AES256' },
                BucketKeyEnabled: Boolean(spec.kmsKeyId),
              },
            ],
          },
        }),
      ),
    );
    await put('public-access-block', () =>
      s3.send(
        new PutPublicAccessBlockCommand({
          Bucket: B,
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
        }),
      ),
    );
    await put('lifecycle', () =>
      s3.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: B,
          LifecycleConfiguration: {
            Rules: [
              {
                ID: LIFECYCLE_ID,
                Status: 'Enabled',
                Filter: { Prefix: '' },
                NoncurrentVersionExpiration: { NoncurrentDays: spec.noncurrentDays },
                AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
              },
            ],
          },
        }),
      ),
    );
    const to = spec.replicateTo;
    if (to) {
      const acct = settings.includes('replication') ? await accountId(spec.region) : '';
      await put('replication', () =>
        s3.send(
          new PutBucketReplicationCommand({
            Bucket: B,
            ReplicationConfiguration: {
              // The role S3 assumes to copy objects; docs/commands/bootstrap.md gives its policy.
              Role: `arn:aws:iam::${acct}:role/hivectl-backup-replication`,
              Rules: [
                {
                  ID: 'hivectl-dr',
                  Status: 'Enabled',
                  Priority: 1,
                  Filter: { Prefix: '' },
                  DeleteMarkerReplication: { Status: 'Disabled' },
                  Destination: { Bucket: `arn:aws:s3:::${to.bucket}`, StorageClass: 'STANDARD' },
                },
              ],
            },
          }),
        ),
      );
    }
  }

  return { inspect, diff, ensure };
}
