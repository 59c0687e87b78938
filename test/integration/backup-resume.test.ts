// SIGKILL in the middle of the database upload: the backup has no manifest, so it is never listed as
// usable; `hivectl resume RUN_ID` re-runs the interrupted step and finishes the same backup id.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, psql, runCli, sandbox, uniqueName } from '../helpers/sandbox.js';

const creds = { accessKeyId: 'test', secretAccessKey: 'test' };
const s3 = (region: string) =>
  new S3Client({ region, endpoint: sandbox().endpointUrl, forcePathStyle: true, credentials: creds });
const bucket = uniqueName('bks-primary');
const drBucket = uniqueName('bks-dr');
const repo = fileURLToPath(new URL('../..', import.meta.url));
let cwd = '';
let journal = '';

async function until<T>(what: string, f: () => Promise<T | undefined> | T | undefined, ms = 120_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  const s = sandbox();
  cwd = mkdtempSync(join(tmpdir(), 'bks-cwd-'));
  journal = mkdtempSync(join(tmpdir(), 'bks-journal-'));
  const db = await createDatabase(uniqueName('bks_db').replace(/-/g, '_'));
  // Big enough (~150 MB of poorly compressible rows) that the upload is still running when killed.
  await psql(
    `CREATE TABLE blobs (id int PRIMARY KEY, a text, b text, c text);
     INSERT INTO blobs SELECT g, md5(g::text) || md5((g+1)::text), md5((g*3)::text) || md5((g*5)::text), repeat(md5((g*7)::text), 2) FROM generate_series(1, 800000) g;`,
    db,
  );
  await s3('us-east-1').send(new CreateBucketCommand({ Bucket: bucket }));
  await s3('us-west-2').send(
    new CreateBucketCommand({ Bucket: drBucket, CreateBucketConfiguration: { LocationConstraint: 'us-west-2' } }),
  );
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
      'database:',
      `  url: ${db}`,
      '',
    ].join('\n'),
  );
});

describe('backup interrupted by SIGKILL', () => {
  it('leaves no usable backup, and `hivectl resume` completes it', async () => {
    const child = spawn(
      process.execPath,
      [join(repo, 'bin', 'hivectl.js'), 'backup', 'create', '--components', 'db', '--journal-dir', journal],
      {
        cwd,
        env: { ...process.env, ...sandbox().env, NO_COLOR: '1' },
        stdio: 'ignore',
      },
    );
    const exited = new Promise<number | null>((r) => child.on('exit', (_c, sig) => r(sig === 'SIGKILL' ? 137 : _c)));
    const file = await until('journal', () => readdirSync(journal).find((f) => f.endsWith('.ndjson')));
    await until('db-dump apply-start', () =>
      readFileSync(join(journal, file), 'utf8').includes('"type":"apply-start","ts"') ? true : undefined,
    );
    // Kill while the multipart upload is in flight.
    await until('multipart upload in progress', async () => {
      const u = await s3('us-east-1').send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      return (u.Uploads?.length ?? 0) > 0 ? true : undefined;
    });
    child.kill('SIGKILL');
    expect(await exited).toBe(137);
    const runId = file.replace(/\.ndjson$/, '');
    expect(readFileSync(join(journal, file), 'utf8')).not.toContain('"step":"manifest"}');

    const list = await runCli(['backup', 'list', '-o', 'json'], { cwd });
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([]);

    const resumed = await runCli(['resume', runId, '--journal-dir', journal, '-y'], { cwd });
    expect(resumed.code, resumed.stderr).toBe(0);
    const after = JSON.parse((await runCli(['backup', 'list', '-o', 'json'], { cwd })).stdout) as {
      id: string;
      verified: boolean;
      regions: string[];
    }[];
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ verified: true, regions: ['us-east-1', 'us-west-2'] });
    const id = after[0]!.id;
    expect(readFileSync(join(journal, file), 'utf8')).toContain(id);
    const v = await runCli(['backup', 'verify', id], { cwd });
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(existsSync(join(journal, file))).toBe(true);
  });
});
