// Failover's database paths beyond a plain replica promotion, on the sandbox (RDS and CloudWatch in
// moto, the two KWOK clusters, the sandbox's PostgreSQL as the data plane):
// - cluster mode: an Aurora cluster in the DR region, FailoverDBCluster, the endpoint Secret pointed
//   at the cluster's writer endpoint (its port is the sandbox PostgreSQL's, and the URL carries
//   libpq's hostaddr=127.0.0.1, so verify's `select 1` really goes through that Secret);
// - replica mode: the RPO is the replica's newest CloudWatch ReplicaLag (put into moto here);
// - chaos db-failover: FailoverDBCluster and reboot-with-failover under a hypothesis, one-way.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateDBClusterCommand,
  CreateDBInstanceCommand,
  DescribeDBClustersCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ensureInstanceWithReplica, failoverCluster } from '../../src/adapters/rds-failover.js';
import { sandboxConfigYaml } from '../../src/sandbox/index.js';
import { kubectl, runCli, sandbox, uniqueName } from '../helpers/sandbox.js';

const dir = mkdtempSync(join(tmpdir(), 'hivectl-failover-cluster-'));
const api = uniqueName('foc-api');
const agents = uniqueName('foc-agents');
const stateNs = uniqueName('foc-state');
const env = { HIVECTL_STATE_DIR: join(dir, 'state') };
const creds = { accessKeyId: 'test', secretAccessKey: 'test' };

// DR-region Aurora cluster (two members) and a one-member one; a primary-region cluster for chaos.
const clusterId = uniqueName('foc-aurora');
const soloClusterId = uniqueName('foc-solo');
const chaosClusterId = uniqueName('foc-chaos');
const multiAzId = uniqueName('foc-maz');
// Replica mode: a primary with a cross-region replica that has ReplicaLag datapoints, and one without.
const instanceId = uniqueName('foc-db');
const replicaId = uniqueName('foc-db-dr');
const quietInstanceId = uniqueName('foc-quiet');
const quietReplicaId = uniqueName('foc-quiet-dr');

