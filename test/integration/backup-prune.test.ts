// `backup prune` on a synthetic history in S3 (both regions): --dry-run lists what would go and deletes
// nothing; the real run deletes exactly that set, keeps the newest verified backup and anything under
// Object Lock retention, and a stale incomplete backup goes too.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, sandbox, uniqueName } from '../helpers/sandbox.js';

const creds = { accessKeyId: 'test', secretAccessKey: 'test' };
const s3 = (region: string) =>
  new S3Client({ region, endpoint: sandbox().endpointUrl, forcePathStyle: true, credentials: creds });
const bucket = uniqueName('bkp-primary');
const drBucket = uniqueName('bkp-dr');
let cwd = '';
let journal = '';

const DAY = 86_400_000;
const stamp = (t: number) =>
  new Date(t)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
const now = Date.now();
// 10 daily backups at 01:00 UTC, newest yesterday; b3 is verified; b7 is under Object Lock; one stale incomplete.
const ids = Array.from(
  { length: 10 },
  (_, i) => `${stamp(Math.floor(now / DAY) * DAY - (i + 1) * DAY + 3_600_000)}-b${i}aa`,
);
const incomplete = `${stamp(now - 3 * DAY + 7_200_000)}-zzzz`;

async function put(b: string, region: string, key: string, body: string, lockUntil?: Date) {
  await s3(region).send(
    new PutObjectCommand({
      Bucket: b,
      Key: key,
      Body: body,
      ...(lockUntil ? { ObjectLockMode: 'GOVERNANCE' as const, ObjectLockRetainUntilDate: lockUntil } : {}),
    }),
  );
}

async function keys(b: string, region: string): Promise<string[]> {
  const r = await s3(region).send(new ListObjectsV2Command({ Bucket: b, Prefix: 'hivectl/' }));
  return (r.Contents ?? []).map((o) => o.Key!);
}

const backupsIn = async (b: string, region: string) =>
  [...new Set((await keys(b, region)).map((k) => k.split('/')[1]!))].sort();

beforeAll(async () => {
  const s = sandbox();
  cwd = mkdtempSync(join(tmpdir(), 'bkp-cwd-'));
  journal = mkdtempSync(join(tmpdir(), 'bkp-journal-'));
  await s3('us-east-1').send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  await s3('us-east-1').send(
    new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
  );
  await s3('us-east-1').send(
    new PutObjectLockConfigurationCommand({
      Bucket: bucket,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' },
    }),
  );
  await s3('us-west-2').send(
    new CreateBucketCommand({ Bucket: drBucket, CreateBucketConfiguration: { LocationConstraint: 'us-west-2' } }),
  );
  for (const [i, id] of ids.entries()) {
    const manifest = JSON.stringify({
      format: 1,
      id,
      startedAt: '',
      completedAt: '',
      rpoReference: new Date().toISOString(),
      components: ['db'],
      tags: {},
      source: {},
      objects: [{ key: 'db.dump', component: 'db', size: 1, sha256: 'x' }],
    });
    const lock = i === 7 ? new Date(now + 30 * DAY) : undefined;
    for (const [b, region] of [
      [bucket, 'us-east-1'],
      [drBucket, 'us-west-2'],
    ] as const) {
      await put(b, region, `hivectl/${id}/db.dump`, 'x', region === 'us-east-1' ? lock : undefined);
      await put(b, region, `hivectl/${id}/manifest.json`, manifest, region === 'us-east-1' ? lock : undefined);
      if (i === 3)
        await put(b, region, `hivectl/${id}/verified.json`, JSON.stringify({ at: '', ok: true, regions: [] }));
    }
  }
  await put(bucket, 'us-east-1', `hivectl/${incomplete}/db.dump`, 'partial');
  writeFileSync(
    join(cwd, 'hivectl.yaml'),
    [
      'aws:',
      `  region: ${s.region}`,
      `  drRegion: ${s.drRegion}`,
      `  endpointUrl: ${s.endpointUrl}`,
      'backup:',
      `  bucket: ${bucket}`,
      `  drBucket: ${drBucket}`,
      '',
    ].join('\n'),
  );
});

describe('backup prune', () => {
  it('--dry-run lists the decisions and deletes nothing', async () => {
    const r = await runCli(
      [
        'backup',
        'prune',
        '--keep-last',
        '2',
        '--keep-weekly',
        '1',
        '--dry-run',
        '--journal-dir',
        journal,
        '-o',
        'json',
      ],
      { cwd },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(await backupsIn(bucket, 'us-east-1')).toHaveLength(11);
  });

  it('deletes exactly the backups outside the policy, in both regions', async () => {
    const r = await runCli(['backup', 'prune', '--keep-last', '2', '-y', '--journal-dir', journal, '-o', 'json'], {
      cwd,
    });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    const deleted = doc.results.deleted as string[];
    expect(Array.isArray(deleted), r.stdout).toBe(true);
    const kept = [ids[0]!, ids[1]!, ids[3]!, ids[7]!].sort();
    expect(deleted.sort()).toEqual([...ids.filter((id) => !kept.includes(id)), incomplete].sort());
    expect(await backupsIn(bucket, 'us-east-1')).toEqual(kept);
    // Decisions are per backup: the locked one is kept in the DR region too.
    expect(await backupsIn(drBucket, 'us-west-2')).toEqual(kept);
  });

  it('needs a policy (exit 2)', async () => {
    const r = await runCli(['backup', 'prune', '-y'], { cwd });
    expect(r.code).toBe(2);
  });
});
