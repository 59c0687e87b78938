// `hivectl failover [--to REGION] [--mode replica|snapshot|cluster]`, `hivectl failover check`,
// `hivectl failback`: move the platform to the DR region and back, with measured RTO/RPO.
import type { Command } from 'commander';
import { Option } from 'commander';

type Mode = 'replica' | 'snapshot' | 'cluster' | 'none';

/** The default database mode from hivectl.yaml: Aurora -> cluster, a DR replica -> replica, an instance -> snapshot. */
export function defaultMode(db: {
  kind: string;
  drReplicaId?: string | undefined;
  instanceId?: string | undefined;
  clusterId?: string | undefined;
}): Mode {
  if (db.kind === 'aurora' && db.clusterId) return 'cluster';
  if (db.drReplicaId) return 'replica';
  if (db.instanceId) return 'snapshot';
  return 'none';
}

async function run(
  cmd: Command,
  direction: 'failover' | 'failback',
  opts: { to?: string; mode?: Mode },
): Promise<void> {
  const { loadCommandEnv, executeRunbook } = await import('../core/command-impl.js');
  const { failoverEnv, failoverRunbook } = await import('../runbooks/failover.js');
  const { failoverReport, failoverReportText } = await import('../report/failover.js');
  const env = await loadCommandEnv(cmd);
  const inputs = {
    direction,
    mode: opts.mode ?? (direction === 'failover' ? defaultMode(env.config.database) : ('none' as const)),
    ...(opts.to ? { to: opts.to } : {}),
    suffix: new Date().toISOString().replace(/[-:]/g, '').slice(0, 15).toLowerCase(),
  };
  // Spec from the configured sides; the run itself is anchored on the target cluster.
  const rb = failoverRunbook(inputs, env);
  await executeRunbook(await failoverEnv(inputs, env), rb, (o, e) => {
    const r = failoverReport(direction, o.runId, o.status, o.results);
    return e.mode.output === 'table' ? failoverReportText(r) : r;
  });
}

async function check(
  cmd: Command,
  direction: 'failover' | 'failback',
  opts: { to?: string; mode?: Mode },
): Promise<void> {
  const { loadCommandEnv } = await import('../core/command.js');
  const { failoverSpec } = await import('../runbooks/failover.js');
  const { preflightChecks } = await import('../steps/failover/steps.js');
  const { checksText } = await import('../report/failover.js');
  const env = await loadCommandEnv(cmd);
  const spec = failoverSpec(
    { direction, mode: opts.mode ?? defaultMode(env.config.database), ...(opts.to ? { to: opts.to } : {}) },
    env,
  );
  const ac = new AbortController();
  const ctx = {
    runId: 'check',
    signal: ac.signal,
    io: env.io,
    mode: env.mode,
    target: env.target,
    config: env.config,
    adapters: env.adapters,
    results: new Map<string, unknown>(),
    note() {},
    registerSecret() {},
  };
  const r = await preflightChecks(ctx, spec);
  const ok = r.checks.every((c) => c.ok || c.warn);
  env.io.result({ ok, ...r }, () => checksText(r.checks));
  if (!ok) process.exitCode = 1;
}

function flags(c: Command): Command {
  return c
    .option('--to <region>', 'region to move to (checked against aws.drRegion / aws.region)')
    .addOption(
      new Option('--mode <mode>', 'how the database is moved (default from hivectl.yaml)').choices([
        'replica',
        'snapshot',
        'cluster',
        'none',
      ]),
    );
}

export function register(program: Command): void {
  const fo = flags(
    program
      .command('failover')
      .description('fail over to the DR region: fence primary, promote the DR database, repoint, scale up, verify'),
  ).action(async (opts: { to?: string; mode?: Mode }, cmd: Command) => run(cmd, 'failover', opts));
  flags(fo.command('check').description('preflight only: is the DR side ready to take over? (exit 1 if not)')).action(
    async (opts: { to?: string; mode?: Mode }, cmd: Command) =>
      check(cmd, 'failover', { ...cmd.parent?.opts(), ...opts }),
  );
  const fb = flags(
    program.command('failback').description('fail back to the primary region (the reverse of failover)'),
  ).action(async (opts: { to?: string; mode?: Mode }, cmd: Command) => run(cmd, 'failback', opts));
  flags(fb.command('check').description('preflight only: is the primary side ready to take over again?')).action(
    async (opts: { to?: string; mode?: Mode }, cmd: Command) =>
      check(cmd, 'failback', { mode: 'none', ...cmd.parent?.opts(), ...opts }),
  );
}
