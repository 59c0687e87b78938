// The run journal: one NDJSON file a run, every record redacted, written synchronously and fsync'd,
// so that whatever kills hivectl (SIGKILL included) the file says exactly how far the run got.
// `hivectl runs` reads it, `hivectl resume` rebuilds the run from it.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import type { RunOutcome } from './command.js';
import { UsageError } from './errors.js';
import type { Redactor } from './redact.js';

export type RunStatus = RunOutcome['status'] | 'running' | 'interrupted';

/** Record types, in the order a step goes through them. */
export type JournalRecordType =
  | 'run' // first record: runbook, inputs, target, who, when
  | 'session' // a resume session starts (same file, same run id)
  | 'plan' // a step's plan
  | 'confirm' // destructive steps confirmed (or refused)
  | 'lock' // lock taken / released / lost
  | 'skip' // noop plan: nothing to do
  | 'apply-start'
  | 'apply-done' // with the step's result
  | 'verify-start'
  | 'verify-done'
  | 'restored' // resume: a step completed earlier, re-verified, result restored
  | 'error' // a phase of a step failed
  | 'rollback-start'
  | 'rollback-done'
  | 'rollback-error'
  | 'note' // ctx.note()
  | 'end'; // final record: outcome

export interface JournalRecord {
  type: JournalRecordType;
  ts: string;
  step?: string;
  [k: string]: unknown;
}

export function defaultJournalDir(env: Record<string, string | undefined>, home = homedir()): string {
  if (env.HIVECTL_STATE_DIR) return join(env.HIVECTL_STATE_DIR, 'runs');
  const state = env.XDG_STATE_HOME || join(home, '.local', 'state');
  return join(state, 'hivectl', 'runs');
}

/** Sortable by time (UTC to the millisecond), unique by a random tail: 20261127T010500123Z-3f9a1c. */
export function newRunId(now = new Date()): string {
  const t = now.toISOString().replace(/[-:.]/g, ''); // 20261127T010500123Z
  return `${t}-${randomBytes(3).toString('hex')}`;
}

const RUN_ID = /^\d{8}T\d{9}Z-[0-9a-f]{6}$/;

export function journalPath(dir: string, runId: string): string {
  return join(dir, `${runId}.ndjson`);
}

// Records written before anything changes, or that only describe: a crash right after one loses
// nothing that matters, and the next synced record (apply-start at the latest, before any change)
// flushes them too, since fdatasync covers everything written to the file. About a third of a run's
// records; each fdatasync costs ~0.1 ms of CPU and more of wall time.
const LAZY: ReadonlySet<JournalRecordType> = new Set<JournalRecordType>([
  'run',
  'session',
  'plan',
  'confirm',
  'lock',
  'skip',
  'verify-start',
]);

export class Journal {
  readonly path: string;
  private fd: number | undefined;
  private readonly redactor: Redactor;

  private constructor(path: string, fd: number, redactor: Redactor) {
    this.path = path;
    this.fd = fd;
    this.redactor = redactor;
  }

  /** Open (create or append to) the journal of a run. */
  static open(dir: string, runId: string, redactor: Redactor): Journal {
    const path = journalPath(dir, runId);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const fd = openSync(path, 'a', 0o600);
      return new Journal(path, fd, redactor);
    } catch (e) {
      // No journal, no run: resume and the audit trail depend on it.
      throw new UsageError(`cannot write the run journal ${path}: ${(e as Error).message}`, {
        hint: 'pass --journal-dir DIR or set HIVECTL_STATE_DIR to a writable directory',
      });
    }
  }

  get closed(): boolean {
    return this.fd === undefined;
  }

  /**
   * Append one record, redacted, and fdatasync it (data + size, not mtime) before returning, unless
   * its type is one of the LAZY ones (above).
   */
  write(type: JournalRecordType, data: Record<string, unknown> = {}): void {
    if (this.fd === undefined) return;
    const rec = this.redactor.value({ type, ts: new Date().toISOString(), ...data });
    writeSync(this.fd, `${JSON.stringify(rec)}\n`);
    if (LAZY.has(type)) return;
    try {
      fdatasyncSync(this.fd);
    } catch {
      /* some filesystems (tmpfs in CI) refuse fsync; the write itself stands */
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Read a journal. A torn last line (SIGKILL during a write) is ignored. */
export function readJournal(path: string): JournalRecord[] {
  const text = readFileSync(path, 'utf8');
  const out: JournalRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as JournalRecord);
    } catch {
      /* torn write */
    }
  }
  return out;
}

