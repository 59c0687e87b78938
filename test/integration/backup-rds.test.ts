// RDS backups through moto in both regions: CreateDBSnapshot tagged with the backup id, CopyDBSnapshot
// into the DR region, restore into a new instance from either region's snapshot, point-in-time restore,
// and the endpoint Secret repointed. moto's limits: snapshots are "available" at once (the waiters
// return on their first poll), RestoreDBInstanceToPointInTime ignores the time, an endpoint is not a
// database (data-level restore is proven against PostgreSQL in backup.test.ts), KMS keys are not checked.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl, runCli, sandbox, uniqueName } from '../helpers/sandbox.js';

const creds = { accessKeyId: 'test', secretAccessKey: 'test' };
const rds = (region: string) => new RDSClient({ region, endpoint: sandbox().endpointUrl, credentials: creds });
const s3 = (region: string) =>
  new S3Client({ region, endpoint: sandbox().endpointUrl, forcePathStyle: true, credentials: creds });

const sys = uniqueName('bkr-sys');
const api = uniqueName('bkr-api');
const bucket = uniqueName('bkr-primary');
const drBucket = uniqueName('bkr-dr');
const instance = uniqueName('bkr-db');
let cwd = '';
let journal = '';

const cli = (args: string[]) => runCli([...args, '--journal-dir', journal], { cwd });

async function k(args: string[]): Promise<string> {
  const r = await kubectl(args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} -> ${r.code}: ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  const s = sandbox();
  cwd = mkdtempSync(join(tmpdir(), 'bkr-cwd-'));
  journal = mkdtempSync(join(tmpdir(), 'bkr-journal-'));
  await s3('us-east-1').send(new CreateBucketCommand({ Bucket: bucket }));
  await s3('us-west-2').send(
    new CreateBucketCommand({ Bucket: drBucket, CreateBucketConfiguration: { LocationConstraint: 'us-west-2' } }),
  );
  await rds('us-east-1').send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: instance,
      Engine: 'postgres',
      DBInstanceClass: 'db.t3.micro',
      AllocatedStorage: 20,
      MasterUsername: 'hive',
      MasterUserPassword: 'not-a-real-password',
    }),
  );
  await k(['create', 'namespace', sys]);
  await k(['create', 'namespace', api]);
  await k([
    'create',
    'secret',
    'generic',
    'hive-db',
    '-n',
    api,
    '--from-literal=host=old.example',
    '--from-literal=port=5432',
  ]);
  writeFileSync(
    join(cwd, 'hivectl.yaml'),
    [
      'cluster:',
      `  kubeconfig: ${s.kubeconfig}`,
      `  context: ${s.context}`,
      `  namespace: ${sys}`,
      'aws:',
      `  region: ${s.region}`,
      `  drRegion: ${s.drRegion}`,
      `  endpointUrl: ${s.endpointUrl}`,
      'backup:',
      `  bucket: ${bucket}`,
      `  drBucket: ${drBucket}`,
      'database:',
      '  kind: rds',
      `  instanceId: ${instance}`,
      'platform:',
      '  namespaces:',
      `    api: ${api}`,
      `    agents: ${uniqueName('bkr-none')}`,
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await kubectl(['delete', 'namespace', sys, api, '--wait=false']);
});

async function endpointOf(region: string, id: string): Promise<string> {
  const o = await rds(region).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
  return o.DBInstances![0]!.Endpoint!.Address!;
}

describe('backup and restore with RDS (moto, two regions)', () => {
  let id = '';

  it('snapshots the instance, tags it with the backup id, copies it to the DR region', async () => {
    const r = await cli(['backup', 'create', '--components', 'db', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    id = (JSON.parse(r.stdout) as { results: { backupId: string } }).results.backupId;
    const snap = `hivectl-${id.toLowerCase()}`;
    for (const region of ['us-east-1', 'us-west-2']) {
      const o = await rds(region).send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snap }));
      expect(o.DBSnapshots?.[0]?.Status).toBe('available');
      expect(o.DBSnapshots?.[0]?.TagList).toEqual(
        expect.arrayContaining([{ Key: 'hivectl.dev/backup-id', Value: id }]),
      );
    }
    const d = await cli(['backup', 'describe', id, '-o', 'json']);
    expect(d.code, d.stderr).toBe(0);
    expect(JSON.parse(d.stdout).database).toMatchObject({
      kind: 'rds',
      sourceId: instance,
      snapshotId: snap,
      drSnapshotId: snap,
      drRegion: 'us-west-2',
    });
  });

  it('restores into a new instance from the primary snapshot and repoints the endpoint Secret', async () => {
    const target = uniqueName('bkr-restored');
    const r = await cli(['restore', id, '--new-instance', target, '-y']);
    expect(r.code, r.stderr).toBe(0);
    const host = Buffer.from(
      await k(['get', 'secret', 'hive-db', '-n', api, '-o', 'jsonpath={.data.host}']),
      'base64',
    ).toString();
    expect(host).toBe(await endpointOf('us-east-1', target));
  });

  it('restores from the DR region copy alone (--region us-west-2)', async () => {
    const target = uniqueName('bkr-dr');
    const r = await cli(['restore', id, '--new-instance', target, '--region', 'us-west-2', '-y']);
    expect(r.code, r.stderr).toBe(0);
    expect(await endpointOf('us-west-2', target)).toBeTruthy();
  });

  it('restores to a point in time into a new instance (moto ignores the time itself)', async () => {
    const target = uniqueName('bkr-pitr');
    const when = new Date(Date.now() - 60_000).toISOString();
    const r = await cli(['restore', id, '--new-instance', target, '--to-time', when, '-y', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).results.rpoReference).toBe(when);
    expect(await endpointOf('us-east-1', target)).toBeTruthy();
  });

  it('refuses an RDS restore without --new-instance (exit 2)', async () => {
    const r = await cli(['restore', id, '-y']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--new-instance/);
  });
});
