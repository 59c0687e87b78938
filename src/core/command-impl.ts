// The engine side of command.ts: resolve config, target, mode, IO and adapters from the flags, run a
// runbook through the runner, print its outcome (stdout) and errors (stderr), set the exit code.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { createAdapters } from '../adapters/index.js';
import type { CommandEnv, RunOutcome } from './command.js';
import { formatDuration, parseDurationMs } from './duration.js';
import { UsageError } from './errors.js';
import { createIoHost, type IoHostImpl } from './io-impl.js';
import { defaultJournalDir, type JournalRecord } from './journal.js';
import { k8sLeaseLock } from './lock.js';
import { type RunReport, runRunbook } from './runner.js';
import type { Ctx, Mode, OutputFormat, Runbook, Target } from './step.js';

const DEFAULT_TIMEOUT = '5m';
const SECRET_VAR = /PASS|SECRET|TOKEN|KEY|CRED|AUTH/i;

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Drop undefined values so Target prints (and journals) cleanly. */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export function modeFromOpts(o: Record<string, unknown>): Mode {
  const output = (str(o.output) ?? 'table') as OutputFormat;
  if (!['table', 'json', 'yaml'].includes(output)) throw new UsageError(`-o ${output}: use table, json or yaml`);
  const rollback = (str(o.rollback) ?? 'auto') as Mode['rollback'];
  if (!['auto', 'never', 'always'].includes(rollback))
    throw new UsageError(`--rollback ${rollback}: use auto, never or always`);
  return {
    dryRun: Boolean(o.dryRun),
    yes: Boolean(o.yes),
    output,
    verbose: Boolean(o.verbose),
    quiet: Boolean(o.quiet),
    rollback,
    timeoutMs: parseDurationMs(str(o.timeout) ?? DEFAULT_TIMEOUT, '--timeout'),
    forceUnlock: Boolean(o.forceUnlock),
  };
}

export function journalDirFromOpts(o: Record<string, unknown>, env = process.env): string {
  const flag = str(o.journalDir);
  return flag ? resolve(flag) : defaultJournalDir(env);
}

/** IO only (commands that print but run no runbook: runs, runbook show). */
export async function ioFromOpts(o: Record<string, unknown>): Promise<IoHostImpl> {
  const output = (str(o.output) ?? 'table') as OutputFormat;
  const io = createIoHost({
    format: output,
    verbose: Boolean(o.verbose),
    quiet: Boolean(o.quiet),
    color: o.color !== false,
  });
  await io.ready();
  return io;
}

export async function loadCommandEnv(cmd: Command): Promise<CommandEnv> {
  const o = cmd.optsWithGlobals() as Record<string, unknown>;
  const mode = modeFromOpts(o);
  const { loadConfigFromProcess } = await import('./config-load.js');
  const { config, expanded } = await loadConfigFromProcess(o);
  const target: Target = compact({
    kubeconfig: config.cluster.kubeconfig,
    context: config.cluster.context,
    namespace: config.cluster.namespace,
    region: config.aws.region,
    drRegion: config.aws.drRegion,
    endpointUrl: config.aws.endpointUrl,
    profile: config.aws.profile,
  });
  const io = createIoHost({ format: mode.output, verbose: mode.verbose, quiet: mode.quiet, color: o.color !== false });
  await io.ready();
  // Secrets pulled into hivectl.yaml through ${VAR} never reach the journal or the output.
  for (const vars of Object.values(expanded ?? {}))
    for (const v of vars) if (SECRET_VAR.test(v)) io.redactor.add(process.env[v]);
  return { config, target, mode, io, adapters: createAdapters(target), journalDir: journalDirFromOpts(o) };
}

export async function runRunbookCommand(
  cmd: Command,
  build: (env: CommandEnv) => Runbook | Promise<Runbook>,
  summarize?: (outcome: RunOutcome, env: CommandEnv) => unknown,
): Promise<RunOutcome> {
  const env = await loadCommandEnv(cmd);
  const runbook = await build(env);
  return executeRunbook(env, runbook, summarize);
}

