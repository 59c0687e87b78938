// The runner: plan everything, show the plan, confirm, lock, apply + verify, roll back on failure or
// abort, and journal every phase. It never decides what a command prints as its result; it returns a
// RunReport and the command layer (command-impl.ts) renders it.
import type { HivectlConfig } from './config.js';
import { formatDuration } from './duration.js';
import {
  AbortedError,
  ExitCode,
  errorMessage,
  GateError,
  HivectlError,
  isHivectlError,
  RefusedError,
  StepError,
} from './errors.js';
import type { IoHostImpl } from './io-impl.js';
import { Journal, type JournalRecord, newRunId, summarizeJournal } from './journal.js';
import { holderIdentity, type LockHandle, type LockProvider } from './lock.js';
import { type PlanEntry, renderPlanLines, renderPlanTable } from './plan-render.js';
import { createProgress, type Progress, type ProgressItem } from './progress.js';
import { installSignalHandlers, type SignalGuard } from './signals.js';
import {
  type AnyStep,
  type Ctx,
  flattenSteps,
  isParallel,
  type Mode,
  type Plan,
  type Runbook,
  type Target,
} from './step.js';

export type RunStatus =
  | 'succeeded'
  | 'planned'
  | 'failed'
  | 'rolled-back'
  | 'partial'
  | 'aborted'
  | 'refused'
  | 'rollback-failed';

export interface StepReport {
  id: string;
  title: string;
  status: 'pending' | 'skipped' | 'restored' | 'succeeded' | 'failed' | 'rolled-back' | 'rollback-failed' | 'not-run';
  durationMs?: number;
  result?: unknown;
  error?: string;
}

export interface RunReport {
  runId: string;
  runbook: string;
  title: string;
  status: RunStatus;
  exitCode: number;
  plan: PlanEntry[];
  steps: StepReport[];
  results: Record<string, unknown>;
  journal: string;
  durationMs: number;
  /** The error that ended the run (failed step, refusal, abort), already redacted for display. */
  error?: { message: string; hint?: string; step?: string; exitCode: number };
  /** Steps whose rollback failed or that cannot be rolled back: what an operator must look at. */
  manual?: string[];
}

export interface ResumeState {
  records: JournalRecord[];
  fromStep?: string;
}

export interface RunOptions {
  runbook: Runbook;
  io: IoHostImpl;
  mode: Mode;
  target: Target;
  config: HivectlConfig;
  adapters: Ctx['adapters'];
  journalDir: string;
  /** Reuse a run id (resume). */
  runId?: string;
  resume?: ResumeState;
  /** Mutating runbooks take this lock (absent: no lock, e.g. unit tests). */
  lock?: LockProvider;
  /** Lines describing the resolved target (cluster + server, namespace, regions), printed before any change. */
  describeTarget?: (ctx: Ctx) => Promise<string[]>;
  /** Install SIGINT/SIGTERM handlers for the run (the CLI does; tests abort through `signal`). */
  handleSignals?: boolean;
  /** An external abort (tests). */
  signal?: AbortSignal;
  user?: string;
}

interface Completed {
  step: AnyStep;
  result: unknown;
  entry: PlanEntry | undefined;
}

const READ_ONLY_ACTIONS = new Set(['read', 'none', 'skip']);

function entryChanges(e: PlanEntry | undefined): boolean {
  if (!e) return true; // restored step: we cannot tell, assume it changed something
  return e.changes.some((c) => !READ_ONLY_ACTIONS.has(c.action));
}

/** The exit code a failure maps to (before rollback is taken into account). */
function failureCode(err: unknown): number {
  if (err instanceof AbortedError) return err.exitCode;
  if (err instanceof GateError || err instanceof RefusedError) return err.exitCode;
  if (isHivectlError(err) && err.exitCode === ExitCode.usage) return ExitCode.usage;
  return ExitCode.stepFailed;
}

function describeError(err: unknown): { message: string; hint?: string } {
  const message = errorMessage(err);
  const hint = isHivectlError(err) ? err.hint : undefined;
  return hint ? { message, hint } : { message };
}

