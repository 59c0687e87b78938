// The AWS side of `hivectl bootstrap`: backup buckets in the primary and DR regions (the sandbox's moto).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { connectS3Buckets } from '../../src/adapters/s3-buckets.js';
import { kubectl, runCli, sandbox, uniqueName } from '../helpers/sandbox.js';

const id = uniqueName('bb');
const ns = { api: `${id}-api`, agents: `${id}-agt`, system: `${id}-sys` };
const bucket = `${id}-backups`;
const drBucket = `${id}-backups-dr`;
const dir = mkdtempSync(join(tmpdir(), 'hivectl-buckets-'));
const cfg = join(dir, 'hivectl.yaml');
writeFileSync(
  cfg,
  stringify({
    cluster: { namespace: ns.system },
    platform: { namespaces: { api: ns.api, agents: ns.agents } },
    aws: { region: 'us-east-1', drRegion: 'us-west-2' },
    backup: { bucket, drBucket },
  }),
);
const cli = (args: string[]) => runCli(['--config', cfg, ...args], { env: { HIVECTL_STATE_DIR: join(dir, 'state') } });

afterAll(async () => {
  await kubectl(['delete', 'namespace', ns.api, ns.agents, ns.system, '--wait=false', '--ignore-not-found']);
  await kubectl(['delete', 'priorityclass', `${ns.api}-priority`, `${ns.agents}-priority`, '--ignore-not-found']);
});

describe('bootstrap: backup buckets', () => {
  it('creates both buckets hardened, with replication primary -> DR, and changes nothing the second time', async () => {
    const r = await cli(['bootstrap', '--env', 'dev', '-y']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`replication to s3://${drBucket}`);

    // The sandbox's dummy credentials, for this test's own look at the buckets.
    for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) process.env[k] ??= sandbox().env[k];
    const s3 = await connectS3Buckets({ endpointUrl: sandbox().endpointUrl });
    const primary = await s3.inspect({ bucket, region: 'us-east-1', noncurrentDays: 30 });
    expect(primary).toEqual({
      exists: true,
      versioning: true,
      encryption: 'AES256',
      publicAccessBlocked: true,
      lifecycle: true,
      replicationTo: drBucket,
    });
    const dr = await s3.inspect({ bucket: drBucket, region: 'us-west-2', noncurrentDays: 30 });
    expect(dr).toMatchObject({
      exists: true,
      versioning: true,
      encryption: 'AES256',
      publicAccessBlocked: true,
      lifecycle: true,
    });

    const again = await cli(['bootstrap', '--env', 'dev', '--dry-run']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('backup buckets are configured');
  });

  it('says so in the plan when no bucket is configured', async () => {
    const bare = join(dir, 'bare.yaml');
    writeFileSync(
      bare,
      stringify({ cluster: { namespace: ns.system }, platform: { namespaces: { api: ns.api, agents: ns.agents } } }),
    );
    const r = await runCli(['--config', bare, 'bootstrap', '--env', 'dev', '--dry-run'], {
      env: { HIVECTL_STATE_DIR: join(dir, 'state') },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('skipped: no backup bucket configured');
  });
});
