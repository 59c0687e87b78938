// `hivectl drill [--scenario full|backup-restore|failover|chaos] [--report FILE] [--format ...]
// [--sandbox]`: a scripted DR drill with measured RTO/RPO against the SLOs; exit 3 when one is missed.
import type { Command } from 'commander';
import { Option } from 'commander';

interface DrillFlags {
  scenario: 'full' | 'backup-restore' | 'failover' | 'chaos';
  report?: string;
  format?: 'junit' | 'markdown' | 'json';
  sandbox?: boolean;
  mode?: 'replica' | 'snapshot' | 'cluster' | 'none';
  includeUnlabelled?: boolean;
  chaosDuration?: string;
}

export function register(program: Command): void {
  program
    .command('drill')
    .description('run a DR drill (backup, chaos, restore, failover) and report RTO/RPO against the SLOs')
    .addOption(
      new Option('--scenario <name>', 'what to drill')
        .choices(['full', 'backup-restore', 'failover', 'chaos'])
        .default('full'),
    )
    .option('--report <file>', 'write the report here (default with --sandbox: ./hivectl-drill-report.md)')
    .addOption(
      new Option('--format <format>', 'report format (default: from the file extension, else markdown)').choices([
        'junit',
        'markdown',
        'json',
      ]),
    )
    .option('--sandbox', 'bring up the local sandbox, bootstrap both clusters, seed data, then drill it')
    .addOption(
      new Option('--mode <mode>', 'failover database mode (default from hivectl.yaml)').choices([
        'replica',
        'snapshot',
        'cluster',
        'none',
      ]),
    )
    .option('--include-unlabelled', 'let the chaos experiment target pods without the opt-in label')
    .option('--chaos-duration <d>', 'how long the chaos fault stays (default 10s)')
    .action(async (flags: DrillFlags, cmd: Command) => {
      const root = cmd.parent ?? cmd;
      let sc: import('../runbooks/drill-sandbox.js').SandboxDrillConfig | undefined;
      if (flags.sandbox) {
        const { prepareSandboxConfig } = await import('../runbooks/drill-sandbox.js');
        process.stderr.write('drill: bringing the sandbox up...\n');
        sc = await prepareSandboxConfig((m) => process.stderr.write(`sandbox: ${m}\n`));
        // The SDKs and tools read their endpoints and dummy credentials from the environment.
        Object.assign(process.env, sc.env);
        // The sandbox is throwaway: its own config, and no confirmation prompts.
        root.setOptionValue('config', sc.configPath);
        root.setOptionValue('yes', true);
        process.stderr.write(`drill: config ${sc.configPath}\n`);
      }
      const { loadCommandEnv, describeTarget } = await import('../core/command-impl.js');
      const { runRunbook } = await import('../core/runner.js');
      const { k8sLeaseLock } = await import('../core/lock.js');
      const env = await loadCommandEnv(cmd);
      const io = env.io as import('../core/io-impl.js').IoHostImpl;
      // Refuse up front rather than after the backup: later phases are destructive.
      if (!env.mode.yes && !env.mode.dryRun && flags.scenario !== 'chaos' && !io.isTTY) {
        const { RefusedError } = await import('../core/errors.js');
        throw new RefusedError(`the ${flags.scenario} drill quiesces, restores or fails over: it needs confirmation`, {
          hint: 'pass --yes (or run it on a terminal to be asked)',
        });
      }
      const run = (rb: import('../core/step.js').Runbook, e: import('../core/command.js').CommandEnv = env) =>
        runRunbook({
          runbook: rb,
          io,
          mode: e.mode,
          target: e.target,
          config: e.config,
          adapters: e.adapters,
          journalDir: e.journalDir,
          lock: k8sLeaseLock(e.target.namespace),
          describeTarget: (ctx) => describeTarget(ctx, rb),
          handleSignals: true,
        });
      if (sc) {
        const { sandboxSetup } = await import('../runbooks/drill-sandbox.js');
        const setup = await sandboxSetup(env, sc, run);
        const bad = setup.find((r) => r.status !== 'succeeded');
        if (bad) {
          io.error(
            `sandbox setup failed in ${bad.runbook}: ${bad.error?.message ?? bad.status} (journal ${bad.journal})`,
          );
          process.exitCode = bad.exitCode || 1;
          return;
        }
      }
      const { runDrill } = await import('../runbooks/drill.js');
      const { defaultMode } = await import('./failover.js');
      const rep = await runDrill(
        env,
        {
          scenario: flags.scenario,
          failoverMode: flags.mode ?? defaultMode(env.config.database),
          ...(flags.includeUnlabelled ? { chaosIncludeUnlabelled: true } : {}),
          ...(flags.chaosDuration ? { chaosDuration: flags.chaosDuration } : {}),
        },
        run,
      );
      const { renderDrill, drillSummary } = await import('../report/drill.js');
      const file = flags.report ?? (flags.sandbox ? 'hivectl-drill-report.md' : undefined);
      if (file) {
        const format = flags.format ?? (/\.xml$/i.test(file) ? 'junit' : /\.json$/i.test(file) ? 'json' : 'markdown');
        const { writeFileSync } = await import('node:fs');
        writeFileSync(file, renderDrill(rep, format));
        io.info(`drill report (${format}) written to ${file}`);
      }
      if (env.mode.output === 'table') io.result(drillSummary(rep), (d) => String(d));
      else io.result(rep);
      process.exitCode = rep.exitCode;
    });
}
