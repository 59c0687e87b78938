// Actions of `hivectl runs`, `hivectl resume` and `hivectl runbook` (loaded lazily by those commands).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { createAdapters } from '../adapters/index.js';
import { executeRunbook, ioFromOpts, journalDirFromOpts, loadCommandEnv } from '../core/command-impl.js';
import { formatDuration } from '../core/duration.js';
import { RefusedError, UsageError } from '../core/errors.js';
import { findJournal, listJournalFiles, type RunSummary, readJournal, summarizeJournal } from '../core/journal.js';
import { renderRunbookShape, runbookShape } from '../core/plan-render.js';
import type { Target } from '../core/step.js';
import { textTable } from '../core/table.js';
import { getRunbook, listRunbooks } from '../runbooks/index.js';

function opts(cmd: Command): Record<string, unknown> {
  return cmd.optsWithGlobals() as Record<string, unknown>;
}

// These tables keep the separator before an empty last cell and leave the final newline to io.result.
const table = (rows: string[][]): string => textTable(rows, { trimEnd: false, newline: false });

/** Newest first; run ids sort by time, so only the newest `limit` journals are read. */
function loadSummaries(dir: string, limit = Number.POSITIVE_INFINITY): RunSummary[] {
  const out: RunSummary[] = [];
  const files = listJournalFiles(dir);
  for (let i = files.length - 1; i >= 0 && out.length < limit; i--) {
    const path = `${dir}/${files[i]}`;
    try {
      out.push(summarizeJournal(path, readJournal(path)));
    } catch {
      /* not a journal we can read: skip it rather than hide every other run */
    }
  }
  return out;
}

export async function listRunsCommand(cmd: Command, limit: number): Promise<void> {
  const o = opts(cmd);
  const io = await ioFromOpts(o);
  const dir = journalDirFromOpts(o);
  const runs = loadSummaries(dir, Number.isFinite(limit) && limit > 0 ? limit : undefined);
  const rows = runs.map((r) => ({
    runId: r.runId,
    runbook: r.runbook,
    status: r.status,
    exitCode: r.exitCode ?? null,
    started: r.started,
    durationMs: r.durationMs ?? null,
    user: r.user ?? null,
  }));
  io.result(rows, () => {
    if (!rows.length) return `no runs in ${dir}`;
    return table([
      ['RUN ID', 'RUNBOOK', 'STATUS', 'EXIT', 'STARTED', 'DURATION'],
      ...rows.map((r) => [
        r.runId,
        r.runbook,
        r.status,
        r.exitCode === null ? '' : String(r.exitCode),
        r.started,
        r.durationMs === null ? '' : formatDuration(r.durationMs),
      ]),
    ]);
  });
}

export async function showRunCommand(cmd: Command, runId: string, withRecords: boolean): Promise<void> {
  const o = opts(cmd);
  const io = await ioFromOpts(o);
  const path = findJournal(journalDirFromOpts(o), runId);
  const records = readJournal(path);
  const s = summarizeJournal(path, records);
  const doc = { ...s, ...(withRecords || io.format !== 'table' ? { records } : {}) };
  io.result(doc, () => {
    const lines = [
      `run      ${s.runId}`,
      `runbook  ${s.runbook}${s.title ? ` (${s.title})` : ''}`,
      `status   ${s.status}${s.exitCode !== undefined ? ` (exit ${s.exitCode})` : ''}`,
      `started  ${s.started}${s.user ? ` by ${s.user}` : ''}${s.durationMs !== undefined ? `, ${formatDuration(s.durationMs)}` : ''}${s.sessions > 1 ? `, ${s.sessions} sessions (resumed)` : ''}`,
      `target   ${Object.entries(s.target)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' ')}`,
      `inputs   ${JSON.stringify(s.inputs)}`,
      `journal  ${s.path}`,
      '',
      table([
        ['STEP', 'STATUS', 'DURATION', 'ERROR'],
        ...s.steps.map((st) => [
          st.id,
          st.status,
          st.durationMs !== undefined ? formatDuration(st.durationMs) : '',
          st.error ? String((st.error as { message?: string }).message ?? st.error) : '',
        ]),
      ]),
    ];
    const err = s.error as { message?: string; hint?: string } | undefined;
    if (err?.message) lines.push('', `error: ${err.message}`, ...(err.hint ? [`  -> ${err.hint}`] : []));
    if (s.status === 'interrupted' || s.status === 'failed' || s.status === 'partial')
      lines.push('', `continue it with: hivectl resume ${s.runId}`);
    if (withRecords) lines.push('', ...records.map((r) => JSON.stringify(r)));
    return lines.join('\n');
  });
}

