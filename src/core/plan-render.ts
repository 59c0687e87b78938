// Rendering a plan (and a runbook's shape) for people: a table on a TTY, one line per change
// elsewhere. The same data goes into -o json as `plan`.
import type { Change, Runbook } from './step.js';
import { isParallel } from './step.js';

export interface PlanEntry {
  step: string;
  title: string;
  /** Title of the parallel group the step belongs to. */
  group?: string;
  destructive: boolean;
  noop: boolean;
  summary: string;
  changes: Change[];
  /** Resume: completed in an earlier session, re-verified, not applied again. */
  restored?: boolean;
}

const SYMBOL: Record<Change['action'], string> = {
  create: '+',
  update: '~',
  delete: '-',
  replace: '±',
  run: '>',
  read: '?',
  skip: '·',
  none: '·',
};

type Paint = (s: string) => string;
export interface Painter {
  bold: Paint;
  dim: Paint;
  red: Paint;
  green: Paint;
  yellow: Paint;
}
const plain: Painter = { bold: (s) => s, dim: (s) => s, red: (s) => s, green: (s) => s, yellow: (s) => s };

function changeLine(c: Change, p: Painter): string {
  const sym = SYMBOL[c.action] ?? '·';
  const colour = c.action === 'delete' || c.action === 'replace' ? p.red : c.action === 'create' ? p.green : p.yellow;
  return `${colour(`${sym} ${c.action}`)} ${c.target}${c.detail ? p.dim(` (${c.detail})`) : ''}`;
}

const READ_ONLY = new Set<Change['action']>(['read', 'none', 'skip']);

function stateOf(e: PlanEntry): string {
  if (e.restored) return 'done';
  if (e.noop) return 'noop';
  if (e.destructive) return 'DESTRUCTIVE';
  // A step whose changes only read (wait for a rollout, check health) changes nothing.
  return e.changes.length && e.changes.every((c) => READ_ONLY.has(c.action)) ? 'check' : 'change';
}

/** Multi-line table for a terminal. */
export function renderPlanTable(title: string, entries: PlanEntry[], p: Painter = plain): string {
  const changing = entries.filter((e) => !e.noop && !e.restored);
  const destructive = changing.filter((e) => e.destructive).length;
  const head = `${p.bold(`Plan: ${title}`)} ${p.dim(
    `(${entries.length} steps, ${changing.length} with changes${destructive ? `, ${destructive} destructive` : ''})`,
  )}`;
  const idW = Math.max(4, ...entries.map((e) => e.step.length));
  const rows = [head, `  ${'#'.padStart(2)}  ${'STEP'.padEnd(idW)}  ${'STATE'.padEnd(11)}  SUMMARY`];
  entries.forEach((e, i) => {
    const st = stateOf(e);
    const stc =
      st === 'DESTRUCTIVE' ? p.red(st.padEnd(11)) : st === 'change' ? p.yellow(st.padEnd(11)) : p.dim(st.padEnd(11));
    rows.push(
      `  ${String(i + 1).padStart(2)}  ${e.step.padEnd(idW)}  ${stc}  ${e.summary}${e.group ? p.dim(`  [parallel: ${e.group}]`) : ''}`,
    );
    if (!e.noop && !e.restored) for (const c of e.changes) rows.push(`      ${' '.repeat(idW)}  ${changeLine(c, p)}`);
  });
  return rows.join('\n');
}

/** One line per step and per change, for logs (each gets a timestamp from the IO host). */
export function renderPlanLines(title: string, entries: PlanEntry[]): string[] {
  const out = [`plan  ${title}: ${entries.length} steps`];
  entries.forEach((e, i) => {
    const tag = `[${i + 1}/${entries.length}] ${e.step}`;
    out.push(`plan  ${tag}: ${stateOf(e)}${e.group ? ` (parallel: ${e.group})` : ''}: ${e.summary}`);
    if (!e.noop && !e.restored) for (const c of e.changes) out.push(`plan  ${tag}:   ${changeLine(c, plain)}`);
  });
  return out;
}

/** The shape of a runbook without running anything (`hivectl runbook show`). */
export interface RunbookShape {
  name: string;
  title: string;
  mutating: boolean;
  lock: boolean;
  steps: Array<{
    index: number;
    id: string;
    title: string;
    destructive: boolean;
    group?: string;
    rollback: boolean;
    verify: boolean;
  }>;
}

export function runbookShape(rb: Runbook): RunbookShape {
  const steps: RunbookShape['steps'] = [];
  let n = 0;
  rb.items.forEach((item, gi) => {
    const members = isParallel(item) ? item.parallel : [item];
    const group = isParallel(item) ? (item.title ?? `group ${gi + 1}`) : undefined;
    for (const s of members) {
      n++;
      steps.push({
        index: n,
        id: s.id,
        title: s.title,
        destructive: Boolean(s.destructive),
        ...(group ? { group } : {}),
        rollback: typeof s.rollback === 'function',
        verify: typeof s.verify === 'function',
      });
    }
  });
  return { name: rb.name, title: rb.title, mutating: rb.mutating, lock: rb.mutating && rb.lock !== false, steps };
}

export function renderRunbookShape(shape: RunbookShape, p: Painter = plain): string {
  const idW = Math.max(4, ...shape.steps.map((s) => s.id.length));
  const lines = [
    `${p.bold(shape.name)}: ${shape.title}`,
    `  ${shape.mutating ? 'mutating' : 'read-only'}${shape.lock ? ', takes the namespace lock' : ''}`,
    `  ${'#'.padStart(2)}  ${'STEP'.padEnd(idW)}  FLAGS               TITLE`,
  ];
  for (const s of shape.steps) {
    const flags = [s.destructive ? 'destructive' : '', s.rollback ? 'rollback' : '', s.verify ? 'verify' : '']
      .filter(Boolean)
      .join(',');
    lines.push(
      `  ${String(s.index).padStart(2)}  ${s.id.padEnd(idW)}  ${s.destructive ? p.red(flags.padEnd(18)) : flags.padEnd(18)}  ${s.title}${s.group ? p.dim(`  [parallel: ${s.group}]`) : ''}`,
    );
  }
  return lines.join('\n');
}
