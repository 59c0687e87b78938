// The DR drill: chains the runbooks an SRE would run in a real incident, each as its own journalled
// run (so each plans against the state its predecessor left), and measures them against the SLOs.
//   full:            preflight -> backup -> chaos experiment -> restore into scratch targets -> failover -> failback
//   backup-restore:  preflight -> backup -> restore into scratch targets (rows and workspace files verified)
//   failover:        preflight -> failover -> failback
//   chaos:           preflight -> chaos experiment
// A phase that fails stops the drill (later phases: not run); its own rollback has already run.
import { builtinExperiment } from '../chaos/builtins.js';
import type { CommandEnv } from '../core/command.js';
import { parseDurationMs } from '../core/duration.js';
import type { RunReport } from '../core/runner.js';
import type { AnyStep, Runbook } from '../core/step.js';
import { type ChaosReport, chaosReport } from '../report/chaos.js';
import { type FailoverReport, failoverReport } from '../report/failover.js';
import { databaseUrl, drillPreflightStep, dropScratchDbStep, scratchDbStep } from '../steps/failover/drill.js';
import type { WorkspaceVerifyResult } from '../steps/failover/drill-workspaces.js';
import type { DbMode } from '../steps/failover/steps.js';
import { chaosRunbook } from './chaos.js';
import { failoverEnv, failoverRunbook } from './failover.js';