/** Lines saying where the run points; the cluster line needs only the kubeconfig, no request. */
export async function describeTarget(ctx: Ctx, rb: Runbook): Promise<string[]> {
  const t = ctx.target;
  const lines: string[] = [];
  if (rb.lock !== false) {
    try {
      const k = await ctx.adapters.k8s();
      lines.push(`cluster: context ${k.contextName} (${k.server}), namespace ${t.namespace}`);
    } catch (e) {
      // A runbook that needs the cluster fails on its first step with the full explanation.
      lines.push(`cluster: none (${(e as Error).message})`);
    }
  }
  const aws = [
    t.region ? `region ${t.region}` : undefined,
    t.drRegion ? `DR region ${t.drRegion}` : undefined,
    t.endpointUrl ? `endpoint ${t.endpointUrl}` : undefined,
    t.profile ? `profile ${t.profile}` : undefined,
  ].filter(Boolean);
  if (aws.length) lines.push(`aws: ${aws.join(', ')}`);
  return lines;
}

/** Run a built runbook with a resolved env; prints the outcome and sets process.exitCode. */
export async function executeRunbook(
  env: CommandEnv,
  runbook: Runbook,
  summarize?: (outcome: RunOutcome, env: CommandEnv) => unknown,
  extra: { runId?: string; resume?: { records: JournalRecord[]; fromStep?: string } } = {},
): Promise<RunOutcome> {
  const io = env.io as IoHostImpl;
  const report = await runRunbook({
    runbook,
    io,
    mode: env.mode,
    target: env.target,
    config: env.config,
    adapters: env.adapters,
    journalDir: env.journalDir,
    lock: k8sLeaseLock(env.target.namespace),
    describeTarget: (ctx) => describeTarget(ctx, runbook),
    handleSignals: true,
    ...(extra.runId ? { runId: extra.runId } : {}),
    ...(extra.resume ? { resume: extra.resume } : {}),
  });
  const outcome: RunOutcome = {
    runId: report.runId,
    status: report.status,
    results: report.results,
    exitCode: report.exitCode,
  };
  let shaped: unknown = report.results;
  if (summarize) {
    try {
      shaped = summarize(outcome, env);
    } catch (e) {
      io.warn(`could not summarise the results: ${(e as Error).message}`);
    }
  }
  printReport(io, report, shaped);
  process.exitCode = report.exitCode;
  return outcome;
}

export function reportDocument(report: RunReport, results: unknown): Record<string, unknown> {
  return {
    runId: report.runId,
    runbook: report.runbook,
    status: report.status,
    exitCode: report.exitCode,
    durationMs: report.durationMs,
    journal: report.journal,
    plan: report.plan,
    steps: report.steps,
    results,
    ...(report.error ? { error: report.error } : {}),
    ...(report.manual ? { manual: report.manual } : {}),
  };
}

const MARK: Record<string, string> = {
  succeeded: '✔',
  restored: '✔',
  skipped: '-',
  failed: '✖',
  'rolled-back': '↺',
  'rollback-failed': '✖',
  'not-run': ' ',
  pending: ' ',
};

export function printReport(io: IoHostImpl, report: RunReport, results: unknown): void {
  if (report.error) {
    io.error(report.error.message);
    if (report.error.hint) io.line(`  -> ${report.error.hint}`);
    if (report.exitCode !== 0) io.line(`  journal: ${report.journal}`);
  }
  if (io.format !== 'table') {
    io.result(reportDocument(report, results));
    return;
  }
  const c = io.chalk;
  const head =
    report.exitCode === 0
      ? c.green(report.status)
      : report.exitCode === 3
        ? c.yellow(report.status)
        : c.red(report.status);
  const lines = [
    `${report.title}: ${head} in ${formatDuration(report.durationMs)} (run ${report.runId}, exit ${report.exitCode})`,
  ];
  if (report.status !== 'planned' && !io.quiet) {
    const w = Math.max(...report.steps.map((s) => s.id.length), 4);
    for (const s of report.steps) {
      const extra =
        s.status === 'failed' || s.status === 'rollback-failed'
          ? `: ${s.error ?? ''}`
          : s.durationMs !== undefined
            ? ` ${formatDuration(s.durationMs)}`
            : '';
      lines.push(`  ${MARK[s.status] ?? ' '} ${s.id.padEnd(w)}  ${s.status}${extra}`);
    }
  }
  const body = renderResults(results);
  if (body) lines.push(body);
  io.out(`${lines.join('\n')}\n`);
}

function renderResults(r: unknown): string {
  if (r === undefined || r === null) return '';
  if (typeof r === 'string') return r;
  if (typeof r !== 'object') return String(r);
  const entries = Object.entries(r as Record<string, unknown>).filter(([, v]) => v !== undefined && v !== null);
  if (!entries.length) return '';
  return entries.map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join('\n');
}