export async function runRunbook(o: RunOptions): Promise<RunReport> {
  const { runbook, io, mode } = o;
  const started = Date.now();
  const runId = o.runId ?? newRunId();
  const journal = Journal.open(o.journalDir, runId, io.redactor);
  const controller = new AbortController();
  const user = o.user ?? (await import('./lock.js')).currentUser();
  const { hostname } = await import('node:os');
  const steps = flattenSteps(runbook);
  const groupOf = new Map<string, string>();
  runbook.items.forEach((item, i) => {
    if (isParallel(item)) for (const s of item.parallel) groupOf.set(s.id, item.title ?? `group ${i + 1}`);
  });
  const ids = new Set<string>();
  for (const s of steps) {
    if (ids.has(s.id))
      throw new HivectlError(ExitCode.usage, `runbook ${runbook.name} has two steps with id "${s.id}"`);
    ids.add(s.id);
  }

  let guard: SignalGuard | undefined;
  const onExternalAbort = () => controller.abort(o.signal?.reason ?? new AbortedError('SIGINT'));
  if (o.signal) {
    if (o.signal.aborted) onExternalAbort();
    else o.signal.addEventListener('abort', onExternalAbort, { once: true });
  }
  if (o.handleSignals) {
    guard = installSignalHandlers(controller, {
      onFirst: (sig) => {
        journal.write('note', { signal: sig, message: `${sig} received: stopping, then rolling back` });
        io.line(`${sig} received: stopping after the current step, then rolling back (send it again to exit at once)`);
      },
      onHardExit: (sig) => {
        journal.write('note', { signal: sig, message: `second ${sig}: exited at once, rollback not finished` });
        journal.close();
        process.stderr.write(
          `hivectl: exited at once; the journal ${journal.path} says what stands (hivectl resume ${runId})\n`,
        );
      },
    });
  }

  const ctx: Ctx = {
    runId,
    signal: controller.signal,
    io,
    mode,
    target: o.target,
    config: o.config,
    adapters: o.adapters,
    results: new Map(),
    note: (stepId, data) => journal.write('note', { step: stepId, data }),
    registerSecret: (v) => io.redactor.add(v),
  };

  const reports = new Map<string, StepReport>(
    steps.map((s) => [s.id, { id: s.id, title: s.title, status: 'pending' } as StepReport]),
  );
  const setReport = (id: string, patch: Partial<StepReport>) => Object.assign(reports.get(id)!, patch);
  const completed: Completed[] = [];
  const plans = new Map<string, Plan<unknown>>();
  const entries: PlanEntry[] = [];
  const restored = new Set<string>();
  let lock: LockHandle | undefined;
  let progress: Progress | undefined;
  let status: RunStatus = 'failed';
  let exitCode: number = ExitCode.stepFailed;
  let error: RunReport['error'];
  let manual: string[] | undefined;
  let failedStep: string | undefined;

  const abortError = (): HivectlError => {
    const r = controller.signal.reason;
    return r instanceof HivectlError ? r : new AbortedError(guard?.received ?? 'SIGINT');
  };
  const checkAbort = () => {
    if (controller.signal.aborted) throw abortError();
  };

  // First record (or a new session of a resumed run).
  const head = {
    runId,
    runbook: runbook.name,
    title: runbook.title,
    inputs: runbook.inputs,
    target: o.target,
    user,
    host: hostname(),
    pid: process.pid,
    steps: steps.map((s) => s.id),
    mode: { dryRun: mode.dryRun, yes: mode.yes, rollback: mode.rollback, timeoutMs: mode.timeoutMs },
  };
  if (o.resume) journal.write('session', { ...head, resume: true, fromStep: o.resume.fromStep });
  else journal.write('run', head);

  try {
    // 1. Where are we pointing? Printed before anything can change.
    if (o.describeTarget) for (const l of await o.describeTarget(ctx)) io.info(l);
    io.info(`run ${runId} (${runbook.name}); journal ${journal.path}`);

    // 2. Resume: re-verify what completed earlier and restore its results.
    let startIndex = 0;
    if (o.resume) startIndex = await restoreCompleted(o.resume);

    // 3. Plan every remaining step; parallel groups are planned concurrently.
    for (const item of runbook.items) {
      const members = isParallel(item) ? item.parallel : [item];
      await Promise.all(
        members.map(async (s) => {
          if (restored.has(s.id) || steps.indexOf(s) < startIndex) return;
          checkAbort();
          let plan: Plan<unknown>;
          try {
            plan = await s.plan(ctx);
          } catch (e) {
            failedStep ??= s.id;
            journal.write('error', { step: s.id, phase: 'plan', error: e });
            throw e;
          }
          plans.set(s.id, plan);
          journal.write('plan', {
            step: s.id,
            summary: plan.summary,
            changes: plan.changes,
            payload: plan.payload,
            noop: Boolean(plan.noop),
          });
        }),
      );
    }
    for (const s of steps) {
      const p = plans.get(s.id);
      const group = groupOf.get(s.id);
      if (restored.has(s.id) || !p) {
        entries.push({
          step: s.id,
          title: s.title,
          ...(group ? { group } : {}),
          destructive: Boolean(s.destructive),
          noop: true,
          summary: restored.has(s.id) ? 'completed earlier (re-verified)' : 'skipped (before --from-step)',
          changes: [],
          restored: true,
        });
        continue;
      }
      entries.push({
        step: s.id,
        title: s.title,
        ...(group ? { group } : {}),
        destructive: Boolean(s.destructive),
        noop: Boolean(p.noop),
        summary: p.summary,
        changes: p.changes,
      });
    }
    if (!(io.quiet && !mode.dryRun)) {
      if (io.lineMode) for (const l of renderPlanLines(runbook.title, entries)) io.line(l);
      else io.line(renderPlanTable(runbook.title, entries, io.chalk));
    }

    // 4. --dry-run stops here.
    if (mode.dryRun) {
      status = 'planned';
      exitCode = ExitCode.ok;
      io.info('dry run: nothing changed');
      return finish();
    }

    // 5. Destructive steps need --yes or an interactive yes.
    const destructive = entries.filter((e) => e.destructive && !e.noop && !e.restored);
    if (destructive.length) {
      const names = destructive.map((e) => e.step).join(', ');
      if (mode.yes) journal.write('confirm', { steps: destructive.map((e) => e.step), by: '--yes' });
      else if (!io.isTTY) {
        journal.write('confirm', { steps: destructive.map((e) => e.step), by: 'none', refused: true });
        throw new RefusedError(`destructive step(s) ${names} need confirmation and there is no terminal to ask`, {
          hint: 'review the plan (--dry-run) and pass --yes to run it non-interactively',
        });
      } else {
        const ok = await io.confirm(`Run ${destructive.length} destructive step(s) (${names})?`);
        journal.write('confirm', { steps: destructive.map((e) => e.step), by: 'prompt', refused: !ok });
        if (!ok) throw new RefusedError('declined: nothing was changed', { hint: 'run again and answer y to proceed' });
      }
    }

    // 6. The lock.
    const anyChange = entries.some((e) => !e.noop && !e.restored);
    if (runbook.mutating && runbook.lock !== false && o.lock && (anyChange || o.resume)) {
      checkAbort();
      lock = await o.lock.acquire(ctx, { holder: holderIdentity(runId, user), force: Boolean(mode.forceUnlock) });
      journal.write('lock', {
        action: 'acquired',
        holder: lock.holder,
        namespace: lock.namespace,
        ...(lock.tookOverFrom ? { tookOverFrom: lock.tookOverFrom } : {}),
      });
      if (lock.tookOverFrom) io.warn(`took over the expired lock of ${lock.tookOverFrom} (--force-unlock)`);
      else io.debug(`lock ${lock.namespace}/hivectl-lock taken as ${lock.holder}`);
      lock.onLost((e) => {
        journal.write('lock', { action: 'lost', message: e.message });
        controller.abort(e);
      });
    }

    // 7. Apply + verify.
    progress = createProgress(io);
    const pitems: ProgressItem[] = runbook.items.map((item, i) =>
      isParallel(item)
        ? { steps: item.parallel.map((s) => s.id), group: item.title ?? `group ${i + 1}` }
        : { steps: [item.id] },
    );
    progress.applyPhase(pitems, entries);
    for (const id of restored) {
      progress.stepSkip(id, 'completed earlier');
      setReport(id, { status: 'restored' });
    }
    for (const item of runbook.items) {
      checkAbort();
      if (isParallel(item)) {
        const settled = await Promise.allSettled(item.parallel.map((s) => runStep(s)));
        const bad = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (bad) throw bad.reason;
      } else await runStep(item);
    }
    checkAbort();
    await progress.end();

    if (mode.rollback === 'always') {
      const rb = await rollBack();
      if (rb.failed) {
        status = 'rollback-failed';
        exitCode = ExitCode.rollbackFailed;
      } else {
        status = 'rolled-back';
        exitCode = ExitCode.ok;
        io.info(`--rollback=always: rolled back ${rb.undone} step(s) after success`);
      }
    } else {
      status = 'succeeded';
      exitCode = ExitCode.ok;
    }
    return finish();
  } catch (e) {
    await progress?.end();
    // An error thrown while the run was being aborted is the abort, whatever the step made of it.
    const err = controller.signal.aborted ? abortError() : e;
    const code = failureCode(err);
    error = { ...describeError(err), exitCode: code, ...(failedStep ? { step: failedStep } : {}) };
    if (err instanceof RefusedError && completed.length === 0) {
      status = 'refused';
      exitCode = ExitCode.refused;
      return finish();
    }
    const changed = completed.filter((c) => entryChanges(c.entry));
    if (mode.rollback === 'never' || completed.length === 0) {
      if (changed.length && mode.rollback === 'never') {
        status = 'partial';
        exitCode = ExitCode.partial;
        manual = changed.map((c) => c.step.id);
        error.hint = `--rollback=never: ${manual.length} completed step(s) stand (${manual.join(', ')}); finish with \`hivectl resume ${runId}\` or undo by hand`;
      } else {
        status = err instanceof AbortedError ? 'aborted' : 'failed';
        exitCode = code;
      }
      return finish();
    }
    const rb = await rollBack();
    if (rb.failed) {
      status = 'rollback-failed';
      exitCode = ExitCode.rollbackFailed;
    } else if (rb.irreversible.length) {
      status = 'partial';
      exitCode = ExitCode.partial;
      manual = rb.irreversible;
      error.hint = `step(s) ${manual.join(', ')} have no rollback and stay applied; see the journal, then resume or undo by hand`;
    } else {
      status = err instanceof AbortedError ? 'aborted' : rb.undone ? 'rolled-back' : 'failed';
      exitCode = code;
    }
    return finish();
  }

  async function runStep(s: AnyStep): Promise<void> {
    if (restored.has(s.id)) return;
    const plan = plans.get(s.id);
    const entry = entries.find((e) => e.step === s.id);
    if (!plan || entry?.restored) {
      setReport(s.id, { status: 'skipped' });
      progress?.stepSkip(s.id, 'skipped (--from-step)');
      return;
    }
    if (plan.noop) {
      journal.write('skip', { step: s.id, reason: 'nothing to do' });
      setReport(s.id, { status: 'skipped' });
      progress?.stepSkip(s.id, `nothing to do: ${plan.summary}`);
      return;
    }
    checkAbort();
    const t0 = Date.now();
    // hivectl's own CPU per step (user + system, the whole process): where a run's own work goes.
    const c0 = process.cpuUsage();
    const cpuMs = () => {
      const c = process.cpuUsage(c0);
      return Math.round((c.user + c.system) / 1000);
    };
    progress?.stepStart(s.id);
    journal.write('apply-start', { step: s.id });
    let result: unknown;
    try {
      result = await s.apply(ctx, plan.payload);
    } catch (e) {
      failedStep ??= s.id;
      const d = Date.now() - t0;
      journal.write('error', { step: s.id, phase: 'apply', error: e, durationMs: d });
      setReport(s.id, { status: 'failed', durationMs: d, error: io.redactor.string(errorMessage(e)) });
      progress?.stepFail(s.id, e);
      throw e;
    }
    completed.push({ step: s, result, entry });
    ctx.results.set(s.id, result);
    journal.write('apply-done', { step: s.id, result: result ?? null, durationMs: Date.now() - t0, cpuMs: cpuMs() });
    if (s.verify) {
      progress?.verifyStart(s.id);
      journal.write('verify-start', { step: s.id });
      const v0 = Date.now();
      // verify waits (rollouts, waiters): bounded by --timeout as well as by the run's signal.
      const timeout = AbortSignal.timeout(Math.max(mode.timeoutMs, 1));
      const vctx: Ctx = { ...ctx, signal: AbortSignal.any([controller.signal, timeout]) };
      try {
        await s.verify(vctx, result);
      } catch (e0) {
        const e =
          timeout.aborted && !controller.signal.aborted
            ? new StepError(`step ${s.id} did not verify within ${formatDuration(mode.timeoutMs)} (--timeout)`, {
                hint: 'look at why it is not ready, or raise --timeout',
                cause: e0,
              })
            : e0;
        failedStep ??= s.id;
        const d = Date.now() - t0;
        journal.write('error', { step: s.id, phase: 'verify', error: e, durationMs: Date.now() - v0 });
        setReport(s.id, { status: 'failed', durationMs: d, result, error: io.redactor.string(errorMessage(e)) });
        progress?.stepFail(s.id, e);
        throw e;
      }
      journal.write('verify-done', { step: s.id, durationMs: Date.now() - v0, cpuMs: cpuMs() });
    }
    const d = Date.now() - t0;
    setReport(s.id, { status: 'succeeded', durationMs: d, result });
    progress?.stepDone(s.id, d);
  }

  /** Undo completed steps in reverse order, with a signal of their own (the run's may be aborted). */
  async function rollBack(): Promise<{ undone: number; failed: boolean; irreversible: string[] }> {
    const rbController = new AbortController();
    const timeout = setTimeout(
      () => rbController.abort(new StepError('rollback timed out (--timeout)')),
      Math.max(mode.timeoutMs, 1000),
    );
    timeout.unref();
    const rctx: Ctx = { ...ctx, signal: rbController.signal };
    const todo = [...completed].reverse();
    const irreversible: string[] = [];
    const failedIds: string[] = [];
    let undone = 0;
    const withRollback = todo.filter((c) => typeof c.step.rollback === 'function');
    progress = createProgress(io);
    progress.applyPhase([], entries);
    if (withRollback.length) progress.rollbackPhase(withRollback.map((c) => c.step.id));
    try {
      for (const c of todo) {
        const id = c.step.id;
        if (!c.step.rollback) {
          if (entryChanges(c.entry)) irreversible.push(id);
          continue;
        }
        const t0 = Date.now();
        progress.rollbackStart(id);
        journal.write('rollback-start', { step: id });
        try {
          await c.step.rollback(rctx, c.result);
        } catch (e) {
          journal.write('rollback-error', { step: id, error: e, durationMs: Date.now() - t0 });
          setReport(id, { status: 'rollback-failed', error: io.redactor.string(errorMessage(e)) });
          progress.rollbackFail(id, e);
          failedIds.push(id);
          // Stop at the first failure: later rollbacks may depend on this one (reverse order matters).
          break;
        }
        journal.write('rollback-done', { step: id, durationMs: Date.now() - t0 });
        ctx.results.delete(id);
        setReport(id, { status: 'rolled-back' });
        progress.rollbackDone(id, Date.now() - t0);
        undone++;
      }
    } finally {
      clearTimeout(timeout);
      await progress.end();
    }
    if (failedIds.length) {
      const standing = todo
        .slice(todo.findIndex((c) => c.step.id === failedIds[0]))
        .map((c) => c.step.id)
        .reverse();
      manual = standing;
      const rbErr = reports.get(failedIds[0]!)?.error ?? 'unknown error';
      error = {
        message: `rollback failed at step ${failedIds[0]}: ${rbErr}${error ? ` (after: ${error.message})` : ''}`,
        hint: `these steps are still applied: ${standing.join(', ')}. Journal: ${journal.path}. Undo them by hand (the journal has each step's result), or fix the cause and run \`hivectl resume ${runId}\``,
        exitCode: ExitCode.rollbackFailed,
        step: failedIds[0]!,
      };
    }
    return { undone, failed: failedIds.length > 0, irreversible };
  }

  /** Resume: which steps completed before, re-verify them, restore their results; returns the start index. */
  async function restoreCompleted(r: ResumeState): Promise<number> {
    const prior = summarizeJournal(journal.path, r.records);
    const state = new Map(prior.steps.map((s) => [s.id, s]));
    const done = (id: string) => {
      const st = state.get(id)?.status;
      return st === 'applied' || st === 'verified';
    };
    let start: number;
    if (r.fromStep) {
      start = steps.findIndex((s) => s.id === r.fromStep);
      if (start < 0) {
        throw new HivectlError(ExitCode.usage, `--from-step ${r.fromStep}: runbook ${runbook.name} has no such step`, {
          hint: `steps: ${steps.map((s) => s.id).join(', ')}`,
        });
      }
    } else {
      start = steps.findIndex((s) => {
        const st = state.get(s.id)?.status;
        return !(st === 'applied' || st === 'verified' || st === 'skipped');
      });
      if (start < 0) start = steps.length;
    }
    // A parallel group resumes as a whole: start at its first member.
    const firstOfGroup = (i: number) => {
      const g = groupOf.get(steps[i]?.id ?? '');
      if (!g) return i;
      return steps.findIndex((s) => groupOf.get(s.id) === g);
    };
    start = start < steps.length ? firstOfGroup(start) : start;
    io.info(
      start < steps.length
        ? `resuming ${runbook.name} at step ${steps[start]!.id} (${start} earlier step(s) to re-verify)`
        : `every step of ${runbook.name} completed earlier: re-verifying`,
    );
    // Completed members of an interrupted parallel group are kept as well (unless --from-step asks to
    // apply again): re-applying them would only be a noop.
    const startGroup = start < steps.length && !r.fromStep ? groupOf.get(steps[start]!.id) : undefined;
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i]!;
      const inStartGroup = startGroup !== undefined && groupOf.get(s.id) === startGroup;
      if (!done(s.id) || (i >= start && !inStartGroup)) continue;
      checkAbort();
      const result = state.get(s.id)?.result;
      if (s.verify) {
        try {
          await s.verify(ctx, result);
        } catch (e) {
          failedStep ??= s.id;
          journal.write('error', { step: s.id, phase: 'verify', error: e, resume: true });
          throw new StepError(`step ${s.id} completed earlier but no longer verifies: ${errorMessage(e)}`, {
            hint: `its result may have been undone by hand; resume with --from-step ${s.id} to apply it again`,
            cause: e,
          });
        }
      }
      restored.add(s.id);
      ctx.results.set(s.id, result);
      completed.push({ step: s, result, entry: undefined });
      journal.write('restored', { step: s.id, result: result ?? null });
    }
    return start;
  }

  async function finish(): Promise<RunReport> {
    if (lock) {
      try {
        await lock.release();
        journal.write('lock', { action: 'released', holder: lock.holder });
      } catch (e) {
        io.warn(`could not release the lock: ${errorMessage(e)} (it expires on its own in 30s)`);
        journal.write('lock', { action: 'release-failed', error: e });
      }
    }
    for (const r of reports.values()) if (r.status === 'pending' && !mode.dryRun) r.status = 'not-run';
    // In runbook order, not completion order (parallel groups finish in any order).
    const results: Record<string, unknown> = {};
    for (const s of steps) if (ctx.results.has(s.id)) results[s.id] = ctx.results.get(s.id);
    const durationMs = Date.now() - started;
    journal.write('end', {
      status,
      exitCode,
      durationMs,
      ...(error ? { error } : {}),
      ...(manual ? { manual } : {}),
    });
    journal.close();
    guard?.dispose();
    o.signal?.removeEventListener('abort', onExternalAbort);
    return {
      runId,
      runbook: runbook.name,
      title: runbook.title,
      status,
      exitCode,
      plan: entries,
      steps: [...reports.values()],
      results,
      journal: journal.path,
      durationMs,
      ...(error
        ? {
            error: {
              ...error,
              message: io.redactor.string(error.message),
              ...(error.hint ? { hint: io.redactor.string(error.hint) } : {}),
            },
          }
        : {}),
      ...(manual ? { manual } : {}),
    };
  }
}
