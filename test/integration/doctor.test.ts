// `hivectl doctor` against the real sandbox: passes as the admin identity, names the missing RBAC
// verbs as the limited (view-only) identity, and fails fast with a fix line when the cluster is down.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, sandbox, uniqueName } from '../helpers/sandbox.js';

interface Check {
  id: string;
  status: 'ok' | 'warn' | 'fail' | 'skip';
  what: string;
  detail: string;
  fix?: string;
}

const bucket = uniqueName('doctor-backups');
let dir: string;
let s3: S3Client;

beforeAll(async () => {
  const s = sandbox();
  dir = mkdtempSync(join(tmpdir(), 'hivectl-doctor-'));
  s3 = new S3Client({
    region: s.region,
    endpoint: s.endpointUrl,
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});
afterAll(async () => {
  await s3?.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
  s3?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The CLI in an empty directory, with a private user-config location (no ~/.config/hivectl leaks in). */
const doctor = (args: string[], env: Record<string, string> = {}) =>
  runCli(['doctor', ...args], { env: { XDG_CONFIG_HOME: dir, ...env }, cwd: dir, timeoutMs: 60_000 });

const parse = (stdout: string) => JSON.parse(stdout) as { ok: boolean; checks: Check[] };

describe('hivectl doctor (sandbox)', () => {
  it('passes against the sandbox and lists every check in -o json', async () => {
    const s = sandbox();
    const r = await doctor(['-o', 'json', '--context', s.context], { HIVECTL_BACKUP_BUCKET: bucket });
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const out = parse(r.stdout);
    expect(out.ok).toBe(true);
    const ids = out.checks.map((c) => c.id);
    for (const id of [
      'config',
      'node',
      'kubeconfig',
      'cluster',
      'rbac:apps/deployments',
      'rbac:configmaps',
      'rbac:secrets',
      'rbac:coordination.k8s.io/leases',
      'rbac:networking.k8s.io/networkpolicies',
      'rbac:pods',
      'rbac:pods/exec',
      'aws:region',
      'aws:identity',
      'aws:bucket',
      'tool:pg_dump',
      'tool:pg_restore',
      'tool:psql',
      'tool:kubectl',
    ])
      expect(ids).toContain(id);
    expect(out.checks.filter((c) => c.status === 'fail')).toEqual([]);
    const byId = new Map(out.checks.map((c) => [c.id, c]));
    expect(byId.get('cluster')?.detail).toMatch(/Kubernetes v\d+\.\d+/);
    expect(byId.get('aws:identity')?.detail).toMatch(/arn:aws:/);
    expect(byId.get('aws:bucket')?.detail).toContain(`s3://${bucket} exists`);
  });

  it('the table form prints one line a check and a summary', async () => {
    const s = sandbox();
    const r = await doctor(['--context', s.context], { HIVECTL_BACKUP_BUCKET: bucket });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^OK\s+cluster\s+reachable at /m);
    expect(r.stdout).toMatch(/doctor: all checks passed/);
  });

  it('fails (exit 1) on a missing backup bucket, saying so', async () => {
    const s = sandbox();
    const missing = uniqueName('doctor-missing');
    const r = await doctor(['-o', 'json', '--context', s.context], { HIVECTL_BACKUP_BUCKET: missing });
    expect(r.code).toBe(1);
    const c = parse(r.stdout).checks.find((x) => x.id === 'aws:bucket');
    expect(c?.status).toBe('fail');
    expect(c?.detail).toContain(`s3://${missing} does not exist`);
    expect(c?.fix).toContain('backup.bucket');
  });

  it('reports the RBAC verbs the limited identity lacks', async () => {
    const s = sandbox();
    const r = await doctor(['-o', 'json', '--kubeconfig', s.limitedKubeconfig], { HIVECTL_BACKUP_BUCKET: bucket });
    expect(r.code).toBe(1);
    const out = parse(r.stdout);
    const byId = new Map(out.checks.map((c) => [c.id, c]));
    expect(byId.get('cluster')?.status).toBe('ok');
    const deployments = byId.get('rbac:apps/deployments');
    expect(deployments?.status).toBe('fail');
    // view allows reads but no writes: the writes are named, per namespace, and the reads are not.
    const apiMissing = /hive-api: ([a-z,]+)/.exec(deployments?.detail ?? '')?.[1]?.split(',') ?? [];
    expect(apiMissing).toEqual(expect.arrayContaining(['create', 'patch', 'delete']));
    expect(apiMissing).not.toContain('get');
    expect(apiMissing).not.toContain('list');
    expect(deployments?.detail).toMatch(/hive-agents: /);
    expect(deployments?.fix).toMatch(/needed by [a-z]+/);
    expect(deployments?.fix).toContain('hivectl iam-policy');
    // view cannot read Secrets at all.
    const secretsMissing = /hive-api: ([a-z,]+)/.exec(byId.get('rbac:secrets')?.detail ?? '')?.[1]?.split(',') ?? [];
    expect(secretsMissing).toEqual(expect.arrayContaining(['get', 'list', 'create', 'delete']));
    expect(byId.get('rbac:pods/exec')?.status).toBe('fail');
    expect(byId.get('rbac:coordination.k8s.io/leases')?.detail).toMatch(/hive-system: /);
    // The access review itself is allowed to everyone.
    expect(byId.get('rbac:authorization.k8s.io/selfsubjectaccessreviews')?.status).toBe('ok');
  });

  it('--commands narrows the RBAC checks to what those commands need', async () => {
    const s = sandbox();
    const r = await doctor(['-o', 'json', '--kubeconfig', s.limitedKubeconfig, '--commands', 'doctor'], {
      HIVECTL_BACKUP_BUCKET: bucket,
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const rbac = parse(r.stdout).checks.filter((c) => c.id.startsWith('rbac'));
    expect(rbac.map((c) => c.id)).toEqual(['rbac:authorization.k8s.io/selfsubjectaccessreviews']);
    const bad = await doctor(['--commands', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown command(s) nope');
  });

  it('exits 1 quickly with a fix line when the cluster is unreachable', async () => {
    // A kubeconfig whose server is a closed port on loopback.
    const kc = join(dir, 'unreachable.kubeconfig');
    writeFileSync(
      kc,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: gone',
        '  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}',
        'contexts:',
        '- name: gone',
        '  context: {cluster: gone, user: gone}',
        'current-context: gone',
        'users:',
        '- name: gone',
        '  user: {token: nothing}',
      ].join('\n'),
    );
    const r = await doctor(['--kubeconfig', kc]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL\s+cluster\s+.*cannot reach the Kubernetes API server at https:\/\/127\.0\.0\.1:1/m);
    expect(r.stdout).toMatch(/-> fix: check that the cluster is up/);
    expect(r.stdout).toMatch(/^SKIP\s+rbac\s+not checked/m);
    expect(r.stdout).toMatch(/doctor: \d+ checks? failed/);
  });
});