export const SCENARIOS = ['full', 'backup-restore', 'failover', 'chaos'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface DrillOptions {
  scenario: Scenario;
  failoverMode: DbMode;
  /** Kube context whose workloads the chaos experiment targets (default: the primary). */
  chaosIncludeUnlabelled?: boolean;
  chaosDuration?: string;
}

export interface PhaseReport {
  phase: string;
  runbook: string;
  runId: string;
  status: string;
  exitCode: number;
  durationMs: number;
  journal: string;
  steps: Array<{ id: string; title: string; status: string; durationMs?: number; error?: string }>;
  error?: string;
  /** CPU time of this hivectl process during the phase (user + system). */
  cpuMs?: number;
}

export interface Gate {
  name: string;
  /** False only when a measured value missed its target. */
  ok: boolean;
  /** Nothing could be measured (e.g. replica lag hivectl cannot read): shown as such, never as a pass. */
  unmeasured?: boolean;
  measured: string;
  target: string;
}

export interface DrillReport {
  scenario: Scenario;
  startedAt: string;
  durationMs: number;
  status: 'passed' | 'slo-missed' | 'failed';
  exitCode: number;
  phases: PhaseReport[];
  gates: Gate[];
  slo: { rtoMs: number; rpoMs: number };
  restore?: { rtoMs: number; rpoMs: number | null; backupId: string };
  /** Agent workspaces: backed up, restored into a scratch directory in the agent pods, verified file by file. */
  workspaces?: WorkspaceFigures;
  failover?: FailoverReport & { wallMs: number };
  failback?: FailoverReport & { wallMs: number };
  chaos?: ChaosReport;
  /** CPU time of this hivectl process during the drill (user + system). */
  cpuMs: number;
}

export interface WorkspaceFigures {
  /** Workspaces (one per agent pod) in the drill's backup, and the size of their tars. */
  backedUp: number;
  tarBytes: number;
  /** Restored and read back: pods, regular files, bytes of those files. */
  pods: number;
  files: number;
  bytes: number;
  /** Of those, how many were also checked against what `drill --sandbox` seeded. */
  seedChecked: number;
  /** True when every restored file matched (count + SHA-256); false with `problem` when not; absent: not restored. */
  verified?: boolean;
  problem?: string;
}

export type RunPhase = (rb: Runbook, env?: CommandEnv) => Promise<RunReport>;

function phaseReport(phase: string, r: RunReport): PhaseReport {
  return {
    phase,
    runbook: r.runbook,
    runId: r.runId,
    status: r.status,
    exitCode: r.exitCode,
    durationMs: r.durationMs,
    journal: r.journal,
    steps: r.steps.map((s) => ({
      id: s.id,
      title: s.title,
      status: s.status,
      ...(s.durationMs !== undefined ? { durationMs: s.durationMs } : {}),
      ...(s.error ? { error: s.error } : {}),
    })),
    ...(r.error ? { error: r.error.message } : {}),
  };
}

const sec = (ms: number) => `${(ms / 1000).toFixed(2)}s`;

/** Run the drill's phases one after the other through `run` (the engine), then evaluate the SLOs. */
export async function runDrill(env: CommandEnv, o: DrillOptions, run: RunPhase): Promise<DrillReport> {
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const cfg = env.config;
  const slo = { rtoMs: parseDurationMs(cfg.slo.rto, 'slo.rto'), rpoMs: parseDurationMs(cfg.slo.rpo, 'slo.rpo') };
  const stamp = new Date(t0).toISOString().replace(/[-:]/g, '').replace(/\..*/, '').toLowerCase();
  const rep: DrillReport = {
    scenario: o.scenario,
    startedAt: new Date(t0).toISOString(),
    durationMs: 0,
    status: 'passed',
    exitCode: 0,
    phases: [],
    gates: [],
    slo,
    cpuMs: 0,
  };
  const wants = (p: string) =>
    ({
      full: ['preflight', 'backup', 'chaos', 'restore', 'failover', 'failback'],
      'backup-restore': ['preflight', 'backup', 'restore'],
      failover: ['preflight', 'failover', 'failback'],
      chaos: ['preflight', 'chaos'],
    })[o.scenario].includes(p);

  let stopped = false;
  const phase = async (name: string, rb: Runbook, e?: CommandEnv): Promise<RunReport | undefined> => {
    if (stopped || !wants(name)) return undefined;
    const c0 = process.cpuUsage();
    const r = await run(rb, e);
    const c = process.cpuUsage(c0);
    rep.phases.push({ ...phaseReport(name, r), cpuMs: Math.round((c.user + c.system) / 1000) });
    if (r.status !== 'succeeded') stopped = true;
    return r;
  };

  await phase('preflight', {
    name: 'drill-preflight',
    title: 'Drill preflight',
    inputs: {},
    mutating: false,
    items: [drillPreflightStep()],
  });

  // Backup: the newest data, copied to the DR region.
  let backupId = '';
  let rpoReference: string | undefined;
  if (wants('backup') && !stopped) {
    const { newBackupId } = await import('../backup/ids.js');
    const { backupCreateRunbook } = await import('./backup-create.js');
    backupId = newBackupId(new Date());
    const r = await phase(
      'backup',
      backupCreateRunbook({
        backupId,
        startedAt: new Date().toISOString(),
        components: ['db', 'workspaces', 'k8s'],
        tags: { 'hivectl.dev/drill': 'true' },
        dbKind: cfg.database.kind,
      }),
    );
    rpoReference = (r?.results.manifest as { rpoReference?: string } | undefined)?.rpoReference;
    const ws = (r?.results.workspaces as { workspaces?: Array<{ size: number }> } | undefined)?.workspaces;
    if (r?.status === 'succeeded')
      rep.workspaces = {
        backedUp: ws?.length ?? 0,
        tarBytes: (ws ?? []).reduce((a, w) => a + w.size, 0),
        pods: 0,
        files: 0,
        bytes: 0,
        seedChecked: 0,
      };
  }

  // Chaos: kill an agent under the hypothesis "the API keeps serving".
  if (wants('chaos') && !stopped) {
    const exp = builtinExperiment(
      'pod-kill',
      {
        duration: o.chaosDuration ?? '10s',
        includeUnlabelled: o.chaosIncludeUnlabelled ?? false,
        minReady: 1,
      },
      cfg,
    );
    exp.metadata.name = 'drill-pod-kill';
    // The queue must not back up while an agent is down (seeded: 100 tasks).
    if (cfg.redis.url) exp.spec.hypothesis.probes.push({ type: 'queue-depth', max: 10_000 });
    exp.spec.hypothesis.probes.push(...cfg.drill.probes);
    const r = await phase('chaos', chaosRunbook(exp, { context: env.target.context }));
    if (r) rep.chaos = chaosReport(exp.metadata.name, r.runId, r.status, r.results);
  }

  // Restore into scratch targets: a scratch database on the same server, and a scratch directory in each
  // agent pod's workspace. Proves the backup restores, without touching live data.
  if (wants('restore') && !stopped && backupId) {
    const { restoreRunbook } = await import('./restore.js');
    const { sourceLocation } = await import('../backup/location.js');
    const { workspaceRestoreStep } = await import('../steps/exec/workspace-restore.js');
    const dw = await import('../steps/failover/drill-workspaces.js');
    const scratch = `hivectl_drill_${stamp.replace(/[^a-z0-9]/g, '')}`;
    const scratchWs = `.hivectl-drill-${stamp.replace(/[^a-z0-9]/g, '')}`;
    const location = (ctx: Parameters<typeof sourceLocation>[0]) => sourceLocation(ctx, undefined);
    const base = restoreRunbook({
      backupId,
      components: ['db', 'workspaces'],
      dbKind: cfg.database.kind === 'postgres' ? 'postgres' : cfg.database.kind,
      targetDb: databaseUrl(cfg.database.url ?? 'postgres://localhost/postgres', scratch),
      force: false,
      startedAt: new Date().toISOString(),
    });
    // Whatever these write lands in the scratch targets (or a temp file the restore removes), which the
    // scratch steps' own rollbacks remove: nothing stands after a rollback, so no "partial" (exit 4).
    const inScratch = new Set(['fetch-db-dump', 'restore-db', 'restore-workspaces']);
    const scratchOnly = <T extends AnyStep>(st: T): T =>
      inScratch.has(st.id) && !st.rollback ? { ...st, rollback: async () => {} } : st;
    // A scratch restore must not quiesce the live platform; workspaces go into the scratch directory.
    const items = base.items
      .filter((i) => !('id' in i) || !/^(un)?quiesce/.test(i.id))
      .map((i) => ('id' in i ? scratchOnly(i) : i))
      .flatMap((i) =>
        'id' in i && i.id === 'restore-workspaces'
          ? [
              dw.scratchWorkspacesStep(scratchWs),
              scratchOnly(
                workspaceRestoreStep({
                  backupId,
                  location,
                  dir: dw.scratchWorkspaceDir(cfg.backup.workspaceDir, scratchWs),
                }),
              ),
              dw.verifyWorkspacesStep({ backupId, location, scratch: scratchWs }),
            ]
          : [i],
      );
    const start = Date.now();
    const r = await phase('restore', {
      ...base,
      // Not `restore`: `hivectl resume` must not rebuild this run as a live restore (quiesce, live workspaces).
      name: 'drill-restore',
      title: `${base.title} into scratch database ${scratch} and workspace directory ${scratchWs}`,
      items: [scratchDbStep(scratch), ...items, dw.dropScratchWorkspacesStep(scratchWs), dropScratchDbStep(scratch)],
    });
    if (rep.workspaces && r) {
      const v = r.results['verify-workspaces'] as WorkspaceVerifyResult | undefined;
      const failed = r.steps.find((s) => s.id === 'verify-workspaces' && s.status === 'failed');
      if (v)
        Object.assign(rep.workspaces, {
          pods: v.pods,
          files: v.files,
          bytes: v.bytes,
          seedChecked: v.seedChecked,
          verified: true,
        });
      else if (failed)
        Object.assign(rep.workspaces, { verified: false, problem: failed.error ?? 'verification failed' });
    }
    if (r?.status === 'succeeded')
      rep.restore = {
        backupId,
        rtoMs: r.durationMs,
        rpoMs: rpoReference ? start - Date.parse(rpoReference) : null,
      };
  }

  // Failover to the DR region and back.
  if (wants('failover') && !stopped) {
    const i = { direction: 'failover' as const, mode: o.failoverMode, suffix: stamp };
    const r = await phase('failover', failoverRunbook(i, env), await failoverEnv(i, env));
    if (r) rep.failover = { ...failoverReport('failover', r.runId, r.status, r.results), wallMs: r.durationMs };
  }
  if (wants('failback') && !stopped) {
    const i = { direction: 'failback' as const, mode: 'none' as const, suffix: stamp };
    const r = await phase('failback', failoverRunbook(i, env), await failoverEnv(i, env));
    if (r) rep.failback = { ...failoverReport('failback', r.runId, r.status, r.results), wallMs: r.durationMs };
  }

  // SLO gates.
  const gate = (name: string, measured: number | null, target: number, note = '') => {
    if (measured === null)
      rep.gates.push({
        name,
        ok: true,
        unmeasured: true,
        measured: `unknown${note ? ` (${note})` : ''}`,
        target: `<= ${sec(target)}`,
      });
    else rep.gates.push({ name, ok: measured <= target, measured: sec(measured), target: `<= ${sec(target)}` });
  };
  if (rep.restore) {
    gate('restore RTO', rep.restore.rtoMs, slo.rtoMs);
    gate('restore RPO (backup age at restore)', rep.restore.rpoMs, slo.rpoMs);
  }
  if (rep.failover?.status === 'succeeded') {
    gate('failover RTO (start to DR verified)', rep.failover.wallMs, slo.rtoMs);
    gate('failover RPO', rep.failover.rpoMs, slo.rpoMs, rep.failover.rpoSource);
  }
  const ws = rep.workspaces;
  if (ws?.verified !== undefined)
    rep.gates.push({
      name: 'restored agent workspaces match (file count + SHA-256)',
      ok: ws.verified,
      ...(ws.verified && ws.pods === 0 ? { unmeasured: true } : {}),
      measured: !ws.verified
        ? 'mismatch'
        : ws.pods === 0
          ? 'unknown (no agent workspaces in the backup)'
          : `${ws.files} files in ${ws.pods} pod(s) match`,
      target: 'every file matches',
    });
  if (rep.failback?.status === 'succeeded') gate('failback RTO', rep.failback.wallMs, slo.rtoMs);
  if (rep.chaos && rep.chaos.status === 'succeeded')
    rep.gates.push({
      name: `chaos hypothesis holds (${rep.chaos.before?.map((p) => p.name).join('; ') || 'API keeps >= 1 ready replica while an agent is killed'})`,
      ok: !rep.chaos.deviated,
      measured: rep.chaos.deviated ? 'deviated' : 'held',
      target: 'held',
    });

  const failedPhase = rep.phases.find((p) => p.status !== 'succeeded');
  rep.status = failedPhase ? 'failed' : rep.gates.some((g) => !g.ok) ? 'slo-missed' : 'passed';
  rep.exitCode = failedPhase ? failedPhase.exitCode || 1 : rep.status === 'slo-missed' ? 3 : 0;
  rep.durationMs = Date.now() - t0;
  const c = process.cpuUsage(cpu0);
  rep.cpuMs = Math.round((c.user + c.system) / 1000);
  return rep;
}