function config(database: Record<string, unknown>): string {
  const doc = parse(sandboxConfigYaml(sandbox())) as Record<string, Record<string, unknown>>;
  doc.cluster = { ...doc.cluster, namespace: stateNs };
  doc.platform = { env: 'dev', namespaces: { api, agents } };
  doc.database = { ...doc.database, ...database };
  const file = join(dir, `${uniqueName('cfg')}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
}

/** The sandbox PostgreSQL's URL, reached at 127.0.0.1 whatever host name the Secret carries. */
function auroraUrl(): string {
  const u = new URL(sandbox().pgUrl);
  u.searchParams.set('hostaddr', '127.0.0.1');
  return u.toString();
}

const auroraCfg = config({ kind: 'aurora', clusterId, url: auroraUrl() });
const soloCfg = config({ kind: 'aurora', clusterId: soloClusterId, url: auroraUrl() });
const replicaCfg = config({ kind: 'postgres', instanceId, drReplicaId: replicaId });
const quietCfg = config({ kind: 'postgres', instanceId: quietInstanceId, drReplicaId: quietReplicaId });
const cli = (c: string, args: string[]) => runCli(['--config', c, ...args], { env });

function rds(region: string): RDSClient {
  return new RDSClient({ region, endpoint: sandbox().endpointUrl, credentials: creds });
}

async function createCluster(region: string, id: string, members: number): Promise<string[]> {
  const c = rds(region);
  await c.send(
    new CreateDBClusterCommand({
      DBClusterIdentifier: id,
      Engine: 'aurora-postgresql',
      MasterUsername: 'hive',
      MasterUserPassword: 'sandbox-only-password',
      // The sandbox PostgreSQL's port: the writer endpoint's host is moto's, the port a real server.
      Port: Number(new URL(sandbox().pgUrl).port),
    }),
  );
  const ids = Array.from({ length: members }, (_, i) => `${id}-${i + 1}`);
  for (const m of ids)
    await c.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: m,
        DBClusterIdentifier: id,
        Engine: 'aurora-postgresql',
        DBInstanceClass: 'db.r6g.large',
      }),
    );
  return ids;
}

async function describeCluster(region: string, id: string) {
  const r = await rds(region).send(new DescribeDBClustersCommand({ DBClusterIdentifier: id }));
  const d = r.DBClusters?.[0];
  return {
    endpoint: d?.Endpoint as string,
    writer: d?.DBClusterMembers?.find((m) => m.IsClusterWriter)?.DBInstanceIdentifier,
  };
}

async function replicas(context: string): Promise<string> {
  const out: string[] = [];
  for (const [ns, d] of [
    [api, 'hive-api'],
    [agents, 'agent-worker'],
  ] as const) {
    const r = await kubectl(['get', 'deploy', '-n', ns, d, '-o', 'jsonpath={.spec.replicas}/{.status.readyReplicas}'], {
      context,
    });
    out.push(r.stdout);
  }
  return out.join(' ');
}

async function pilotLight(): Promise<void> {
  for (const [ns, d] of [
    [api, 'hive-api'],
    [agents, 'agent-worker'],
  ] as const)
    await kubectl(['scale', 'deploy', '-n', ns, d, '--replicas=0'], { context: sandbox().drContext });
}

async function secret(context: string): Promise<Record<string, string>> {
  const r = await kubectl(['get', 'secret', '-n', api, 'hive-db', '-o', 'json'], { context });
  const data = (JSON.parse(r.stdout) as { data: Record<string, string> }).data;
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
}

let members: string[] = [];

beforeAll(async () => {
  const s = sandbox();
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: s.env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: s.env.AWS_SECRET_ACCESS_KEY,
  });
  members = await createCluster(s.drRegion, clusterId, 2);
  await createCluster(s.drRegion, soloClusterId, 1);
  const t = { region: s.region, endpointUrl: s.endpointUrl };
  await ensureInstanceWithReplica(t, s.region, instanceId, s.drRegion, replicaId);
  await ensureInstanceWithReplica(t, s.region, quietInstanceId, s.drRegion, quietReplicaId);
  for (const context of [s.context, s.drContext]) {
    const b = await cli(auroraCfg, ['--context', context, 'bootstrap', '-y']);
    expect(b.code, b.stderr).toBe(0);
  }
  await pilotLight();
});

describe('failover --mode cluster (Aurora)', () => {
  it('`failover check` refuses a cluster with no reader to promote (exit 1)', async () => {
    const r = await cli(soloCfg, ['failover', 'check']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(
      new RegExp(`FAIL dr database: cluster ${soloClusterId}: available, writer ${soloClusterId}-1, readers none`),
    );
  });

  it('a DR side that fails verification is rolled back to the primary; the cluster failover stands (exit 4)', async () => {
    const s = sandbox();
    const primaryBefore = await replicas(s.context);
    const writerBefore = (await describeCluster(s.drRegion, clusterId)).writer;
    // The platform's URL without hostaddr: the writer endpoint (moto's host name) does not resolve.
    const good = await secret(s.drContext);
    const u = new URL(good.url as string);
    u.search = '';
    const broken = { ...good, url: u.toString() };
    const patch = (data: Record<string, string>) =>
      kubectl(['patch', 'secret', '-n', api, 'hive-db', '--type=merge', '-p', JSON.stringify({ stringData: data })], {
        context: s.drContext,
      });
    await patch(broken);
    try {
      const r = await cli(auroraCfg, ['failover', '-y', '-o', 'json']);
      expect(r.code, r.stderr).toBe(4);
      const doc = JSON.parse(r.stdout);
      expect(doc.results.status).toBe('partial');
      expect(doc.manual).toEqual(['promote-db']);
      expect(doc.steps.find((x: { id: string }) => x.id === 'verify-target').error).toMatch(/does not answer at/);
      // Rolled back: primary up again (its pods Ready moments later), DR at 0, the DR Secret as it was;
      // the writer has moved for good.
      for (const [ns, d] of [
        [api, 'hive-api'],
        [agents, 'agent-worker'],
      ] as const)
        await kubectl(['rollout', 'status', '-n', ns, `deployment/${d}`, '--timeout=90s'], { context: s.context });
      expect(await replicas(s.context)).toBe(primaryBefore);
      expect((await replicas(s.drContext)).replace(/\/\d*/g, '/')).toBe('0/ 0/');
      expect((await secret(s.drContext)).url).toBe(broken.url);
      expect((await describeCluster(s.drRegion, clusterId)).writer).not.toBe(writerBefore);
    } finally {
      await patch(good);
    }
  });

  it('fails over with FailoverDBCluster, repoints the Secret to the writer endpoint, scales up, verifies', async () => {
    const s = sandbox();
    const before = await describeCluster(s.drRegion, clusterId);
    expect(before.writer).toBeDefined();
    const reader = members.find((m) => m !== before.writer) as string;
    const primaryBefore = await replicas(s.context);

    const check = await cli(auroraCfg, ['failover', 'check']);
    expect(check.code, check.stdout).toBe(0);
    expect(check.stdout).toContain(
      `ok   dr database: cluster ${clusterId}: available, writer ${before.writer}, readers ${reader}, writer endpoint ${before.endpoint}:`,
    );
    expect(check.stdout).toMatch(/ok {3}dr bootstrapped: /);

    // hivectl.yaml says aurora + clusterId: cluster mode is the default.
    const r = await cli(auroraCfg, ['failover', '--to', s.drRegion, '-y', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout).results;
    expect(rep.status).toBe('succeeded');
    expect(rep.rtoMs).toBeGreaterThan(0);
    expect(rep.steps.map((x: { id: string }) => x.id)).toEqual([
      'preflight',
      'fence-source',
      'promote-db',
      'repoint-endpoint',
      'scale-target',
      'verify-target',
    ]);
    expect(rep.promoted).toEqual({
      mode: 'cluster',
      instanceId: clusterId,
      endpoint: { host: before.endpoint, port: Number(new URL(s.pgUrl).port) },
      writer: reader,
      writerBefore: before.writer,
    });
    // Not measured for an in-cluster failover: unknown, with why, never a claimed 0.
    expect(rep.rpoMs).toBeNull();
    expect(rep.rpoSource).toMatch(/in-cluster failover/);
    // moto's cluster now has the other member as its writer.
    expect((await describeCluster(s.drRegion, clusterId)).writer).toBe(reader);
    // The DR Secret names the writer endpoint; verify reached PostgreSQL through that very URL.
    const sec = await secret(s.drContext);
    expect(sec.host).toBe(before.endpoint);
    expect(new URL(sec.url as string).hostname).toBe(before.endpoint);
    expect(new URL(sec.url as string).searchParams.get('hostaddr')).toBe('127.0.0.1');
    expect(await replicas(s.drContext)).toBe(primaryBefore);
    expect((await replicas(s.context)).replace(/\/\d*/g, '/')).toBe('0/ 0/');

    // Resuming after the failover (the writer already moved) must not fail over a second time.
    const again = await failoverCluster(
      { region: s.drRegion, endpointUrl: s.endpointUrl },
      s.drRegion,
      clusterId,
      new AbortController().signal,
      10_000,
      { writerBefore: before.writer },
    );
    expect(again).toMatchObject({ failedOver: false, writer: reader });

    const f = await cli(auroraCfg, ['failback', '-y']);
    expect(f.code, f.stderr).toBe(0);
    expect(await replicas(s.context)).toBe(primaryBefore);
    await pilotLight();
  });
});

describe('failover --mode replica: RPO from CloudWatch ReplicaLag', () => {
  it('reports the replica lag as the RPO in `failover check`, -o json and the report', async () => {
    const s = sandbox();
    const cw = new CloudWatchClient({ region: s.drRegion, endpoint: s.endpointUrl, credentials: creds });
    const now = Date.now();
    // What RDS publishes: AWS/RDS ReplicaLag (seconds) per replica; the newest one counts.
    await cw.send(
      new PutMetricDataCommand({
        Namespace: 'AWS/RDS',
        MetricData: [
          { ago: 200_000, v: 42 },
          { ago: 20_000, v: 7 },
        ].map((p) => ({
          MetricName: 'ReplicaLag',
          Dimensions: [{ Name: 'DBInstanceIdentifier', Value: replicaId }],
          Timestamp: new Date(now - p.ago),
          Value: p.v,
          Unit: 'Seconds',
        })),
      }),
    );

    const check = await cli(replicaCfg, ['failover', 'check', '--mode', 'replica']);
    expect(check.code, check.stdout).toBe(0);
    expect(check.stdout).toMatch(
      new RegExp(`ok {3}dr database: read replica ${replicaId}: .*, replica lag 7s \\(CloudWatch`),
    );

    const r = await cli(replicaCfg, ['failover', '--mode', 'replica', '-y', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout).results;
    expect(rep.rpoMs).toBe(7000);
    expect(rep.rpoSource).toMatch(new RegExp(`^replica lag of ${replicaId} \\(CloudWatch ReplicaLag at `));
    const back = await cli(replicaCfg, ['failback', '-y']);
    expect(back.code, back.stderr).toBe(0);

    // The table report says the same.
    const t = await cli(replicaCfg, ['failover', '--mode', 'replica', '-y']);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/RPO 7\.00s \(replica lag of /);
    const back2 = await cli(replicaCfg, ['failback', '-y']);
    expect(back2.code, back2.stderr).toBe(0);
    await pilotLight();
  });

  it('no ReplicaLag datapoint: RPO unknown with the reason, and the failover still succeeds', async () => {
    const check = await cli(quietCfg, ['failover', 'check', '--mode', 'replica']);
    expect(check.code, check.stdout).toBe(0);
    expect(check.stdout).toMatch(/replica lag unknown \(no CloudWatch datapoint in 5 min\)/);
    const r = await cli(quietCfg, ['failover', '--mode', 'replica', '-y', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout).results;
    expect(rep.status).toBe('succeeded');
    expect(rep.rpoMs).toBeNull();
    expect(rep.rpoSource).toMatch(/no CloudWatch ReplicaLag datapoint/);
    expect(r.stderr).toMatch(/RPO unknown/);
    const back = await cli(quietCfg, ['failback', '-y']);
    expect(back.code, back.stderr).toBe(0);
    await pilotLight();
  });
});

describe('chaos db-failover', () => {
  it('fails an Aurora cluster over under the hypothesis and says the failover is one-way', async () => {
    const s = sandbox();
    const ids = await createCluster(s.region, chaosClusterId, 2);
    const before = await describeCluster(s.region, chaosClusterId);
    const cfg = config({ kind: 'aurora', clusterId: chaosClusterId, url: auroraUrl() });

    const dry = await cli(cfg, ['chaos', 'db-failover', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect((await describeCluster(s.region, chaosClusterId)).writer).toBe(before.writer);

    const r = await cli(cfg, ['chaos', 'db-failover', '--duration', '1s', '-y', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout).results;
    expect(rep.deviated).toBe(false);
    expect(rep.actions).toHaveLength(1);
    const reader = ids.find((m) => m !== before.writer);
    expect(rep.actions[0]).toMatchObject({
      type: 'db-failover',
      targets: ['RDS database of hivectl.yaml (database.clusterId, else database.instanceId)'],
      detail: [
        `FailoverDBCluster ${chaosClusterId} (${s.region}): writer is now ${reader}`,
        expect.stringMatching(/^one-way: a database failover is not rolled back/),
      ],
    });
    expect((await describeCluster(s.region, chaosClusterId)).writer).toBe(reader);
    // The rollback step ran (strategy always) and had nothing to undo: the writer stays where it is.
    expect(rep.rollback).toMatchObject({ strategy: 'always', rolledBack: true, reverted: [] });
    expect(rep.after.every((p: { ok: boolean }) => p.ok)).toBe(true);

    // The journal names the action too.
    const runs = await cli(cfg, ['runs', 'show', JSON.parse(r.stdout).runId, '-o', 'json']);
    expect(runs.code, runs.stderr).toBe(0);
    expect(runs.stdout).toContain('chaos-action-1-db-failover');
  });

  it('an experiment naming a Multi-AZ instance reboots it with failover (the action id wins over the config)', async () => {
    const s = sandbox();
    await rds(s.region).send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: multiAzId,
        DBInstanceClass: 'db.t3.micro',
        Engine: 'postgres',
        AllocatedStorage: 20,
        MasterUsername: 'hive',
        MasterUserPassword: 'sandbox-only-password',
        MultiAZ: true,
      }),
    );
    // hivectl.yaml names a cluster; the experiment's instanceId must still win.
    const cfg = config({ kind: 'aurora', clusterId: chaosClusterId, url: auroraUrl() });
    const writer = (await describeCluster(s.region, chaosClusterId)).writer;
    const exp = join(dir, 'db-failover.yaml');
    writeFileSync(
      exp,
      stringify({
        metadata: { name: 'db-failover-maz' },
        spec: {
          duration: '1s',
          interval: '500ms',
          hypothesis: { probes: [{ type: 'ready-replicas', namespace: api, deployment: 'hive-api', min: 1 }] },
          method: [{ type: 'db-failover', instanceId: multiAzId }],
        },
      }),
    );
    const r = await cli(cfg, ['chaos', 'run', exp, '-y', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout).results;
    expect(rep.deviated).toBe(false);
    expect(rep.actions[0].targets).toEqual([`RDS instance ${multiAzId}`]);
    expect(rep.actions[0].detail[0]).toBe(
      `RebootDBInstance ${multiAzId} --force-failover (${s.region}): available again`,
    );
    expect(rep.actions[0].detail[1]).toMatch(/^one-way/);
    expect((await describeCluster(s.region, chaosClusterId)).writer).toBe(writer);
  });
});