export async function resumeCommand(cmd: Command, runId: string, fromStep?: string): Promise<void> {
  const o = opts(cmd);
  const path = findJournal(journalDirFromOpts(o), runId);
  const records = readJournal(path);
  const s = summarizeJournal(path, records);
  if (s.status === 'running') {
    throw new RefusedError(`run ${s.runId} is still running (its process is alive)`, {
      hint: 'wait for it to finish, or stop it (Ctrl-C / SIGTERM) before resuming',
    });
  }
  const env = await loadCommandEnv(cmd);
  if (s.status === 'succeeded' && !fromStep) {
    env.io.info(`run ${s.runId} already succeeded: nothing to resume (use --from-step to run steps again)`);
    process.exitCode = 0;
    return;
  }
  if (s.status === 'planned') {
    throw new UsageError(`run ${s.runId} was a dry run: there is nothing to resume`, {
      hint: `run the command again without --dry-run`,
    });
  }
  const def = await getRunbook(s.runbook);
  // The run continues against the system it started on, whatever the current flags or config say.
  const target = { ...(s.target as unknown as Target) };
  env.target = target;
  env.adapters = createAdapters(target);
  const runbook = await def.build(s.inputs, env);
  await executeRunbook(env, runbook, undefined, {
    runId: s.runId,
    resume: { records, ...(fromStep ? { fromStep } : {}) },
  });
}

export async function runbookListCommand(cmd: Command): Promise<void> {
  const io = await ioFromOpts(opts(cmd));
  const defs = await listRunbooks();
  const rows = defs.map((d) => ({ name: d.name, title: d.title, description: d.description, source: d.source }));
  io.result(rows, () =>
    rows.length
      ? table([['NAME', 'TITLE', 'SOURCE'], ...rows.map((r) => [r.name, r.title, r.source ?? ''])])
      : 'no runbooks registered',
  );
}

export function parseInputs(o: { input: string[]; inputs?: string }): Record<string, unknown> | undefined {
  let out: Record<string, unknown> | undefined;
  if (o.inputs) {
    try {
      out = JSON.parse(readFileSync(o.inputs, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new UsageError(`--inputs ${o.inputs}: ${(e as Error).message}`);
    }
  }
  for (const kv of o.input) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new UsageError(`--input ${kv}: use key=value`);
    const k = kv.slice(0, i);
    const raw = kv.slice(i + 1);
    let v: unknown = raw;
    try {
      v = JSON.parse(raw);
    } catch {
      /* a plain string */
    }
    out = { ...(out ?? {}), [k]: v };
  }
  return out;
}

/** The registry entry, the resolved env and the runbook built from `-i`/`--inputs` (or the example inputs). */
async function buildNamedRunbook(cmd: Command, name: string, o: { input: string[]; inputs?: string }) {
  const def = await getRunbook(name);
  const env = await loadCommandEnv(cmd);
  const rb = await def.build(parseInputs(o) ?? def.example ?? {}, env);
  return { def, env, rb };
}

export async function runbookShowCommand(
  cmd: Command,
  name: string,
  o: { input: string[]; inputs?: string },
): Promise<void> {
  const { def, env, rb } = await buildNamedRunbook(cmd, name, o);
  const shape = { ...runbookShape(rb), description: def.description, inputs: rb.inputs };
  env.io.result(
    shape,
    () =>
      `${renderRunbookShape(shape, (env.io as import('../core/io-impl.js').IoHostImpl).chalk)}\n  ${def.description}`,
  );
}

export async function runbookRunCommand(
  cmd: Command,
  name: string,
  o: { input: string[]; inputs?: string },
): Promise<void> {
  const { def, env, rb } = await buildNamedRunbook(cmd, name, o);
  if (rb.name !== def.name) rb.name = def.name; // resume finds it by the registry name
  await executeRunbook(env, rb);
}
