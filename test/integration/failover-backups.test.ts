// `failover check`'s "holds the newest backup" line against buckets of this file's own: the preflight
// lists the last week of backup ids first and the whole bucket only when that finds none, so a bucket
// whose backups are all older still answers, and a newer backup missing in the DR bucket is named.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { newBackupId } from '../../src/backup/ids.js';
import { sandboxConfigYaml } from '../../src/sandbox/index.js';
import { runCli, sandbox, uniqueName } from '../helpers/sandbox.js';

const dir = mkdtempSync(join(tmpdir(), 'hivectl-fo-backups-'));
const env = { HIVECTL_STATE_DIR: join(dir, 'state') };
const primary = uniqueName('fob-p');
const dr = uniqueName('fob-dr');
const OLD = '20250101T000000Z-0a0a';
const OLDER = '20241231T000000Z-0b0b';

function s3(region: string): S3Client {
  const s = sandbox();
  return new S3Client({
    region,
    endpoint: s.endpointUrl,
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

async function putManifest(region: string, bucket: string, id: string): Promise<void> {
  await s3(region).send(
    new PutObjectCommand({ Bucket: bucket, Key: `hivectl/${id}/manifest.json`, Body: JSON.stringify({ id }) }),
  );
}

function config(): string {
  const doc = parse(sandboxConfigYaml(sandbox())) as Record<string, Record<string, unknown>>;
  doc.cluster = { ...doc.cluster, namespace: uniqueName('fob-state') };
  doc.backup = { ...doc.backup, bucket: primary, drBucket: dr };
  const file = join(dir, 'hivectl.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}

const line = (out: string) => out.split('\n').find((l) => l.includes(`bucket ${dr}`)) ?? '';

beforeAll(async () => {
  const s = sandbox();
  const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
  await s3(s.region).send(new CreateBucketCommand({ Bucket: primary }));
  await s3(s.drRegion).send(
    new CreateBucketCommand({ Bucket: dr, CreateBucketConfiguration: { LocationConstraint: s.drRegion as never } }),
  );
  // Backups older than the preflight's first look-back, in both buckets.
  for (const id of [OLDER, OLD]) {
    await putManifest(s.region, primary, id);
    await putManifest(s.drRegion, dr, id);
  }
});

describe('failover check: the DR bucket holds the newest backup', () => {
  const cfg = config();
  const check = () => runCli(['--config', cfg, 'failover', 'check', '--mode', 'replica'], { env });

  it('finds the newest backup when every backup is older than a week (whole-bucket listing)', async () => {
    const r = await check();
    expect(line(r.stdout), r.stdout).toMatch(/^ok /);
    expect(line(r.stdout)).toContain(`hivectl/${OLD}/manifest.json`);
  });

  it('names a recent backup that the DR bucket lacks', async () => {
    const recent = newBackupId(new Date(Date.now() - 3600_000), 'c1c1');
    await putManifest(sandbox().region, primary, recent);
    const r = await check();
    expect(r.code).toBe(1);
    expect(line(r.stdout)).toContain(
      `newest is hivectl/${recent}/manifest.json, target has hivectl/${OLD}/manifest.json`,
    );
    await putManifest(sandbox().drRegion, dr, recent);
    const again = await check();
    expect(line(again.stdout)).toMatch(/^ok /);
    expect(line(again.stdout)).toContain(`hivectl/${recent}/manifest.json`);
  });
});
