// `hivectl scan --scope aws` against moto: a hardened backup bucket and RDS instance stay quiet,
// seeded bad ones yield exactly the expected findings.
import {
  CopyDBSnapshotCommand,
  type CopyDBSnapshotCommandInput,
  CreateDBInstanceCommand,
  CreateDBSnapshotCommand,
  ModifyDBSnapshotAttributeCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  CreateBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectLockConfigurationCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, sandbox, uniqueName } from '../helpers/sandbox.js';

const creds = { accessKeyId: 'test', secretAccessKey: 'test' };
const s3 = (region: string) =>
  new S3Client({ region, endpoint: sandbox().endpointUrl, forcePathStyle: true, credentials: creds });
const rds = (region: string) => new RDSClient({ region, endpoint: sandbox().endpointUrl, credentials: creds });

const goodBucket = uniqueName('scan-good');
const drBucket = uniqueName('scan-dr');
const badBucket = uniqueName('scan-bad');
const goodDb = uniqueName('scan-gooddb');
const badDb = uniqueName('scan-baddb');

beforeAll(async () => {
  const { region, drRegion } = sandbox();
  const c = s3(region);
  const dr = s3(drRegion);
  await dr.send(
    new CreateBucketCommand({ Bucket: drBucket, CreateBucketConfiguration: { LocationConstraint: drRegion } }),
  );
  await dr.send(new PutBucketVersioningCommand({ Bucket: drBucket, VersioningConfiguration: { Status: 'Enabled' } }));

  await c.send(new CreateBucketCommand({ Bucket: goodBucket, ObjectLockEnabledForBucket: true }));
  await c.send(new PutBucketVersioningCommand({ Bucket: goodBucket, VersioningConfiguration: { Status: 'Enabled' } }));
  await c.send(
    new PutObjectLockConfigurationCommand({
      Bucket: goodBucket,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 7 } },
      },
    }),
  );
  await c.send(
    new PutPublicAccessBlockCommand({
      Bucket: goodBucket,
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        IgnorePublicAcls: true,
        BlockPublicPolicy: true,
        RestrictPublicBuckets: true,
      },
    }),
  );
  await c.send(
    new PutBucketEncryptionCommand({
      Bucket: goodBucket,
      ServerSideEncryptionConfiguration: {
        Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }],
      },
    }),
  );
  await c.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: goodBucket,
      LifecycleConfiguration: {
        Rules: [
          { ID: 'old', Status: 'Enabled', Filter: { Prefix: '' }, NoncurrentVersionExpiration: { NoncurrentDays: 30 } },
        ],
      },
    }),
  );
  await c.send(
    new PutBucketReplicationCommand({
      Bucket: goodBucket,
      ReplicationConfiguration: {
        Role: 'arn:aws:iam::123456789012:role/replication',
        Rules: [
          {
            ID: 'dr',
            Status: 'Enabled',
            Priority: 1,
            Filter: { Prefix: '' },
            DeleteMarkerReplication: { Status: 'Disabled' },
            Destination: { Bucket: `arn:aws:s3:::${drBucket}` },
          },
        ],
      },
    }),
  );

  // The bad bucket: nothing configured, and a policy that opens it to everyone.
  await c.send(new CreateBucketCommand({ Bucket: badBucket }));
  await c.send(
    new PutBucketPolicyCommand({
      Bucket: badBucket,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'Public',
            Effect: 'Allow',
            Principal: '*',
            Action: 's3:GetObject',
            Resource: `arn:aws:s3:::${badBucket}/*`,
          },
        ],
      }),
    }),
  );

  const r = rds(region);
  await r.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: goodDb,
      DBInstanceClass: 'db.t3.micro',
      Engine: 'postgres',
      AllocatedStorage: 20,
      MasterUsername: 'hive',
      MasterUserPassword: 'not-a-real-password-1',
      StorageEncrypted: true,
      MultiAZ: true,
      DeletionProtection: true,
      EnableIAMDatabaseAuthentication: true,
      BackupRetentionPeriod: 14,
      PubliclyAccessible: false,
    }),
  );
  const snap = await r.send(
    new CreateDBSnapshotCommand({ DBInstanceIdentifier: goodDb, DBSnapshotIdentifier: `${goodDb}-s1` }),
  );
  await rds(drRegion).send(
    // SourceRegion makes the SDK presign the copy request for the source region itself.
    new CopyDBSnapshotCommand({
      SourceDBSnapshotIdentifier: snap.DBSnapshot!.DBSnapshotArn!,
      TargetDBSnapshotIdentifier: `${goodDb}-s1-dr`,
      SourceRegion: region,
    } as CopyDBSnapshotCommandInput),
  );

  await r.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: badDb,
      DBInstanceClass: 'db.t3.micro',
      Engine: 'postgres',
      AllocatedStorage: 20,
      MasterUsername: 'hive',
      MasterUserPassword: 'not-a-real-password-1',
      StorageEncrypted: false,
      MultiAZ: false,
      DeletionProtection: false,
      BackupRetentionPeriod: 0,
      PubliclyAccessible: true,
    }),
  );
  await r.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: badDb, DBSnapshotIdentifier: `${badDb}-s1` }));
  await r.send(
    new ModifyDBSnapshotAttributeCommand({
      DBSnapshotIdentifier: `${badDb}-s1`,
      AttributeName: 'restore',
      ValuesToAdd: ['all'],
    }),
  );
});

interface JsonFinding {
  checkId: string;
  target: string;
}

describe('hivectl scan --scope aws (moto)', () => {
  it('the hardened bucket and instance are clean; the bad ones yield exactly the expected findings', async () => {
    const { region, drRegion } = sandbox();
    const r = await runCli([
      'scan',
      '--scope',
      'aws',
      '-o',
      'json',
      '--region',
      region,
      '--dr-region',
      drRegion,
      '--bucket',
      `${goodBucket},${badBucket}`,
      '--db-instance',
      goodDb,
      '--db-instance',
      badDb,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    const got = (json.findings as JsonFinding[]).map((f) => `${f.checkId} ${f.target}`).sort();
    const b = `s3://${badBucket}`;
    const d = `rds:${region}/${badDb}`;
    expect(got).toEqual(
      [
        `HIVE-S3-001 ${b}`,
        `HIVE-S3-002 ${b}`,
        `HIVE-S3-003 ${b}`,
        `HIVE-S3-004 ${b}`,
        `HIVE-S3-005 ${b}`,
        `HIVE-S3-006 ${b}`,
        `HIVE-S3-007 ${b}`,
        `HIVE-RDS-001 ${d}`,
        `HIVE-RDS-002 ${d}`,
        `HIVE-RDS-003 ${d}`,
        `HIVE-RDS-004 ${d}`,
        `HIVE-RDS-005 ${d}`,
        `HIVE-RDS-006 ${d}`,
        `HIVE-RDS-007 rds-snapshot:${region}/${badDb}-s1`,
        `HIVE-RDS-009 ${d}`,
      ].sort(),
    );
    expect(json.stats.awsRequests).toBeGreaterThan(0);
    expect(json.frameworks.find((f: { id: string }) => f.id === 'aws-backup').failed).toBe(15);
  });

  it('a missing region is a usage error (exit 2), never a silent default', async () => {
    const r = await runCli(['scan', '--scope', 'aws'], {
      env: { AWS_REGION: '', AWS_DEFAULT_REGION: '', HIVECTL_REGION: '' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no AWS region configured');
  });
});
