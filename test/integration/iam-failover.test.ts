// Least privilege for `hivectl failover` / `failback` (Kubernetes half): a ServiceAccount in BOTH
// sandbox clusters, each holding exactly the RBAC that `hivectl iam-policy --commands failover`
// generates, fails over (fences the primary, repoints the endpoint Secret, scales the DR side, verifies)
// and fails back through a kubeconfig holding the two token-only contexts; with `update secrets` taken
// away on the DR side it exits 1 with one sentence naming the grant, and the primary runs again.
// Database mode `none` (kind postgres): the RDS half needs AWS IAM, which moto does not enforce.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { kubectl, runCli, sandbox, uniqueName } from '../helpers/sandbox.js';

const sys = uniqueName('iamfo-sys');
const api = uniqueName('iamfo-api');
const agents = uniqueName('iamfo-agt');
const sa = 'failover-runner';
const name = `${sys}-failover`;
const tmp = mkdtempSync(join(tmpdir(), 'hivectl-iam-failover-'));
const cfg = join(tmp, 'hivectl.yaml');
const kc = join(tmp, 'failover-runner.kubeconfig');
// The sandbox's env names its own DR context, which beats hivectl.yaml: name ours.
const env = { KUBECONFIG: kc, HIVECTL_DR_CONTEXT: 'dr', HIVECTL_STATE_DIR: join(tmp, 'state') };
const cli = (args: string[]) =>
  runCli(['--config', cfg, ...args, '--journal-dir', join(tmp, 'journal')], { cwd: tmp, env });

async function ok(context: string, args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input === undefined ? { context } : { context, input });
  if (r.code !== 0) throw new Error(`kubectl --context ${context} ${args.join(' ')} -> ${r.code}: ${r.stderr}`);
  return r.stdout;
}

function deployment(namespace: string, app: string, replicas: number) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: app, namespace, labels: { 'app.kubernetes.io/name': app } },
    spec: {
      replicas,
      selector: { matchLabels: { 'app.kubernetes.io/name': app } },
      template: {
        metadata: { labels: { 'app.kubernetes.io/name': app } },
        spec: { containers: [{ name: app, image: `${app}:1.0.0` }] },
      },
    },
  };
}

/** `spec/ready` of hive-api and agent-worker on one cluster. */
async function replicas(context: string): Promise<string> {
  const get = async (ns: string, d: string) =>
    ok(context, ['get', 'deploy', '-n', ns, d, '-o', 'jsonpath={.spec.replicas}/{.status.readyReplicas}']);
  return `${await get(api, 'hive-api')} ${await get(agents, 'agent-worker')}`;
}

/**
 * A kubeconfig with one token-only context per cluster (no client certificate: no admin fallback),
 * named `primary` and `dr`.
 */
async function twoClusterKubeconfig(): Promise<void> {
  const s = sandbox();
  const admin = JSON.parse(await ok(s.context, ['config', 'view', '--raw', '-o', 'json']));
  const entry = async (context: string, as: string) => {
    const token = (await ok(context, ['create', 'token', sa, '-n', sys, '--duration=1h'])).trim();
    const c = admin.contexts.find((x: { name: string }) => x.name === context).context;
    const cl = admin.clusters.find((x: { name: string }) => x.name === c.cluster).cluster;
    const caData = cl['certificate-authority-data'] ?? readFileSync(cl['certificate-authority']).toString('base64');
    return {
      cluster: { name: as, cluster: { server: cl.server, 'certificate-authority-data': caData } },
      user: { name: as, user: { token } },
      context: { name: as, context: { cluster: as, user: as } },
    };
  };
  const e = [await entry(s.context, 'primary'), await entry(s.drContext, 'dr')];
  writeFileSync(
    kc,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: e.map((x) => x.cluster),
      users: e.map((x) => x.user),
      contexts: e.map((x) => x.context),
      'current-context': 'primary',
    }),
  );
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
  for (const [context, scale] of [
    [s.context, 1],
    [s.drContext, 0], // the DR side as a pilot light
  ] as const) {
    for (const ns of [sys, api, agents]) await ok(context, ['create', 'namespace', ns]);
    await ok(context, ['wait', '-n', sys, '--for=create', 'serviceaccount/default', '--timeout=60s']);
    await ok(context, ['create', 'serviceaccount', sa, '-n', sys]);
    await ok(context, ['apply', '-f', '-'], JSON.stringify(deployment(api, 'hive-api', 2 * scale)));
    await ok(context, ['apply', '-f', '-'], JSON.stringify(deployment(agents, 'agent-worker', scale)));
  }
  await ok(s.context, ['rollout', 'status', '-n', api, 'deployment/hive-api', '--timeout=90s']);
  await ok(s.context, ['rollout', 'status', '-n', agents, 'deployment/agent-worker', '--timeout=90s']);
  writeFileSync(
    cfg,
    stringify({
      cluster: { kubeconfig: kc, context: 'primary', drContext: 'dr', namespace: sys },
      aws: { region: s.region, drRegion: s.drRegion, endpointUrl: s.endpointUrl },
      database: { kind: 'postgres', url: s.pgUrl },
      platform: {
        env: 'dev',
        namespaces: { api, agents },
        api: { replicas: 2, image: 'hive-api:1.0.0' },
        agents: { replicas: 1, image: 'agent-worker:1.0.0' },
      },
    }),
  );
  const gen = await runCli([
    '--config',
    cfg,
    'iam-policy',
    '--commands',
    'failover',
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
  for (const context of [s.context, s.drContext]) await ok(context, ['apply', '-f', '-'], JSON.stringify(rbac));
  await twoClusterKubeconfig();
});

