// Chaos against the sandbox: each action applied and rolled back, a SIGKILLed experiment cleaned up
// by `chaos cleanup`, `chaos abort` from a second process, and a deviating hypothesis -> exit 3.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { sandboxConfigYaml } from '../../src/sandbox/index.js';
import { kubectl, runCli, sandbox, startCli, uniqueName, waitUntil } from '../helpers/sandbox.js';

const dir = mkdtempSync(join(tmpdir(), 'hivectl-chaos-'));
const api = uniqueName('ch-api');
const agents = uniqueName('ch-agents');
const env = { HIVECTL_STATE_DIR: join(dir, 'state') };

/** A hivectl.yaml for this file: its own namespaces, and its own state namespace (ledger + lock). */
function config(stateNamespace: string): string {
  const doc = parse(sandboxConfigYaml(sandbox())) as Record<string, Record<string, unknown>>;
  doc.cluster = { ...doc.cluster, namespace: stateNamespace };
  doc.platform = { env: 'dev', namespaces: { api, agents } };
  const file = join(dir, `${stateNamespace}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
}

const baseState = uniqueName('ch-state');
const base = config(baseState);
const cli = (cfg: string, args: string[]) => runCli(['--config', cfg, ...args], { env });

/** This file's faults (other test files run chaos in their own namespaces at the same time). */
async function faults(): Promise<string> {
  const out: string[] = [];
  for (const ns of [api, agents]) {
    const np = await kubectl(['get', 'networkpolicy', '-n', ns, '-l', 'chaos.hive.dev/experiment', '-o', 'name']);
    out.push(np.stdout.trim());
  }
  return out.filter(Boolean).join('\n');
}

async function ledgers(stateNs: string): Promise<string> {
  return (
    await kubectl(['get', 'configmap', '-n', stateNs, '-l', 'chaos.hive.dev/ledger=true', '-o', 'name'])
  ).stdout.trim();
}

/** Start the CLI without waiting for it; resolves its exit code later. */
const start = (cfg: string, args: string[]) => startCli(['--config', cfg, ...args], { env });
const until = waitUntil;

beforeAll(async () => {
  const r = await cli(base, ['bootstrap', '-y']);
  expect(r.code, r.stderr).toBe(0);
});

describe('chaos', () => {
  it('pod-kill kills an opted-in agent pod, the hypothesis holds, nothing is left behind', async () => {
    // Not opted in: nothing to kill.
    const refused = await cli(base, ['chaos', 'pod-kill', '--duration', '1s', '-y', '-o', 'json']);
    expect(refused.code, refused.stderr).toBe(0);
    expect(JSON.parse(refused.stdout).results.actions[0].detail).toEqual([]);

    await kubectl(['label', 'namespace', agents, 'chaos.hive.dev/enabled=true', '--overwrite']);
    const before = (await kubectl(['get', 'pods', '-n', agents, '-o', 'name'])).stdout.trim().split('\n');
    const r = await cli(base, ['chaos', 'pod-kill', '--duration', '2s', '-y', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout).results;
    expect(rep.deviated).toBe(false);
    expect(rep.actions[0].detail[0]).toMatch(/^killed pod /);
    const killed = rep.actions[0].targets[0].split('/')[1];
    expect(before).toContain(`pod/${killed}`);
    const after = (await kubectl(['get', 'pods', '-n', agents, '-o', 'name'])).stdout;
    expect(after).not.toContain(killed);
    expect(await ledgers(baseState)).toBe('');
  });

  it('network-partition and dependency-outage create labelled NetworkPolicies and remove them', async () => {
    for (const args of [
      ['network-partition', '--to', 'app.kubernetes.io/name=hive-api'],
      ['dependency-outage', '--dependency', 'redis'],
    ]) {
      const r = await cli(base, [
        'chaos',
        ...args,
        '--namespace-target',
        agents,
        '--include-unlabelled',
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
    }
    expect(await faults()).toBe('');
  });

  it('node-failure (KWOK) reports the node NotReady and brings it back Ready', async () => {
    // A node of its own, tainted so that no other test's pods land on it, opted into chaos.
    const node = uniqueName('chaos-node');
    const resources = { cpu: '8', memory: '32Gi', pods: '110' };
    const manifest = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: node,
        annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
        labels: { 'kubernetes.io/hostname': node, type: 'kwok', 'chaos.hive.dev/enabled': 'true' },
      },
      spec: { taints: [{ key: 'hivectl.dev/chaos-test', value: 'true', effect: 'NoSchedule' }] },
      status: { capacity: resources, allocatable: resources },
    };
    expect((await kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest) })).code).toBe(0);
    const ready = async () =>
      (await kubectl(['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout;
    try {
      await until('the new node Ready', async () => (await ready()) === 'True');
      const cfg = config(uniqueName('ch-node'));
      const run = start(cfg, [
        'chaos',
        'node-failure',
        '--mode',
        'kwok',
        '--node',
        node,
        '--duration',
        '4s',
        '-y',
        '-o',
        'json',
      ]);
      await until('the node NotReady', async () => (await ready()) === 'False', 30_000);
      const r = await run.done;
      expect(r.code, r.out).toBe(0);
      expect(r.out).toMatch(/reported it NotReady/);
      await until('the node Ready again', async () => (await ready()) === 'True', 30_000);
      const ann = await kubectl(['get', 'node', node, '-o', 'jsonpath={.metadata.annotations.kwok\\.x-k8s\\.io/node}']);
      expect(ann.stdout).toBe('fake');
      const label = await kubectl([
        'get',
        'node',
        node,
        '-o',
        'jsonpath={.metadata.labels.chaos\\.hive\\.dev/experiment}',
      ]);
      expect(label.stdout).toBe('');
    } finally {
      await kubectl(['delete', 'node', node, '--wait=false']);
    }
  });

  it('SIGKILL mid-experiment, then `chaos cleanup` leaves no fault behind', async () => {
    const stateNs = uniqueName('ch-kill');
    const cfg = config(stateNs);
    const run = start(cfg, [
      'chaos',
      'network-partition',
      '--namespace-target',
      agents,
      '--include-unlabelled',
      '--duration',
      '120s',
      '-y',
    ]);
    await until('the partition fault', async () => (await faults()) !== '');
    run.child.kill('SIGKILL');
    const ended = await run.done;
    expect(ended.signal).toBe('SIGKILL');
    expect(await faults()).not.toBe('');
    expect(await ledgers(stateNs)).not.toBe('');
    // A fault of another hivectl state namespace (another team's) is not this cleanup's to remove.
    const foreign = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: {
        name: 'hivectl-chaos-foreign',
        namespace: api,
        labels: { 'chaos.hive.dev/experiment': 'someone-elses-run', 'chaos.hive.dev/state-namespace': 'another-team' },
      },
      spec: { podSelector: {}, policyTypes: ['Ingress'] },
    };
    expect((await kubectl(['apply', '-f', '-'], { input: JSON.stringify(foreign) })).code).toBe(0);
    try {
      const c = await cli(cfg, ['chaos', 'cleanup']);
      expect(c.code, c.stderr).toBe(0);
      expect(c.stdout).toMatch(/deleted NetworkPolicy/);
      expect(c.stdout).not.toMatch(/hivectl-chaos-foreign/);
      expect(await ledgers(stateNs)).toBe('');
      expect((await kubectl(['get', 'networkpolicy', '-n', api, 'hivectl-chaos-foreign'])).code).toBe(0);
    } finally {
      await kubectl(['delete', 'networkpolicy', '-n', api, 'hivectl-chaos-foreign', '--ignore-not-found']);
    }
    expect(await faults()).toBe('');
  });

  it('`chaos abort` from a second process stops a running experiment and rolls it back', async () => {
    const stateNs = uniqueName('ch-abort');
    const cfg = config(stateNs);
    const run = start(cfg, [
      'chaos',
      'dependency-outage',
      '--namespace-target',
      agents,
      '--include-unlabelled',
      '--duration',
      '120s',
      '-y',
    ]);
    await until('the outage fault', async () => (await faults()) !== '');
    const a = await cli(cfg, ['chaos', 'abort']);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/aborted: \d/);
    const ended = await run.done;
    expect(ended.code).toBe(1);
    expect(ended.out).toMatch(/aborted by `hivectl chaos abort`/);
    expect(await faults()).toBe('');
    expect(await ledgers(stateNs)).toBe('');
  });

  it('a hypothesis that deviates during the experiment exits 3', async () => {
    const flag = join(dir, 'degraded');
    const exp = join(dir, 'deviate.yaml');
    writeFileSync(
      exp,
      stringify({
        metadata: { name: 'deviates' },
        spec: {
          duration: '2s',
          interval: '500ms',
          hypothesis: {
            probes: [{ type: 'command', name: 'not degraded', command: ['sh', '-c', `test ! -e ${flag}`] }],
          },
          method: [{ type: 'command', command: ['touch', flag] }],
          rollbacks: [{ type: 'command', command: ['rm', '-f', flag] }],
        },
      }),
    );
    const r = await cli(base, ['chaos', 'run', exp, '-y', '-o', 'json']);
    expect(r.code, r.stderr).toBe(3);
    const rep = JSON.parse(r.stdout).results;
    expect(rep.deviated).toBe(true);
    expect(rep.during.failedSamples).toBeGreaterThan(0);
    expect(rep.after.every((p: { ok: boolean }) => p.ok)).toBe(true);
  });

  it('an invalid experiment file is a usage error (exit 2) naming the field', async () => {
    const exp = join(dir, 'bad.yaml');
    writeFileSync(
      exp,
      stringify({ metadata: { name: 'bad' }, spec: { method: [{ type: 'pod-kill', namespace: 'x' }] } }),
    );
    const r = await cli(base, ['chaos', 'run', exp, '-y']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/spec\.method\.0\.selector/);
  });
});
