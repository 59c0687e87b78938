// Least privilege for `hivectl bootstrap`: with the platform and state namespaces created beforehand
// (the RoleBindings need them), a ServiceAccount holding exactly the RBAC that `hivectl iam-policy
// --commands bootstrap` generates installs the prod stack and re-runs it as a no-op; with `create
// networkpolicies` taken away it exits 1 with one sentence naming the grant.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createNamespaces, kubectl, runCli, serviceAccountKubeconfig, uniqueName } from '../helpers/sandbox.js';

const sys = uniqueName('iambs-sys');
const api = uniqueName('iambs-api');
const agents = uniqueName('iambs-agt');
const sa = 'bootstrap-runner';
const name = `${sys}-bootstrap`;
const tmp = mkdtempSync(join(tmpdir(), 'hivectl-iam-bootstrap-'));
const cfg = join(tmp, 'hivectl.yaml');
const kc = join(tmp, 'bootstrap-runner.kubeconfig');

const cli = (args: string[]) =>
  runCli(['--config', cfg, ...args, '--journal-dir', join(tmp, 'journal')], {
    cwd: tmp,
    env: { KUBECONFIG: kc, HIVECTL_STATE_DIR: join(tmp, 'state') },
  });

async function ok(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} -> ${r.code}: ${r.stderr}`);
  return r.stdout;
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are open-ended JSON
let rbac: { items: any[] };

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
  const gen = await runCli([
    '--config',
    cfg,
    'iam-policy',
    '--commands',
    'bootstrap',
    '--part',
    'k8s',
    '--format',
    'json',
    '--service-account',
    `${sys}/${sa}`,
    '--name',
    name,
  ]);
  if (gen.code !== 0) throw new Error(`iam-policy failed (${gen.code}): ${gen.stderr}`);
  rbac = JSON.parse(gen.stdout);
  await ok(['apply', '-f', '-'], JSON.stringify(rbac));
  await serviceAccountKubeconfig({ namespace: sys, serviceAccount: sa, file: kc, contextName: 'bootstrap-runner' });
});

afterAll(async () => {
  await kubectl(['delete', 'namespace', sys, api, agents, '--wait=false']);
  await kubectl(['delete', 'priorityclass', `${api}-priority`, `${agents}-priority`, '--ignore-not-found']);
  await kubectl(['delete', 'clusterrole,clusterrolebinding', name, '--ignore-not-found']);
  rmSync(tmp, { recursive: true, force: true });
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
    const role = structuredClone(rbac.items.find((o) => o.kind === 'Role' && o.metadata.namespace === agents));
    role.rules = (role.rules as Rule[]).map((x) =>
      x.resources.includes('networkpolicies') ? { ...x, verbs: x.verbs.filter((v) => v !== 'create') } : x,
    );
    await ok(['apply', '-f', '-'], JSON.stringify(role));
    let r = await cli(['bootstrap', '--env', 'prod', '-y']);
    for (let i = 0; i < 20 && r.code === 0; i++) {
      await ok(['delete', 'networkpolicy', '--all', '-n', agents]);
      await new Promise((res) => setTimeout(res, 250));
      r = await cli(['bootstrap', '--env', 'prod', '-y']);
    }
    expect(r.code, r.stderr).toBe(1);
    const errors = r.stderr.split('\n').filter((l) => / error /.test(l));
    expect(errors, r.stderr).toHaveLength(1);
    expect(errors[0]).toMatch(/NetworkPolicy .*permission denied: networkpolicies.* is forbidden/);
    expect(r.stderr).toContain('hivectl iam-policy');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