afterAll(async () => {
  const s = sandbox();
  for (const context of [s.context, s.drContext])
    await kubectl(['delete', 'namespace', sys, api, agents, '--wait=false'], { context });
  rmSync(tmp, { recursive: true, force: true });
});

describe('hivectl failover/failback with exactly the RBAC from `hivectl iam-policy --commands failover`', () => {
  it('generates namespaced Roles only (no cluster-wide grant)', () => {
    const kinds = rbac.items.map((o) => `${o.kind} ${o.metadata.namespace ?? ''}`).sort();
    expect(kinds).toEqual([agents, api, sys].flatMap((ns) => [`Role ${ns}`, `RoleBinding ${ns}`]).sort());
  });

  it('fails over to the DR cluster and back, fencing the primary', async () => {
    const s = sandbox();
    const check = await cli(['failover', 'check', '--mode', 'none']);
    expect(check.code, `${check.stdout}${check.stderr}`).toBe(0);

    const r = await cli(['failover', '--mode', 'none', '-y', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout).results;
    expect(rep.status).toBe('succeeded');
    expect(rep.notFenced).toEqual([]);
    expect(await replicas(s.drContext)).toBe('2/2 1/1');
    expect((await replicas(s.context)).replace(/\/\d*/g, '/')).toBe('0/ 0/');
    const url = await ok(s.drContext, ['get', 'secret', '-n', api, 'hive-db', '-o', 'jsonpath={.data.url}']);
    expect(Buffer.from(url, 'base64').toString()).toBe(s.pgUrl);

    const f = await cli(['failback', '-y', '-o', 'json']);
    expect(f.code, f.stderr).toBe(0);
    expect(JSON.parse(f.stdout).results.notFenced).toEqual([]);
    expect(await replicas(s.context)).toBe('2/2 1/1');
    expect((await replicas(s.drContext)).replace(/\/\d*/g, '/')).toBe('0/ 0/');
  });

  it('without `update secrets` on the DR side exits 1 naming the grant, and the primary runs again', async () => {
    const s = sandbox();
    const role = structuredClone(rbac.items.find((o) => o.kind === 'Role' && o.metadata.namespace === api));
    role.rules = (role.rules as Rule[]).map((x) =>
      x.resources.includes('secrets') ? { ...x, verbs: x.verbs.filter((v) => v !== 'update') } : x,
    );
    await ok(s.drContext, ['apply', '-f', '-'], JSON.stringify(role));
    let r = await cli(['failover', '--mode', 'none', '-y']);
    for (let i = 0; i < 20 && r.code === 0; i++) {
      // The authorizer's cache catches up within moments; fail back before trying again.
      await cli(['failback', '-y']);
      await new Promise((res) => setTimeout(res, 250));
      r = await cli(['failover', '--mode', 'none', '-y']);
    }
    expect(r.code, r.stderr).toBe(1);
    const errors = r.stderr.split('\n').filter((l) => / error /.test(l));
    expect(errors, r.stderr).toHaveLength(1);
    expect(errors[0]).toMatch(
      new RegExp(`write secret ${api}/hive-db: permission denied: secrets "hive-db" is forbidden`),
    );
    expect(r.stderr).toContain('hivectl iam-policy');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // The fence was rolled back: the primary is back at its replicas (Ready moments later), the DR side untouched.
    await ok(s.context, ['rollout', 'status', '-n', api, 'deployment/hive-api', '--timeout=90s']);
    await ok(s.context, ['rollout', 'status', '-n', agents, 'deployment/agent-worker', '--timeout=90s']);
    expect(await replicas(s.context)).toBe('2/2 1/1');
    expect((await replicas(s.drContext)).replace(/\/\d*/g, '/')).toBe('0/ 0/');
  });
  it('a primary that answers but refuses the fence stops the failover before the DR side changes (exit 1)', async () => {
    const s = sandbox();
    const role = structuredClone(rbac.items.find((o) => o.kind === 'Role' && o.metadata.namespace === agents));
    role.rules = (role.rules as Rule[]).map((x) =>
      x.resources.includes('deployments') ? { ...x, verbs: x.verbs.filter((v) => v !== 'patch') } : x,
    );
    await ok(s.context, ['apply', '-f', '-'], JSON.stringify(role));
    let r = await cli(['failover', '--mode', 'none', '-y']);
    for (let i = 0; i < 20 && r.code === 0; i++) {
      await cli(['failback', '-y']);
      await new Promise((res) => setTimeout(res, 250));
      r = await cli(['failover', '--mode', 'none', '-y']);
    }
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/the primary cluster answers but could not be fenced: .*agent-worker/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // Both sides as before: the API that was fenced is scaled back, the DR side untouched (no split brain).
    await ok(s.context, ['rollout', 'status', '-n', api, 'deployment/hive-api', '--timeout=90s']);
    expect(await replicas(s.context)).toBe('2/2 1/1');
    expect((await replicas(s.drContext)).replace(/\/\d*/g, '/')).toBe('0/ 0/');
  });
});
