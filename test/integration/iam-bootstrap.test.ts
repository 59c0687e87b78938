// Least privilege for `hivectl bootstrap`: with the platform and state namespaces created beforehand
// (the RoleBindings need them), a ServiceAccount holding exactly the RBAC that `hivectl iam-policy
// --commands bootstrap` generates installs the prod stack and re-runs it as a no-op; with `create
// networkpolicies` taken away it exits 1 with one sentence naming the grant.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import * as iam from '../helpers/iam.js';
import { createNamespaces, kubectl } from '../helpers/sandbox.js';

const { ok } = iam;
const { sys, api, agents, sa, name, tmp, cfg, kc } = iam.testNames('iambs', 'bootstrap');

const cli = iam.cliWith(tmp, cfg, { KUBECONFIG: kc, HIVECTL_STATE_DIR: join(tmp, 'state') });

let rbac: iam.Rbac;

beforeAll(async () => {
  await createNamespaces(sys, api, agents);
  await ok(['create', 'serviceaccount', sa, '-n', sys]);
  writeFileSync(
    cfg,
    stringify({
      cluster: { kubeconfig: kc, context: 'bootstrap-runner', namespace: sys },
      platform: { namespaces: { api, agents } },
    }),
  );
  rbac = await iam.grantGeneratedRbac({
    config: cfg,
    commands: 'bootstrap',
    namespace: sys,
    serviceAccount: sa,
    name,
    kubeconfig: kc,
  });
});

afterAll(async () => {
  await kubectl(['delete', 'priorityclass', `${api}-priority`, `${agents}-priority`, '--ignore-not-found']);
  await iam.removeTestObjects({ namespaces: [sys, api, agents], clusterRbac: name, tmp });
});

describe('hivectl bootstrap with exactly the RBAC from `hivectl iam-policy --commands bootstrap`', () => {
  it('installs the prod stack, then a re-run changes nothing', async () => {
    const r = await cli(['bootstrap', '--env', 'prod', '-y', '--timeout', '120s']);
    expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(0);
    expect(
      await ok(['get', 'deploy', '-n', agents, 'agent-worker', '-o', 'jsonpath={.status.readyReplicas}']),
    ).not.toBe('');
    const again = await cli(['bootstrap', '--env', 'prod', '-y', '-o', 'json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).results.changes).toBe(0);
    // --diff plans by server-side dry-run and looks for objects to prune in the stack's namespaces.
    const d = await cli(['bootstrap', '--env', 'prod', '--diff', '--exit-code']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toBe('');
    const history = await cli(['bootstrap', 'history', '-o', 'json']);
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout).toContain('deployed');
  });

  it('without `create networkpolicies` exits 1 naming the grant', async () => {
    await ok(['delete', 'networkpolicy', '--all', '-n', agents]);
    await iam.applyRole(rbac, agents, iam.withoutVerb('networkpolicies', 'create'));
    const r = await iam.untilDenied(
      () => cli(['bootstrap', '--env', 'prod', '-y']),
      () => ok(['delete', 'networkpolicy', '--all', '-n', agents]),
    );
    expect(r.code, r.stderr).toBe(1);
    const errors = iam.errorLines(r.stderr);
    expect(errors, r.stderr).toHaveLength(1);
    expect(errors[0]).toMatch(/NetworkPolicy .*permission denied: networkpolicies.* is forbidden/);
    expect(r.stderr).toContain('hivectl iam-policy');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
