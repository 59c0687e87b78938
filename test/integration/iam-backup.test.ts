// Least privilege for `hivectl backup`: an identity holding exactly the RBAC that
// `hivectl iam-policy --commands backup` generates can back up the cluster state, and with one rule
// less (listing Secrets) it fails with a one-sentence permission error. Only the Kubernetes side is
// proven here: moto accepts any credentials and does not enforce IAM, so the AWS policy is not.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import * as iam from '../helpers/iam.js';
import { createNamespaces, sandbox, uniqueName } from '../helpers/sandbox.js';

const { ok } = iam;
const { sys, api, agents, sa, name, tmp, cfg, kc } = iam.testNames('iambk', 'backup');
const bucket = uniqueName('iambk');
const ws = join(tmp, 'workspace');
const hookLog = join(tmp, 'hooks.log');

const cli = iam.cliWith(tmp, cfg, { KUBECONFIG: kc, HIVECTL_STATE_DIR: join(tmp, 'state') });

let rbac: iam.Rbac;

beforeAll(async () => {
  const s = sandbox();
  await iam.createBucket(bucket);

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

  rbac = await iam.grantGeneratedRbac({
    config: cfg,
    commands: 'backup',
    namespace: sys,
    serviceAccount: sa,
    name,
    kubeconfig: kc,
  });
});

afterAll(() => iam.removeTestObjects({ namespaces: [sys, api, agents], clusterRbac: name, tmp }));

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
    await iam.applyRole(rbac, api, iam.withoutResource('secrets'));
    const denied = await iam.untilDenied(() => cli(['backup', 'create', '--components', 'k8s', '-y']));
    expect(denied.code, denied.stderr).toBe(1);
    const errors = iam.errorLines(denied.stderr);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`list Secret in ${api}: permission denied: secrets is forbidden`);
    expect(denied.stderr).toContain('hivectl iam-policy');
    expect(denied.stderr).not.toMatch(/\n\s+at /);
  });

  it('says which grant is missing when exec into the agent pods is taken away', async () => {
    await iam.applyRole(rbac, agents, iam.withoutResource('pods/exec'));
    const denied = await iam.untilDenied(() => cli(['backup', 'create', '--components', 'workspaces', '-y']));
    expect(denied.code, denied.stderr).toBe(1);
    expect(denied.stderr).toMatch(
      /permission denied: exec into pods \(pods\/exec, verbs get and create\) is forbidden/,
    );
    expect(denied.stderr).toContain('hivectl iam-policy');
    expect(denied.stderr).not.toMatch(/\n\s+at /);
  });
});
