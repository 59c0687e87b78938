// Least privilege for `hivectl chaos`: an identity holding exactly the RBAC that
// `hivectl iam-policy --commands chaos` generates runs pod-kill and network-partition, cleans up after a
// SIGKILLed run and aborts a running one from a second process; with one grant less (deleting pods,
// creating NetworkPolicies) it exits 1 with one sentence naming the grant and leaves no fault behind.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import * as iam from '../helpers/iam.js';
import { createNamespaces, sandbox, startCli, waitUntil } from '../helpers/sandbox.js';

const { ok } = iam;
const { sys, api, agents, sa, name, tmp, cfg, kc } = iam.testNames('iamch', 'chaos');
const env = { KUBECONFIG: kc, HIVECTL_STATE_DIR: join(tmp, 'state') };

const cli = iam.cliWith(tmp, cfg, env);

/** Start the CLI as the limited identity without waiting; resolves its exit and output later. */
const start = (args: string[]) =>
  startCli(['--config', cfg, ...args, '--journal-dir', join(tmp, 'journal')], { cwd: tmp, env });
const until = waitUntil;

/** Faults (labelled NetworkPolicies) in this file's namespaces, and this file's fault ledgers. */
async function faults(): Promise<string> {
  const out: string[] = [];
  for (const ns of [api, agents])
    out.push((await ok(['get', 'networkpolicy', '-n', ns, '-l', 'chaos.hive.dev/experiment', '-o', 'name'])).trim());
  return out.filter(Boolean).join('\n');
}
const ledgers = async () =>
  (await ok(['get', 'configmap', '-n', sys, '-l', 'chaos.hive.dev/ledger=true', '-o', 'name'])).trim();

let rbac: iam.Rbac;

beforeAll(async () => {
  const s = sandbox();
  await createNamespaces(sys, api, agents);
  await ok(['apply', '-f', '-'], JSON.stringify(iam.deployment(api, 'hive-api', 1)));
  await ok(['apply', '-f', '-'], JSON.stringify(iam.deployment(agents, 'agent-worker', 2)));
  await ok(['rollout', 'status', '-n', api, 'deployment/hive-api', '--timeout=90s']);
  await ok(['rollout', 'status', '-n', agents, 'deployment/agent-worker', '--timeout=90s']);
  await ok(['create', 'serviceaccount', sa, '-n', sys]);
  writeFileSync(
    cfg,
    stringify({
      cluster: { kubeconfig: kc, context: 'chaos-runner', namespace: sys },
      aws: { region: s.region, endpointUrl: s.endpointUrl },
      platform: { env: 'dev', namespaces: { api, agents } },
    }),
  );
  rbac = await iam.grantGeneratedRbac({
    config: cfg,
    commands: 'chaos',
    namespace: sys,
    serviceAccount: sa,
    name,
    kubeconfig: kc,
  });
});

afterAll(() => iam.removeTestObjects({ namespaces: [sys, api, agents], clusterRbac: name, tmp }));

describe('hivectl chaos with exactly the RBAC from `hivectl iam-policy --commands chaos`', () => {
  it('pod-kill kills an opted-in agent pod and leaves nothing behind', async () => {
    await ok(['label', 'namespace', agents, 'chaos.hive.dev/enabled=true', '--overwrite']);
    const r = await cli(['chaos', 'pod-kill', '--duration', '1s', '-y', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout).results;
    expect(rep.deviated).toBe(false);
    expect(rep.actions[0].detail[0]).toMatch(/^killed pod /);
    expect(await ledgers()).toBe('');
  });

  it('network-partition creates a labelled NetworkPolicy and removes it', async () => {
    const r = await cli([
      'chaos',
      'network-partition',
      '--to',
      'app.kubernetes.io/name=hive-api',
      '--duration',
      '1s',
      '-y',
      '-o',
      'json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout).results;
    expect(rep.actions[0].detail[0]).toMatch(/^created NetworkPolicy /);
    expect(rep.rollback.reverted.join(' ')).toMatch(/deleted NetworkPolicy/);
    expect(await faults()).toBe('');
    expect(await ledgers()).toBe('');
  });

  it('`chaos abort` from a second process stops a running experiment and rolls it back', async () => {
    const run = start(['chaos', 'dependency-outage', '--duration', '120s', '-y']);
    await until('the outage fault', async () => (await faults()) !== '');
    const a = await cli(['chaos', 'abort']);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/aborted: \S/);
    const ended = await run.done;
    expect(ended.code, ended.out).toBe(1);
    expect(ended.out).toMatch(/aborted by `hivectl chaos abort`/);
    expect(await faults()).toBe('');
    expect(await ledgers()).toBe('');
  });

  it('without `delete pods` pod-kill exits 1 naming the grant', async () => {
    await iam.applyRole(rbac, agents, iam.withoutVerb('pods', 'delete'));
    try {
      const r = await iam.untilDenied(() => cli(['chaos', 'pod-kill', '--duration', '1s', '-y']));
      expect(r.code, r.stderr).toBe(1);
      const errors = iam.errorLines(r.stderr);
      expect(errors, r.stderr).toHaveLength(1);
      expect(errors[0]).toMatch(/delete pod .*: permission denied: pods ".*" is forbidden/);
      expect(r.stderr).toContain('hivectl iam-policy');
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(await ledgers()).toBe('');
    } finally {
      await iam.applyRole(rbac, agents, (x) => x);
    }
  });

  it('without `create networkpolicies` network-partition exits 1 naming the grant, no fault left', async () => {
    await iam.applyRole(rbac, agents, iam.withoutVerb('networkpolicies', 'create'));
    try {
      const r = await iam.untilDenied(() => cli(['chaos', 'network-partition', '--duration', '1s', '-y']));
      expect(r.code, r.stderr).toBe(1);
      const errors = iam.errorLines(r.stderr);
      expect(errors, r.stderr).toHaveLength(1);
      expect(errors[0]).toMatch(/NetworkPolicy .*: permission denied: networkpolicies.* is forbidden/);
      expect(r.stderr).toContain('hivectl iam-policy');
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(await faults()).toBe('');
      expect(await ledgers()).toBe('');
    } finally {
      await iam.applyRole(rbac, agents, (x) => x);
    }
  });

  // Last: the killed run's lock stays held until its lease expires, refusing later runs meanwhile.
  it('SIGKILL mid-experiment, then `chaos cleanup` removes the fault and the ledger', async () => {
    const run = start(['chaos', 'network-partition', '--duration', '120s', '-y']);
    await until('the partition fault', async () => (await faults()) !== '');
    run.child.kill('SIGKILL');
    expect((await run.done).signal).toBe('SIGKILL');
    const c = await cli(['chaos', 'cleanup']);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/deleted NetworkPolicy/);
    expect(await faults()).toBe('');
    expect(await ledgers()).toBe('');
  });
});
