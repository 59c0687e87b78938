// The sandbox's AWS (moto): S3 in us-east-1 with versioning, multipart upload and object lock, and
// RDS snapshots copied to the DR region, through the same SDK v3 clients hivectl uses.
import {
  CopyDBSnapshotCommand,
  type CopyDBSnapshotCommandInput,
  CreateDBInstanceCommand,
  CreateDBSnapshotCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetBucketVersioningCommand,
  GetObjectLockConfigurationCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { sandbox, uniqueName } from '../helpers/sandbox.js';

const creds = { accessKeyId: 'test', secretAccessKey: 'test' };

function s3(region: string) {
  return new S3Client({ region, endpoint: sandbox().endpointUrl, forcePathStyle: true, credentials: creds });
}
function rds(region: string) {
  return new RDSClient({ region, endpoint: sandbox().endpointUrl, credentials: creds });
}

describe('sandbox aws (moto)', () => {
  it('S3: versioned bucket, multipart upload, object lock configuration read back', async () => {
    const { region } = sandbox();
    const c = s3(region);
    const bucket = uniqueName('sb-s3');
    await c.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
    await c.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    expect((await c.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).toBe('Enabled');

    // moto accepts an object lock configuration only while the bucket is empty.
    await c.send(
      new PutObjectLockConfigurationCommand({
        Bucket: bucket,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } },
        },
      }),
    );
    const lock = await c.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
    expect(lock.ObjectLockConfiguration?.ObjectLockEnabled).toBe('Enabled');
    expect(lock.ObjectLockConfiguration?.Rule?.DefaultRetention).toMatchObject({ Mode: 'GOVERNANCE', Days: 1 });

    const key = 'dumps/big.bin';
    const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const part1 = Buffer.alloc(5 * 1024 * 1024, 1);
    const part2 = Buffer.alloc(1024 * 1024, 2);
    const etags: string[] = [];
    for (const [i, body] of [part1, part2].entries()) {
      const r = await c.send(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: body }),
      );
      etags.push(r.ETag!);
    }
    const done = await c.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    expect(done.ETag).toMatch(/-2"?$/);
    const head = await c.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(head.ContentLength).toBe(part1.length + part2.length);
    expect(head.VersionId).toBeTruthy();
  });

  it('RDS: create an instance, snapshot it, copy the snapshot to us-west-2 and describe it there', async () => {
    const { region, drRegion } = sandbox();
    const east = rds(region);
    const west = rds(drRegion);
    const db = uniqueName('sb-db');
    await east.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: db,
        Engine: 'postgres',
        EngineVersion: '15.8',
        DBInstanceClass: 'db.t3.micro',
        AllocatedStorage: 20,
        MasterUsername: 'hive',
        MasterUserPassword: 'not-a-secret-1',
      }),
    );
    const snap = `${db}-snap`;
    const created = await east.send(
      new CreateDBSnapshotCommand({ DBInstanceIdentifier: db, DBSnapshotIdentifier: snap }),
    );
    const arn = created.DBSnapshot?.DBSnapshotArn;
    expect(arn).toContain(`:${region}:`);

    // SourceRegion makes the SDK presign the copy request for the source region itself.
    const copyInput = {
      SourceDBSnapshotIdentifier: arn,
      TargetDBSnapshotIdentifier: `${snap}-dr`,
      SourceRegion: region,
    } as CopyDBSnapshotCommandInput;
    await west.send(new CopyDBSnapshotCommand(copyInput));
    const described = await west.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: `${snap}-dr` }));
    expect(described.DBSnapshots).toHaveLength(1);
    expect(described.DBSnapshots?.[0]?.DBSnapshotArn).toContain(`:${drRegion}:`);

    // And it is not visible in the source region under the DR name.
    const eastList = await east.send(
      new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: db, SnapshotType: 'manual' }),
    );
    expect(eastList.DBSnapshots?.map((s) => s.DBSnapshotIdentifier)).toEqual([snap]);
  });
});
