// Least privilege for `hivectl backup`: an identity holding exactly the RBAC that
// `hivectl iam-policy --commands backup` generates can back up the cluster state, and with one rule
// less (listing Secrets) it fails with a one-sentence permission error. Only the Kubernetes side is
// proven here: moto accepts any credentials and does not enforce IAM, so the AWS policy is not.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  createNamespaces,
  kubectl,
  runCli,
  sandbox,
  serviceAccountKubeconfig,
  uniqueName,
} from '../helpers/sandbox.js';

const sys = uniqueName('iambk-sys');
const api = uniqueName('iambk-api');
const agents = uniqueName('iambk-agt');
const bucket = uniqueName('iambk');
const sa = 'backup-runner';
const tmp = mkdtempSync(join(tmpdir(), 'hivectl-iam-backup-'));
const cfg = join(tmp, 'hivectl.yaml');
const kc = join(tmp, 'backup-runner.kubeconfig');
const journal = join(tmp, 'journal');
const ws = join(tmp, 'workspace');
const hookLog = join(tmp, 'hooks.log');

async function ok(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} -> ${r.code}: ${r.stderr}`);
  return r.stdout;
}

function cli(args: string[]) {
  return runCli(['--config', cfg, ...args, '--journal-dir', journal], {
    cwd: tmp,
    env: { KUBECONFIG: kc, HIVECTL_STATE_DIR: join(tmp, 'state') },
  });
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are open-ended JSON
let rbac: { items: any[] };

beforeAll(async () => {
  const s = sandbox();
  await new S3Client({
    region: s.region,
    endpoint: s.endpointUrl,
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  }).send(new CreateBucketCommand({ Bucket: bucket }));

  await createNamespaces(sys, api, agents);
  await ok(['create', 'configmap', 'app-config', '-n', api, '--from-literal=level=info']);
  await ok(['create', 'secret', 'generic', 'hive-db', '-n', api, '--from-literal=password=pw']);
  await ok(['create', 'deployment', 'agent-worker', '-n', agents, '--image=agent']);
  // The pod the hooks run in (exec through the API server: KWOK runs it as a local process).
  await ok(['run', 'hook-runner', '-n', api, '--image=hooks', '--restart=Never']);
  await ok(['wait', '-n', api, 'pod/hook-runner', '--for=condition=Ready', '--timeout=60s']);
  await ok(['rollout', 'status', '-n', agents, 'deployment/agent-worker', '--timeout=90s']);
  mkdirSync(ws);
  writeFileSync(join(ws, 'notes.md'), '# agent workspace\n');
  await ok(['create', 'serviceaccount', sa, '-n', sys]);

  writeFileSync(
    cfg,
    stringify({
      cluster: { kubeconfig: kc, context: 'backup-runner', namespace: sys },
      aws: { region: s.region, endpointUrl: s.endpointUrl },
      backup: {
        bucket,
        secrets: 'omit',
        workspaceDir: ws,
        hooks: { pod: `${api}/hook-runner`, pre: [`echo pre >> ${hookLog}`], post: [`echo post >> ${hookLog}`] },
      },
      platform: { namespaces: { api, agents } },
    }),
  );

  const gen = await runCli([
    '--config',
    cfg,
    'iam-policy',
    '--commands',
    'backup',
    '--part',
    'k8s',
    '--format',
    'json',
    '--service-account',
    `${sys}/${sa}`,
    '--name',
    `${sys}-backup`,
  ]);
  if (gen.code !== 0) throw new Error(`iam-policy failed (${gen.code}): ${gen.stderr}`);
  rbac = JSON.parse(gen.stdout);
  await ok(['apply', '-f', '-'], JSON.stringify(rbac));
  // A kubeconfig holding only the ServiceAccount's token (no client certificate, no admin fallback).
  await serviceAccountKubeconfig({ namespace: sys, serviceAccount: sa, file: kc, contextName: 'backup-runner' });
});

afterAll(async () => {
  await kubectl(['delete', 'namespace', sys, api, agents, '--wait=false']);
  await kubectl(['delete', 'clusterrole,clusterrolebinding', `${sys}-backup`, '--ignore-not-found']);
  rmSync(tmp, { recursive: true, force: true });
});

describe('hivectl backup with exactly the RBAC from `hivectl iam-policy --commands backup`', () => {
  it('generates namespaced Roles only (no cluster-wide grant)', () => {
    const kinds = rbac.items.map((o) => `${o.kind} ${o.metadata.namespace ?? ''}`).sort();
    expect(kinds).toEqual(
      [
        `Role ${agents}`,
        `Role ${api}`,
        `Role ${sys}`,
        `RoleBinding ${agents}`,
        `RoleBinding ${api}`,
        `RoleBinding ${sys}`,
      ].sort(),
    );
  });

  it('backs up workspaces (exec) and cluster state with hooks, and lists the backup', async () => {
    const r = await cli(['backup', 'create', '--components', 'workspaces,k8s', '-y', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const id = (JSON.parse(r.stdout) as { results: { backupId: string } }).results.backupId;
    const list = await cli(['backup', 'list', '-o', 'json']);
    expect(list.code, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout) as { id: string; components: string[] }[];
    expect(rows.find((x) => x.id === id)).toMatchObject({ components: ['workspaces', 'k8s'] });
    expect(readFileSync(hookLog, 'utf8')).toBe('pre\npost\n');
  });

  it('fails with a one-sentence permission error when listing Secrets is taken away', async () => {
    const role = rbac.items.find((o) => o.kind === 'Role' && o.metadata.namespace === api);
    role.rules = (role.rules as Rule[])
      .map((x) => ({ ...x, resources: x.resources.filter((y) => y !== 'secrets') }))
      .filter((x) => x.resources.length > 0);
    await ok(['apply', '-f', '-'], JSON.stringify(role));
    let denied = await cli(['backup', 'create', '--components', 'k8s', '-y']);
    for (let i = 0; i < 20 && denied.code === 0; i++) {
      await new Promise((res) => setTimeout(res, 250)); // the authorizer's cache catches up within moments
      denied = await cli(['backup', 'create', '--components', 'k8s', '-y']);
    }
    expect(denied.code, denied.stderr).toBe(1);
    const errors = denied.stderr.split('\n').filter((l) => / error /.test(l));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`list Secret in ${api}: permission denied: secrets is forbidden`);
    expect(denied.stderr).toContain('hivectl iam-policy');
    expect(denied.stderr).not.toMatch(/\n\s+at /);
  });

  it('says which grant is missing when exec into the agent pods is taken away', async () => {
    const role = rbac.items.find((o) => o.kind === 'Role' && o.metadata.namespace === agents);
    role.rules = (role.rules as Rule[])
      .map((x) => ({ ...x, resources: x.resources.filter((y) => y !== 'pods/exec') }))
      .filter((x) => x.resources.length > 0);
    await ok(['apply', '-f', '-'], JSON.stringify(role));
    let denied = await cli(['backup', 'create', '--components', 'workspaces', '-y']);
    for (let i = 0; i < 20 && denied.code === 0; i++) {
      await new Promise((res) => setTimeout(res, 250));
      denied = await cli(['backup', 'create', '--components', 'workspaces', '-y']);
    }
    expect(denied.code, denied.stderr).toBe(1);
    expect(denied.stderr).toMatch(
      /permission denied: exec into pods \(pods\/exec, verbs get and create\) is forbidden/,
    );
    expect(denied.stderr).toContain('hivectl iam-policy');
    expect(denied.stderr).not.toMatch(/\n\s+at /);
  });
});
