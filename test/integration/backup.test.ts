// backup + restore end to end against the sandbox's real servers: PostgreSQL (pg_dump/pg_restore),
// moto S3 in two regions, a KWOK cluster (Deployments, Secrets, exec into agent pods).
// In the sandbox an exec into a fake pod runs as a local process, so the agents' workspace directory
// (backup.workspaceDir) is a local temp dir here; in a cluster it is the path inside the container.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { pack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { createDatabase, createNamespaces, kubectl, psql, runCli, sandbox, uniqueName } from '../helpers/sandbox.js';

const sys = uniqueName('bk-sys');
const api = uniqueName('bk-api');
const agents = uniqueName('bk-agents');
const bucket = uniqueName('bk-primary');
const drBucket = uniqueName('bk-dr');
const KEY = 'backup-passphrase-for-tests';
let dbUrl = '';
let cwd = '';
let ws = '';
let journal = '';
let hookLog = '';
let work = '';

const creds = { accessKeyId: 'test', secretAccessKey: 'test' };
const s3 = (region: string) =>
  new S3Client({ region, endpoint: sandbox().endpointUrl, forcePathStyle: true, credentials: creds });

async function k(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} -> ${r.code}: ${r.stderr}`);
  return r.stdout;
}

function cli(args: string[], env: Record<string, string> = {}) {
  return runCli([...args, '--journal-dir', journal], { cwd, env: { HIVECTL_BACKUP_KEY: KEY, ...env } });
}

const ROWS = `SELECT (SELECT count(*) FROM tasks) || ':' || (SELECT md5(string_agg(id || '/' || payload || '/' || meta::text, ',' ORDER BY id)) FROM tasks)
  || '|' || (SELECT count(*) FROM agents) || ':' || (SELECT md5(string_agg(name || '/' || coalesce(note, '~'), ',' ORDER BY name)) FROM agents)`;

function fileHashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

async function replicas(ns: string, name: string): Promise<number> {
  return Number(await k(['get', 'deployment', name, '-n', ns, '-o', 'jsonpath={.spec.replicas}']));
}

async function createBackup(): Promise<string> {
  const r = await cli(['backup', 'create', '-o', 'json']);
  expect(r.code, r.stderr).toBe(0);
  const doc = JSON.parse(r.stdout) as { results: { backupId: string } };
  return doc.results.backupId;
}

async function getObject(b: string, key: string, region = 'us-east-1'): Promise<Buffer> {
  const o = await s3(region).send(new GetObjectCommand({ Bucket: b, Key: key }));
  return Buffer.from(await o.Body!.transformToByteArray());
}

beforeAll(async () => {
  const s = sandbox();
  journal = mkdtempSync(join(tmpdir(), 'bk-journal-'));
  work = mkdtempSync(join(tmpdir(), 'bk-work-'));
  cwd = mkdtempSync(join(tmpdir(), 'bk-cwd-'));
  ws = mkdtempSync(join(tmpdir(), 'bk-ws-'));
  hookLog = join(mkdtempSync(join(tmpdir(), 'bk-hooks-')), 'hooks.log');
  mkdirSync(join(ws, 'src', 'deep'), { recursive: true });
  writeFileSync(join(ws, 'README.md'), '# agent workspace\n');
  writeFileSync(join(ws, 'src', 'main.py'), 'print("hi")\n');
  writeFileSync(
    join(ws, 'src', 'deep', 'blob.bin'),
    Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7) % 251)),
  );

  dbUrl = await createDatabase(uniqueName('bk_db').replace(/-/g, '_'));
  await psql(
    `CREATE TABLE tasks (id bigserial PRIMARY KEY, payload text NOT NULL, meta jsonb NOT NULL);
     INSERT INTO tasks (payload, meta) SELECT md5(g::text), jsonb_build_object('g', g) FROM generate_series(1, 5000) g;
     CREATE TABLE agents (name text PRIMARY KEY, note text);
     INSERT INTO agents VALUES ('a1', 'x'), ('a2', NULL), ('a3', 'quote''s');`,
    dbUrl,
  );

  await s3('us-east-1').send(new CreateBucketCommand({ Bucket: bucket }));
  await s3('us-west-2').send(
    new CreateBucketCommand({ Bucket: drBucket, CreateBucketConfiguration: { LocationConstraint: 'us-west-2' } }),
  );

  await createNamespaces(sys, api, agents);
  const dep = (ns: string, name: string, app: string, n: number) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas: n,
      selector: { matchLabels: { app } },
      template: { metadata: { labels: { app } }, spec: { containers: [{ name: app, image: app }] } },
    },
  });
  await k(['apply', '-f', '-'], JSON.stringify(dep(api, 'hive-api', 'api', 2)));
  await k(['apply', '-f', '-'], JSON.stringify(dep(agents, 'agent-worker', 'agent', 2)));
  await k(['create', 'configmap', 'app-config', '-n', api, '--from-literal=level=info']);
  await k(['create', 'secret', 'generic', 'hive-db', '-n', api, '--from-literal=password=pw-original']);
  // The pod the app-consistency hooks run in (a bare pod: quiesce leaves it alone).
  await k(['run', 'hook-runner', '-n', api, '--image=hooks', '--restart=Never']);
  await k(['wait', '-n', api, 'pod/hook-runner', '--for=condition=Ready', '--timeout=60s']);
  await k(['rollout', 'status', '-n', agents, 'deployment/agent-worker', '--timeout=90s']);
  await k(['rollout', 'status', '-n', api, 'deployment/hive-api', '--timeout=90s']);

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
      `  workspaceDir: ${ws}`,
      '  secrets: encrypt',
      '  hooks:',
      `    pod: ${api}/hook-runner`,
      `    pre: ["echo pre >> ${hookLog}"]`,
      `    post: ["echo post >> ${hookLog}"]`,
      'database:',
      `  url: ${dbUrl}`,
      'platform:',
      '  namespaces:',
      `    api: ${api}`,
      `    agents: ${agents}`,
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await kubectl(['delete', 'namespace', sys, api, agents, '--wait=false']);
  rmSync(ws, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe('backup and restore', () => {
  let id = '';

  it('backs up db, workspaces and cluster state, copies to DR, lists it as verified; secrets never in clear', async () => {
    id = await createBackup();
    expect(id).toMatch(/^\d{8}T\d{6}Z-[a-z0-9]{4}$/);
    const list = await cli(['backup', 'list', '-o', 'json']);
    expect(list.code, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout) as {
      id: string;
      verified: boolean;
      regions: string[];
      components: string[];
    }[];
    expect(rows.find((r) => r.id === id)).toMatchObject({
      verified: true,
      regions: ['us-east-1', 'us-west-2'],
      components: ['db', 'workspaces', 'k8s'],
    });

    const manifest = JSON.parse((await getObject(bucket, `hivectl/${id}/manifest.json`)).toString());
    expect(manifest.objects.map((o: { key: string }) => o.key)).toEqual(
      expect.arrayContaining([
        'db.dump',
        `workspaces/${agents}/${await k(['get', 'pods', '-n', agents, '-o', 'jsonpath={.items[0].metadata.name}'])}.tar`,
        'k8s/state.yaml',
      ]),
    );
    // The cluster state is one object: one PUT, one DR copy, one check, whatever the number of objects.
    expect(manifest.format).toBe(2);
    expect(manifest.objects.filter((o: { component: string }) => o.component === 'k8s')).toHaveLength(1);
    expect(manifest.k8s.key).toBe('k8s/state.yaml');
    expect(manifest.k8s.objects).toEqual(
      expect.arrayContaining([
        { kind: 'Secret', namespace: api, name: 'hive-db' },
        { kind: 'Deployment', namespace: agents, name: 'agent-worker' },
      ]),
    );
    expect(manifest.database.tables).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ table: 'public.tasks', rows: 5000 }),
        expect.objectContaining({ table: 'public.agents', rows: 3 }),
      ]),
    );
    const state = await getObject(bucket, `hivectl/${id}/k8s/state.yaml`);
    const stateEntry = manifest.objects.find((o: { key: string }) => o.key === 'k8s/state.yaml');
    expect(createHash('sha256').update(state).digest('hex')).toBe(stateEntry.sha256);
    expect(state.length).toBe(stateEntry.size);
    const docs = state.toString().split(/^---$/m);
    expect(docs).toHaveLength(manifest.k8s.objects.length);
    const secretYaml = docs.find((d) => /kind: Secret/.test(d) && d.includes('name: hive-db')) ?? '';
    expect(secretYaml).toContain('hivectl-enc:v1:');
    expect(secretYaml).not.toContain(Buffer.from('pw-original').toString('base64'));
    // The DR copy is complete on its own.
    expect((await getObject(drBucket, `hivectl/${id}/manifest.json`, 'us-west-2')).toString()).toContain(id);

    // The hooks ran in the hook pod, pre before the capture and post after it.
    expect(readFileSync(hookLog, 'utf8')).toBe('pre\npost\n');
    const st = await cli(['backup', 'status', '-o', 'json']);
    expect(st.code, st.stderr).toBe(0);
    expect(JSON.parse(st.stdout)).toMatchObject({ newest: id, withinSlo: true, verified: true });

    const v = await cli(['backup', 'verify', id, '--deep']);
    expect(v.code, v.stderr + v.stdout).toBe(0);
    expect(v.stdout).toMatch(/ok\s+deep/);
    // The passphrase is in no journal.
    for (const f of readdirSync(journal)) expect(readFileSync(join(journal, f), 'utf8')).not.toContain(KEY);
  });

  it('refuses to restore over a non-empty database without --force (exit 5, nothing changed)', async () => {
    const r = await cli(['restore', id, '-y']);
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toMatch(/not empty/);
    expect(await replicas(agents, 'agent-worker')).toBe(2);
  });

  it('destroy, then restore: equal rows, equal files, cluster objects and encrypted Secret back; RTO/RPO reported', async () => {
    const rowsBefore = await psql(ROWS, dbUrl);
    const filesBefore = fileHashes(ws);

    await psql(
      'DELETE FROM tasks WHERE id % 2 = 0; UPDATE agents SET note = $$changed$$; CREATE TABLE junk (x int);',
      dbUrl,
    );
    rmSync(join(ws, 'src'), { recursive: true });
    writeFileSync(join(ws, 'stray.txt'), 'not in the backup');
    await k(['delete', 'configmap', 'app-config', '-n', api]);
    await k([
      'create',
      'secret',
      'generic',
      'hive-db',
      '-n',
      api,
      '--from-literal=password=pw-changed',
      '--dry-run=client',
      '-o',
      'yaml',
    ]).then((y) => k(['apply', '-f', '-'], y));

    const plan = await cli(['restore', id, '--force', '--dry-run', '--work-dir', work]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stderr + plan.stdout).toMatch(/drops and recreates/);
    expect(plan.stderr + plan.stdout).toMatch(
      /temp file in \S*bk-work-\S*, checking its SHA-256; needs \d+ bytes of disk/,
    );

    const r = await cli(['restore', id, '--force', '-y', '-o', 'json', '--work-dir', work, '--jobs', '2']);
    expect(r.code, r.stderr).toBe(0);
    // The downloaded dump is gone once the restore is done.
    expect(readdirSync(work)).toEqual([]);
    const doc = JSON.parse(r.stdout) as { results: { rtoSeconds: number; rpoSeconds: number; rpoReference: string } };
    expect(doc.results.rtoSeconds).toBeGreaterThan(0);
    expect(doc.results.rpoSeconds).toBeGreaterThanOrEqual(0);

    expect(await psql(ROWS, dbUrl)).toBe(rowsBefore);
    expect(fileHashes(ws)).toEqual(filesBefore);
    expect(await k(['get', 'configmap', 'app-config', '-n', api, '-o', 'jsonpath={.data.level}'])).toBe('info');
    const pw = await k(['get', 'secret', 'hive-db', '-n', api, '-o', 'jsonpath={.data.password}']);
    expect(Buffer.from(pw, 'base64').toString()).toBe('pw-original');
    expect(await replicas(agents, 'agent-worker')).toBe(2);
    expect(await replicas(api, 'hive-api')).toBe(2);
  });

  it('a flipped byte in S3: verify exits 3, restore refuses with exit 1 and nothing changed; the DR copy still restores', async () => {
    const key = `hivectl/${id}/db.dump`;
    const body = await getObject(bucket, key);
    body[Math.floor(body.length / 2)]! ^= 0x01;
    await s3('us-east-1').send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));

    const v = await cli(['backup', 'verify', id]);
    expect(v.code, v.stdout + v.stderr).toBe(3);
    expect(v.stdout).toMatch(/FAIL us-east-1[\s\S]*db\.dump: sha256/);
    expect(v.stdout).toMatch(/ok\s+us-west-2/);

    await psql(`INSERT INTO agents VALUES ('marker', 'after the backup')`, dbUrl);
    writeFileSync(join(ws, 'marker.txt'), 'after the backup');
    const r = await cli(['restore', id, '--force', '-y', '--work-dir', work]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/failed verification, nothing was changed/);
    expect(readdirSync(work)).toEqual([]);
    const st = await cli(['restore', id, '--force', '-y', '--stream']);
    expect(st.code, st.stderr).toBe(1);
    expect(st.stderr).toMatch(/failed verification, nothing was changed/);
    expect(await psql(`SELECT note FROM agents WHERE name = 'marker'`, dbUrl)).toBe('after the backup');
    expect(readFileSync(join(ws, 'marker.txt'), 'utf8')).toBe('after the backup');
    expect(await replicas(agents, 'agent-worker')).toBe(2);

    // From the DR region's copies alone (streamed: the fallback for machines without the disk).
    const dr = await cli(['restore', id, '--force', '-y', '--region', 'us-west-2', '--components', 'db', '--stream']);
    expect(dr.code, dr.stderr).toBe(0);
    expect(await psql(`SELECT count(*) FROM agents WHERE name = 'marker'`, dbUrl)).toBe('0');
  });

  it('refuses a workspace tar with a ../ entry and an absolute symlink before writing anything', async () => {
    const id2 = await createBackup();
    const p = pack();
    p.entry({ name: './ok.txt' }, 'fine');
    p.entry({ name: '../escaped.txt' }, 'evil');
    p.entry({ name: './abs', type: 'symlink', linkname: '/etc/passwd' });
    p.finalize();
    const chunks: Buffer[] = [];
    for await (const c of p) chunks.push(c as Buffer);
    const evil = Buffer.concat(chunks);
    // A consistent but malicious backup: the manifest's checksums match the evil tar.
    const mkey = `hivectl/${id2}/manifest.json`;
    const m = JSON.parse((await getObject(bucket, mkey)).toString());
    const w = m.objects.find((o: { component: string }) => o.component === 'workspaces');
    w.size = evil.length;
    w.sha256 = createHash('sha256').update(evil).digest('hex');
    await s3('us-east-1').send(new PutObjectCommand({ Bucket: bucket, Key: `hivectl/${id2}/${w.key}`, Body: evil }));
    await s3('us-east-1').send(new PutObjectCommand({ Bucket: bucket, Key: mkey, Body: JSON.stringify(m) }));

    const before = fileHashes(ws);
    const r = await cli(['restore', id2, '--force', '-y', '--components', 'workspaces']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/unsafe tar entry "\.\.\/escaped\.txt"/);
    expect(fileHashes(ws)).toEqual(before);
    expect(() => statSync(join(ws, '..', 'escaped.txt'))).toThrow();
    expect(await replicas(agents, 'agent-worker')).toBe(2);

    const v = await cli(['backup', 'verify', id2]);
    expect(v.code).toBe(3);
    expect(v.stdout).toMatch(/unsafe tar entry/);
  });

  it('still restores the cluster objects of a format-1 backup (one file per object)', async () => {
    // Rewrite the first backup's cluster state the way format 1 stored it, under a new id.
    const old = `${id.slice(0, -4)}0f01`;
    const m = JSON.parse((await getObject(bucket, `hivectl/${id}/manifest.json`)).toString());
    const state = (await getObject(bucket, `hivectl/${id}/k8s/state.yaml`)).toString();
    const objects: { key: string; component: string; size: number; sha256: string }[] = [];
    const entries: { kind: string; namespace: string; name: string; key: string }[] = [];
    for (const d of parseAllDocuments(state)) {
      const o = d.toJS();
      const key = `k8s/${o.kind}/${o.metadata.namespace}/${o.metadata.name}.yaml`;
      const body = Buffer.from(stringify(o));
      await s3('us-east-1').send(new PutObjectCommand({ Bucket: bucket, Key: `hivectl/${old}/${key}`, Body: body }));
      objects.push({
        key,
        component: 'k8s',
        size: body.length,
        sha256: createHash('sha256').update(body).digest('hex'),
      });
      entries.push({ kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name, key });
    }
    const { database: _d, workspaces: _w, dr: _r, ...rest } = m;
    const m1 = {
      ...rest,
      format: 1,
      id: old,
      components: ['k8s'],
      objects,
      k8s: { ...m.k8s, key: undefined, objects: entries },
    };
    await s3('us-east-1').send(
      new PutObjectCommand({ Bucket: bucket, Key: `hivectl/${old}/manifest.json`, Body: JSON.stringify(m1) }),
    );

    await k(['delete', 'configmap', 'app-config', '-n', api]);
    await k(['delete', 'secret', 'hive-db', '-n', api]);
    const r = await cli(['restore', old, '-y', '--components', 'k8s']);
    expect(r.code, r.stderr).toBe(0);
    expect(await k(['get', 'configmap', 'app-config', '-n', api, '-o', 'jsonpath={.data.level}'])).toBe('info');
    const pw = await k(['get', 'secret', 'hive-db', '-n', api, '-o', 'jsonpath={.data.password}']);
    expect(Buffer.from(pw, 'base64').toString()).toBe('pw-original');
  });
});
