// `hivectl chaos run FILE | pod-kill | node-failure | network-partition | dependency-outage |
// db-failover | cleanup | abort`. Experiments run as runbooks (journalled, resumable); cleanup and
// abort work from the fault ledger and the labels every fault carries.
import type { Command } from 'commander';
import { Option } from 'commander';

interface CommonFlags {
  duration?: string;
  maxUnavailable?: string;
  includeUnlabelled?: boolean;
  rollbackStrategy?: 'always' | 'deviated' | 'never';
  chaosContext?: string;
  minReady?: string;
}

function common(c: Command): Command {
  return c
    .option('--duration <d>', 'how long the faults stay while the hypothesis is watched (e.g. 30s)')
    .option('--max-unavailable <n>', 'blast radius: pods of a target that may be down at once (count or %)')
    .option('--include-unlabelled', 'also target pods/nodes without the chaos.hive.dev/enabled=true opt-in label')
    .addOption(
      new Option('--rollback-strategy <when>', 'when to roll the faults back').choices(['always', 'deviated', 'never']),
    )
    .option('--chaos-context <name>', 'kube context of the cluster under test (default: --context)');
}

async function runExperiment(
  cmd: Command,
  load: (cfg: import('../core/config.js').HivectlConfig) => Promise<import('../chaos/schema.js').Experiment>,
  flags: CommonFlags,
): Promise<void> {
  const { runRunbookCommand } = await import('../core/command.js');
  const { chaosRunbook } = await import('../runbooks/chaos.js');
  const { chaosReport, chaosReportText } = await import('../report/chaos.js');
  let name = '';
  const outcome = await runRunbookCommand(
    cmd,
    async (env) => {
      const exp = await load(env.config);
      if (flags.duration) exp.spec.duration = flags.duration;
      if (flags.maxUnavailable)
        exp.spec.maxUnavailable = /%$/.test(flags.maxUnavailable) ? flags.maxUnavailable : Number(flags.maxUnavailable);
      if (flags.includeUnlabelled) exp.spec.includeUnlabelled = true;
      if (flags.rollbackStrategy) exp.spec.rollbackStrategy = flags.rollbackStrategy;
      const { inWindow } = await import('../chaos/schema.js');
      if (!inWindow(exp.spec.windows)) {
        const { RefusedError } = await import('../core/errors.js');
        throw new RefusedError(`experiment ${exp.metadata.name} may only run in ${exp.spec.windows.join(', ')} (UTC)`, {
          hint: 'run it inside one of its time windows, or change spec.windows',
        });
      }
      name = exp.metadata.name;
      return chaosRunbook(exp, { context: flags.chaosContext ?? env.target.context });
    },
    (o, env) => {
      const rep = chaosReport(name, o.runId, o.status, o.results);
      return env.mode.output === 'table' ? chaosReportText(rep) : rep;
    },
  );
  if (outcome.status === 'succeeded') {
    const rep = chaosReport(name, outcome.runId, outcome.status, outcome.results);
    if (rep.deviated) {
      process.stderr.write(`hivectl: the steady-state hypothesis deviated (exit 3)\n`);
      process.exitCode = 3;
    }
  }
}

