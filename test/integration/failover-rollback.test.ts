// Failover that must not leave a half-done change: --dry-run changes nothing, a DR side that fails
// verification is rolled back to the primary (the promoted database is the one step that stands, and the
// run says so: exit 4), and Ctrl-C mid-failover rolls back the same way.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ensureInstanceWithReplica } from '../../src/adapters/rds-failover.js';
import { sandboxConfigYaml } from '../../src/sandbox/index.js';
import { kubectl, runCli, sandbox, uniqueName } from '../helpers/sandbox.js';

const dir = mkdtempSync(join(tmpdir(), 'hivectl-failover-rb-'));
const api = uniqueName('forb-api');
const agents = uniqueName('forb-agents');
const instanceId = uniqueName('forb-db');
const env = { HIVECTL_STATE_DIR: join(dir, 'state') };

function config(replicaId: string): string {
  const doc = parse(sandboxConfigYaml(sandbox())) as Record<string, Record<string, unknown>>;
  doc.cluster = { ...doc.cluster, namespace: uniqueName('forb-state') };
  doc.platform = { env: 'dev', namespaces: { api, agents } };
  doc.database = { ...doc.database, instanceId, drReplicaId: replicaId };
  const file = join(dir, `${uniqueName('cfg')}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
}

async function newReplica(): Promise<string> {
  const s = sandbox();
  const replicaId = uniqueName('forb-dr');
  await ensureInstanceWithReplica(
    { region: s.region, endpointUrl: s.endpointUrl },
    s.region,
    instanceId,
    s.drRegion,
    replicaId,
  );
  return config(replicaId);
}

const cli = (cfg: string, args: string[]) => runCli(['--config', cfg, ...args], { env });

async function replicas(context: string): Promise<string> {
  const get = async (ns: string, d: string) =>
    (await kubectl(['get', 'deploy', '-n', ns, d, '-o', 'jsonpath={.spec.replicas}'], { context })).stdout;
  return `${await get(api, 'hive-api')} ${await get(agents, 'agent-worker')}`;
}

async function drSecretUrl(): Promise<string> {
  const r = await kubectl(['get', 'secret', '-n', api, 'hive-db', '-o', 'jsonpath={.data.url}'], {
    context: sandbox().drContext,
  });
  return Buffer.from(r.stdout, 'base64').toString();
}

/** Agents in the DR cluster that can never be scheduled: the DR side will not verify. */
async function breakDrAgents(on: boolean): Promise<void> {
  const patch = on
    ? '{"spec":{"template":{"spec":{"nodeSelector":{"hivectl-test/no-such-node":"true"}}}}}'
    : '[{"op":"remove","path":"/spec/template/spec/nodeSelector/hivectl-test~1no-such-node"}]';
  const r = await kubectl(
    ['patch', 'deploy', '-n', agents, 'agent-worker', ...(on ? ['-p', patch] : ['--type=json', '-p', patch])],
    { context: sandbox().drContext },
  );
  expect(r.code, r.stderr).toBe(0);
}

let cfg: string;
let primaryBefore: string;
let drUrlBefore: string;

beforeAll(async () => {
  const s = sandbox();
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: s.env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: s.env.AWS_SECRET_ACCESS_KEY,
  });
  cfg = await newReplica();
  for (const ctx of [s.context, s.drContext]) {
    const b = await cli(cfg, ['--context', ctx, 'bootstrap', '-y']);
    expect(b.code, b.stderr).toBe(0);
  }
  // DR as a pilot light.
  await kubectl(['scale', 'deploy', '-n', api, 'hive-api', '--replicas=0'], { context: s.drContext });
  await kubectl(['scale', 'deploy', '-n', agents, 'agent-worker', '--replicas=0'], { context: s.drContext });
  primaryBefore = await replicas(s.context);
  drUrlBefore = await drSecretUrl();
});

describe('failover safety', () => {
  it('--dry-run shows the plan and changes nothing', async () => {
    const r = await cli(cfg, ['failover', '--mode', 'replica', '--dry-run', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.status).toBe('planned');
    expect(JSON.stringify(out)).toMatch(/fence-source/);
    expect(await replicas(sandbox().context)).toBe(primaryBefore);
    expect(await replicas(sandbox().drContext)).toBe('0 0');
    expect(await drSecretUrl()).toBe(drUrlBefore);
  });

  it('a DR side that fails verification is rolled back to the primary; the promoted database is named as standing (exit 4)', async () => {
    await breakDrAgents(true);
    try {
      const r = await cli(cfg, ['failover', '--mode', 'replica', '--timeout', '4s', '-y', '-o', 'json']);
      expect(r.code, r.stderr).toBe(4);
      const out = JSON.parse(r.stdout);
      expect(out.status).toBe('partial');
      expect(r.stderr).toMatch(/promote-db/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      // The primary runs again with what it ran before; the DR side is back to its pilot light and its
      // endpoint Secret is what it was.
      expect(await replicas(sandbox().context)).toBe(primaryBefore);
      expect(await replicas(sandbox().drContext)).toBe('0 0');
      expect(await drSecretUrl()).toBe(drUrlBefore);
    } finally {
      await breakDrAgents(false);
    }
  });

  it('Ctrl-C while the DR side scales up rolls back at once; the promoted database stands (exit 4) and the journal records it', async () => {
    const c = await newReplica();
    await breakDrAgents(true);
    try {
      const s = sandbox();
      const p = execa(
        process.execPath,
        ['bin/hivectl.js', '--config', c, 'failover', '--mode', 'replica', '--timeout', '60s', '-y'],
        { env: { ...process.env, ...s.env, ...env }, reject: false, all: true },
      );
      // Interrupt once the run is waiting on the DR rollout (the agents can never become Ready).
      let seen = '';
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`never reached scale-target:\n${seen}`)), 60_000);
        p.all?.on('data', (d: Buffer) => {
          seen += d.toString();
          if (/apply\s+\[\d\/\d\] scale-target/.test(seen)) {
            clearTimeout(t);
            resolve();
          }
        });
      });
      p.kill('SIGINT');
      const r = await p;
      // Interrupted and rolled back, but PromoteReadReplica cannot be undone: partial (4) wins over 130.
      expect(r.exitCode, r.all).toBe(4);
      expect(r.all).toMatch(/interrupted by SIGINT/);
      // The wait was cut short by the signal, not run out to --timeout.
      expect(r.all).not.toMatch(/rollout not ready after/);
      expect(r.all).toMatch(/promote-db have no rollback/);
      expect(await replicas(s.context)).toBe(primaryBefore);
      expect(await replicas(s.drContext)).toBe('0 0');
      expect(await drSecretUrl()).toBe(drUrlBefore);
      const runId = /run (\S+) \(failover\)/.exec(r.all ?? '')?.[1];
      expect(runId, r.all).toBeTruthy();
      const show = await runCli(['--config', c, 'runs', 'show', runId as string, '-o', 'json'], { env });
      expect(show.code, show.stderr).toBe(0);
      expect(show.stdout).toMatch(/SIGINT/);
    } finally {
      await breakDrAgents(false);
    }
  });
});