export interface StepState {
  id: string;
  status: 'pending' | 'planned' | 'skipped' | 'running' | 'applied' | 'verified' | 'failed' | 'rolled-back';
  result?: unknown;
  /** Had a non-read change in its plan (matters when it cannot be rolled back). */
  changes?: unknown[];
  durationMs?: number;
  error?: unknown;
}

export interface RunSummary {
  runId: string;
  runbook: string;
  title?: string;
  status: RunStatus;
  exitCode?: number;
  started: string;
  ended?: string;
  durationMs?: number;
  inputs: Record<string, unknown>;
  target: Record<string, unknown>;
  user?: string;
  path: string;
  sessions: number;
  steps: StepState[];
  error?: unknown;
}

/** Fold a journal's records into the run's current state (later sessions override earlier ones). */
export function summarizeJournal(path: string, records: JournalRecord[]): RunSummary {
  const first = records.find((r) => r.type === 'run');
  if (!first) throw new UsageError(`${path} is not a hivectl run journal (no "run" record)`);
  const steps = new Map<string, StepState>();
  const order: string[] = [];
  const st = (id: string): StepState => {
    let s = steps.get(id);
    if (!s) {
      s = { id, status: 'pending' };
      steps.set(id, s);
      order.push(id);
    }
    return s;
  };
  for (const id of (first.steps as string[] | undefined) ?? []) st(id);
  let sessions = 0;
  let end: JournalRecord | undefined;
  for (const r of records) {
    if (r.type === 'run' || r.type === 'session') {
      sessions++;
      end = undefined;
    }
    if (r.type === 'end') end = r;
    if (!r.step) continue;
    const s = st(r.step);
    switch (r.type) {
      case 'plan':
        if (s.status === 'pending' || s.status === 'failed' || s.status === 'rolled-back') s.status = 'planned';
        s.changes = r.changes as unknown[];
        break;
      case 'skip':
        s.status = 'skipped';
        break;
      case 'apply-start':
        s.status = 'running';
        s.error = undefined;
        break;
      case 'apply-done':
        s.status = 'applied';
        s.result = r.result;
        s.durationMs = r.durationMs as number | undefined;
        break;
      case 'verify-done':
        s.status = 'verified';
        break;
      case 'restored':
        s.status = 'verified';
        s.result = r.result;
        break;
      case 'error':
        if (r.phase !== 'rollback') {
          s.status = 'failed';
          s.error = r.error;
        }
        break;
      case 'rollback-done':
        s.status = 'rolled-back';
        break;
      default:
        break;
    }
  }
  const lastSession = [...records].reverse().find((r) => r.type === 'session' || r.type === 'run');
  const status: RunStatus = end ? (end.status as RunStatus) : isAlive(lastSession) ? 'running' : 'interrupted';
  const startedMs = Date.parse(first.ts);
  const endedTs = end?.ts ?? records.at(-1)?.ts;
  return {
    runId: first.runId as string,
    runbook: first.runbook as string,
    title: first.title as string | undefined,
    status,
    exitCode: end?.exitCode as number | undefined,
    started: first.ts,
    ended: end?.ts,
    durationMs: endedTs ? Date.parse(endedTs) - startedMs : undefined,
    inputs: (first.inputs as Record<string, unknown>) ?? {},
    target: (first.target as Record<string, unknown>) ?? {},
    user: first.user as string | undefined,
    path,
    sessions,
    steps: order.map((id) => steps.get(id)!),
    error: end?.error,
  };
}

/** A run without an end record is still running if its process lives (same host), else interrupted. */
function isAlive(session: JournalRecord | undefined): boolean {
  if (!session || typeof session.pid !== 'number' || session.host !== hostname()) return false;
  try {
    process.kill(session.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function findJournal(dir: string, runId: string): string {
  if (!/^[0-9A-Za-z-]+$/.test(runId)) {
    throw new UsageError(`"${runId}" is not a run id`, { hint: 'run ids look like 20261127T010500123Z-3f9a1c' });
  }
  const path = journalPath(dir, runId);
  if (existsSync(path)) return path;
  // Accept a unique prefix, as git does with commits.
  const matches = listJournalFiles(dir).filter((f) => f.startsWith(runId));
  if (matches.length === 1) return join(dir, matches[0]!);
  throw new UsageError(
    matches.length > 1 ? `run id "${runId}" is ambiguous in ${dir}` : `no run "${runId}" in ${dir}`,
    { hint: 'list runs with `hivectl runs list` (and pass --journal-dir if the runs were written elsewhere)' },
  );
}

export function listJournalFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ndjson') && RUN_ID.test(f.slice(0, -'.ndjson'.length)))
    .sort();
}