export function register(program: Command): void {
  const chaos = program
    .command('chaos')
    .description('chaos experiments with a steady-state hypothesis and guaranteed cleanup');

  common(
    chaos
      .command('run')
      .description('run an experiment from a YAML file (see docs/commands/chaos.md for the schema)')
      .argument('<file>', 'experiment YAML'),
  ).action(async (file: string, flags: CommonFlags, cmd: Command) => {
    await runExperiment(
      cmd,
      async () => {
        const { readFile } = await import('node:fs/promises');
        const { parseExperiment, parseYaml } = await import('../chaos/schema.js');
        const { UsageError } = await import('../core/errors.js');
        let doc: unknown;
        try {
          doc = parseYaml(await readFile(file, 'utf8'));
        } catch (e) {
          throw new UsageError(`cannot read experiment ${file}: ${(e as Error).message}`);
        }
        try {
          return parseExperiment(doc);
        } catch (e) {
          throw new UsageError(`${file}: ${(e as Error).message}`, {
            hint: 'see docs/commands/chaos.md for the experiment schema',
          });
        }
      },
      flags,
    );
  });

  const builtin = (name: string, desc: string, extra: (c: Command) => Command) =>
    common(extra(chaos.command(name).description(desc)))
      .option('--min-ready <n>', 'hypothesis: the API keeps at least N ready replicas (default 1)')
      .action(async (flags: CommonFlags & Record<string, unknown>, cmd: Command) => {
        await runExperiment(
          cmd,
          async (cfg) => {
            const { builtinExperiment } = await import('../chaos/builtins.js');
            return builtinExperiment(
              name as never,
              {
                ...(flags as object),
                ...(typeof flags.namespaceTarget === 'string' ? { namespace: flags.namespaceTarget } : {}),
                ...(flags.minReady ? { minReady: Number(flags.minReady) } : {}),
              } as never,
              cfg,
            );
          },
          flags,
        );
      });

  builtin('pod-kill', 'kill a share of the pods matching a selector', (c) =>
    c
      .option('--namespace-target <ns>', 'namespace of the pods (default: the agents namespace)')
      .option('-l, --selector <sel>', 'pod label selector (default: the agent workers)')
      .option('--count <n>', 'pods to kill (count or %, default 1)'),
  );
  builtin('node-failure', 'make a node fail: cordon + evict, or stop its KWOK heartbeats (sandbox)', (c) =>
    c
      .option('--node <name>', 'node to fail')
      .option('-l, --selector <sel>', 'node label selector (first eligible node)')
      .addOption(new Option('--mode <mode>', 'how the node fails').choices(['cordon', 'kwok']).default('cordon')),
  );
  builtin('network-partition', 'partition two workloads with a NetworkPolicy', (c) =>
    c
      .option('--namespace-target <ns>', 'namespace of both sides')
      .option('--from <sel>', 'pods on one side (default: the agent workers)')
      .option('--to <sel>', 'pods on the other side (default: everything)'),
  );
  builtin('dependency-outage', 'deny egress to PostgreSQL or Redis with a NetworkPolicy', (c) =>
    c
      .option('--namespace-target <ns>', 'namespace of the pods cut off')
      .option('-l, --selector <sel>', 'pods cut off (default: every pod of the namespace)')
      .addOption(new Option('--dependency <dep>', 'what to cut').choices(['postgres', 'redis']).default('postgres')),
  );
  builtin('db-failover', 'force a database failover (RDS reboot with failover, Aurora FailoverDBCluster)', (c) => c);

  chaos
    .command('cleanup')
    .description('remove every fault hivectl created (from the ledger and by label), or only some runs')
    .option('--run <id...>', 'only these runs')
    .option('--expired', 'only faults whose expiry has passed')
    .option('--chaos-context <name>', 'kube context of the cluster under test (default: --context)')
    .action(async (opts: { run?: string[]; expired?: boolean; chaosContext?: string }, cmd: Command) => {
      const { loadCommandEnv } = await import('../core/command.js');
      const { cleanupFaults, releaseDeadRunLock } = await import('../chaos/faults.js');
      const env = await loadCommandEnv(cmd);
      const k = await env.adapters.k8s(opts.chaosContext ?? env.target.context);
      const r = await cleanupFaults(k, env.target.namespace, {
        ...(opts.run ? { runIds: opts.run } : {}),
        ...(opts.expired ? { expiredOnly: true } : {}),
      });
      // A killed experiment also left its run lock behind: release it once it stopped renewing.
      const released = r.errors.length ? undefined : await releaseDeadRunLock(k, env.target.namespace, r.runs);
      if (released) r.reverted.push(`released the run lock held by ${released}`);
      env.io.result(
        r,
        () =>
          [
            `runs: ${r.runs.join(', ') || '(none)'}`,
            ...r.reverted.map((x) => `  ${x}`),
            ...r.errors.map((x) => `  ERROR ${x}`),
          ].join('\n') + '\n',
      );
      if (r.errors.length) process.exitCode = 1;
    });

  chaos
    .command('abort')
    .description('kill switch: stop every running experiment against the cluster and remove all faults')
    .option('--run <id...>', 'only these runs')
    .option('--chaos-context <name>', 'kube context of the cluster under test (default: --context)')
    .action(async (opts: { run?: string[]; chaosContext?: string }, cmd: Command) => {
      const { loadCommandEnv } = await import('../core/command.js');
      const { cleanupFaults, markAborted } = await import('../chaos/faults.js');
      const env = await loadCommandEnv(cmd);
      const k = await env.adapters.k8s(opts.chaosContext ?? env.target.context);
      const aborted = await markAborted(k, env.target.namespace, opts.run);
      const r = await cleanupFaults(k, env.target.namespace, opts.run ? { runIds: opts.run } : {});
      const out = { aborted, ...r };
      env.io.result(
        out,
        () =>
          [
            `aborted: ${aborted.join(', ') || '(none running)'}`,
            ...r.reverted.map((x) => `  ${x}`),
            ...r.errors.map((x) => `  ERROR ${x}`),
          ].join('\n') + '\n',
      );
      if (r.errors.length) process.exitCode = 1;
    });
}
