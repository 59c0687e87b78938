// Least privilege for `hivectl failover` / `failback` (Kubernetes half): a ServiceAccount in BOTH
// sandbox clusters, each holding exactly the RBAC that `hivectl iam-policy --commands failover`
// generates, fails over (fences the primary, repoints the endpoint Secret, scales the DR side, verifies)
// and fails back through a kubeconfig holding the two token-only contexts; with `update secrets` taken
// away on the DR side it exits 1 with one sentence naming the grant, and the primary runs again.
// Database mode `none` (kind postgres): the RDS half needs AWS IAM, which moto does not enforce.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import * as iam from '../helpers/iam.js';
import { sandbox } from '../helpers/sandbox.js';

const { sys, api, agents, sa, name, tmp, cfg, kc } = iam.testNames('iamfo', 'failover');
// The sandbox's env names its own DR context, which beats hivectl.yaml: name ours.
const cli = iam.cliWith(tmp, cfg, { KUBECONFIG: kc, HIVECTL_DR_CONTEXT: 'dr', HIVECTL_STATE_DIR: join(tmp, 'state') });
const ok = (context: string, args: string[], input?: string) => iam.ok(args, input, context);

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

let rbac: iam.Rbac;

beforeAll(async () => {
  const s = sandbox();
  for (const [context, scale] of [
    [s.context, 1],
    [s.drContext, 0], // the DR side as a pilot light
  ] as const) {
    for (const ns of [sys, api, agents]) await ok(context, ['create', 'namespace', ns]);
    await ok(context, ['wait', '-n', sys, '--for=create', 'serviceaccount/default', '--timeout=60s']);
    await ok(context, ['create', 'serviceaccount', sa, '-n', sys]);
    await ok(context, ['apply', '-f', '-'], JSON.stringify(iam.deployment(api, 'hive-api', 2 * scale)));
    await ok(context, ['apply', '-f', '-'], JSON.stringify(iam.deployment(agents, 'agent-worker', scale)));
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
  rbac = await iam.generateRbac({ config: cfg, commands: 'failover', serviceAccount: `${sys}/${sa}`, name });
  for (const context of [s.context, s.drContext]) await ok(context, ['apply', '-f', '-'], JSON.stringify(rbac));
  await twoClusterKubeconfig();
});

afterAll(() =>
  iam.removeTestObjects({ namespaces: [sys, api, agents], contexts: [sandbox().context, sandbox().drContext], tmp }),
);

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
    await iam.applyRole(rbac, api, iam.withoutVerb('secrets', 'update'), s.drContext);
    // Fail back before trying again.
    const r = await iam.untilDenied(
      () => cli(['failover', '--mode', 'none', '-y']),
      () => cli(['failback', '-y']),
    );
    expect(r.code, r.stderr).toBe(1);
    const errors = iam.errorLines(r.stderr);
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
    await iam.applyRole(rbac, agents, iam.withoutVerb('deployments', 'patch'), s.context);
    const r = await iam.untilDenied(
      () => cli(['failover', '--mode', 'none', '-y']),
      () => cli(['failback', '-y']),
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/the primary cluster answers but could not be fenced: .*agent-worker/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // Both sides as before: the API that was fenced is scaled back, the DR side untouched (no split brain).
    await ok(s.context, ['rollout', 'status', '-n', api, 'deployment/hive-api', '--timeout=90s']);
    expect(await replicas(s.context)).toBe('2/2 1/1');
    expect((await replicas(s.drContext)).replace(/\/\d*/g, '/')).toBe('0/ 0/');
  });
});
