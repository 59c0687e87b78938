// Least privilege for `hivectl restore` (Kubernetes half): a backup taken as the admin, then restored
// (cluster objects, a Role and its RoleBinding included, and agent workspaces) as a ServiceAccount
// holding exactly the RBAC that `hivectl iam-policy --commands restore` generates; with `create
// configmaps` taken away it exits 1 with one sentence naming the grant and the quiesce is undone.
// The AWS policy is not proven: moto does not enforce IAM.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import * as iam from '../helpers/iam.js';
import { createNamespaces, runCli, sandbox, uniqueName } from '../helpers/sandbox.js';

const { ok } = iam;
const { sys, api, agents, sa, name, tmp, cfg, kc } = iam.testNames('iamrs', 'restore');
const bucket = uniqueName('iamrs');
const ws = join(tmp, 'workspace');
const state = { HIVECTL_STATE_DIR: join(tmp, 'state') };

/** As the limited identity (its token-only kubeconfig, named in hivectl.yaml). */
const cli = iam.cliWith(tmp, cfg, { ...state, KUBECONFIG: kc });
/** As the sandbox admin (flags beat hivectl.yaml). */
const admin = (args: string[]) =>
  runCli(
    [
      '--config',
      cfg,
      '--kubeconfig',
      sandbox().kubeconfig,
      '--context',
      sandbox().context,
      ...args,
      '--journal-dir',
      join(tmp, 'journal'),
    ],
    { cwd: tmp, env: state },
  );

const replicas = async (ns: string, d: string) => ok(['get', 'deploy', '-n', ns, d, '-o', 'jsonpath={.spec.replicas}']);

let rbac: iam.Rbac;
let backupId: string;

beforeAll(async () => {
  const s = sandbox();
  await iam.createBucket(bucket);
  await createNamespaces(sys, api, agents);
  await ok(['create', 'configmap', 'app-config', '-n', api, '--from-literal=level=info']);
  // An application Role and its binding: restoring them is subject to RBAC's escalation check.
  await ok(['create', 'role', 'app-reader', '-n', api, '--verb=get', '--resource=configmaps']);
  await ok(['create', 'rolebinding', 'app-reader', '-n', api, '--role=app-reader', `--serviceaccount=${api}:default`]);
  await ok(['apply', '-f', '-'], JSON.stringify(iam.deployment(api, 'hive-api', 2)));
  await ok(['apply', '-f', '-'], JSON.stringify(iam.deployment(agents, 'agent-worker', 1)));
  await ok(['rollout', 'status', '-n', api, 'deployment/hive-api', '--timeout=90s']);
  await ok(['rollout', 'status', '-n', agents, 'deployment/agent-worker', '--timeout=90s']);
  mkdirSync(ws);
  writeFileSync(join(ws, 'notes.md'), '# agent workspace\n');
  await ok(['create', 'serviceaccount', sa, '-n', sys]);
  writeFileSync(
    cfg,
    stringify({
      cluster: { kubeconfig: kc, context: 'restore-runner', namespace: sys },
      aws: { region: s.region, endpointUrl: s.endpointUrl },
      backup: { bucket, secrets: 'omit', workspaceDir: ws },
      platform: { namespaces: { api, agents } },
    }),
  );
  const b = await admin(['backup', 'create', '--components', 'workspaces,k8s', '-y', '-o', 'json']);
  if (b.code !== 0) throw new Error(`backup create failed (${b.code}): ${b.stderr}`);
  backupId = (JSON.parse(b.stdout) as { results: { backupId: string } }).results.backupId;

  rbac = await iam.grantGeneratedRbac({
    config: cfg,
    commands: 'restore',
    namespace: sys,
    serviceAccount: sa,
    name,
    kubeconfig: kc,
  });
});

afterAll(() => iam.removeTestObjects({ namespaces: [sys, api, agents], tmp }));

describe('hivectl restore with exactly the RBAC from `hivectl iam-policy --commands restore`', () => {
  it('generates namespaced Roles only (no cluster-wide grant)', () => {
    const kinds = rbac.items.map((o) => `${o.kind} ${o.metadata.namespace ?? ''}`).sort();
    expect(kinds).toEqual([agents, api, sys].flatMap((ns) => [`Role ${ns}`, `RoleBinding ${ns}`]).sort());
  });

  it('restores deleted cluster objects (a Role and RoleBinding too) and the workspaces', async () => {
    await ok(['delete', 'configmap', 'app-config', '-n', api]);
    await ok(['delete', 'role,rolebinding', 'app-reader', '-n', api]);
    writeFileSync(join(ws, 'notes.md'), 'overwritten\n');
    const r = await cli(['restore', backupId, '--components', 'workspaces,k8s', '-y', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(await ok(['get', 'configmap', 'app-config', '-n', api, '-o', 'jsonpath={.data.level}'])).toBe('info');
    expect(await ok(['get', 'role', 'app-reader', '-n', api, '-o', 'jsonpath={.rules[0].resources[0]}'])).toBe(
      'configmaps',
    );
    expect(await ok(['get', 'rolebinding', 'app-reader', '-n', api, '-o', 'jsonpath={.roleRef.name}'])).toBe(
      'app-reader',
    );
    expect(readFileSync(join(ws, 'notes.md'), 'utf8')).toBe('# agent workspace\n');
    expect(await replicas(api, 'hive-api')).toBe('2');
    expect(await replicas(agents, 'agent-worker')).toBe('1');
  });

  it('without `create configmaps` exits 1 naming the grant, and the quiesce is undone', async () => {
    await iam.applyRole(rbac, api, iam.withoutVerb('configmaps', 'create'));
    await ok(['delete', 'configmap', 'app-config', '-n', api]);
    const r = await iam.untilDenied(
      () => cli(['restore', backupId, '--components', 'k8s', '-y']),
      () => ok(['delete', 'configmap', 'app-config', '-n', api]),
    );
    expect(r.code, r.stderr).toBe(1);
    const errors = iam.errorLines(r.stderr);
    expect(errors, r.stderr).toHaveLength(1);
    expect(errors[0]).toMatch(
      new RegExp(`apply ConfigMap ${api}/app-config: permission denied: configmaps "app-config" is forbidden`),
    );
    expect(r.stderr).toContain('hivectl iam-policy');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await replicas(api, 'hive-api')).toBe('2');
    expect(await replicas(agents, 'agent-worker')).toBe('1');
  });
  for (const [verb, kind, message] of [
    ['escalate', 'Role', 'is attempting to grant RBAC permissions not currently held'],
    ['bind', 'RoleBinding', 'is attempting to grant RBAC permissions not currently held'],
  ] as const)
    it(`without \`${verb} roles\` restoring a ${kind} exits 1 naming the grant`, async () => {
      await iam.applyRole(rbac, api, iam.withoutVerb('roles', verb));
      const lower = kind.toLowerCase();
      await ok(['delete', lower, 'app-reader', '-n', api]);
      const r = await iam.untilDenied(
        () => cli(['restore', backupId, '--components', 'k8s', '-y']),
        () => ok(['delete', lower, 'app-reader', '-n', api]),
      );
      expect(r.code, r.stderr).toBe(1);
      const errors = iam.errorLines(r.stderr);
      expect(errors, r.stderr).toHaveLength(1);
      expect(errors[0]).toContain(
        `apply ${kind} ${api}/app-reader: permission denied: ${lower}s.rbac.authorization.k8s.io "app-reader" is forbidden`,
      );
      expect(errors[0]).toContain(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
});
