// The step and runbook model. A runbook is data: an ordered list of steps (and parallel groups),
// so it can be printed (`hivectl runbook show`), planned (--dry-run), applied, rolled back and resumed.
import type { HivectlConfig } from './config.js';
import type { IoHost } from './io.js';

/** One line of a plan: what a step would change, on what. */
export interface Change {
  action: 'create' | 'update' | 'delete' | 'replace' | 'run' | 'read' | 'skip' | 'none';
  /** What is changed, e.g. `apps/v1 Deployment hive-agents/agent-worker` or `s3://bucket/key`. */
  target: string;
  detail?: string;
}

export interface Plan<P = unknown> {
  /** One line for the plan table. */
  summary: string;
  changes: Change[];
  /** Passed to apply(). Must be JSON-serialisable: it is journalled and reused by `hivectl resume`. */
  payload: P;
  /** Nothing to do: the runner journals it and skips apply. */
  noop?: boolean;
}

export interface Step<P = unknown, R = unknown> {
  id: string;
  title: string;
  /** Destroys or overwrites data or availability: needs --yes or an interactive yes. */
  destructive?: boolean;
  /** Read-only. All that --dry-run runs. Must not depend on results of earlier steps. */
  plan(ctx: Ctx): Promise<Plan<P>>;
  /** Idempotent: running it twice changes nothing the second time. Result must be JSON-serialisable. */
  apply(ctx: Ctx, plan: P): Promise<R>;
  /** Waits (watches, SDK waiters) must honour ctx.signal. Also run by `resume` on completed steps. */
  verify?(ctx: Ctx, result: R): Promise<void>;
  rollback?(ctx: Ctx, result: R): Promise<void>;
}

// biome-ignore lint/suspicious/noExplicitAny: steps of any payload/result live in one list
export type AnyStep = Step<any, any>;

export interface ParallelGroup {
  parallel: AnyStep[];
  title?: string;
}

export type RunbookItem = AnyStep | ParallelGroup;

export interface Runbook {
  /** Registry name, e.g. `backup-create`; used by `hivectl resume` to rebuild the runbook. */
  name: string;
  title: string;
  /** JSON-serialisable inputs the runbook was built from (no secret values: refer to them). */
  inputs: Record<string, unknown>;
  /** Mutating runbooks take the namespace lock (a Lease). */
  mutating: boolean;
  /** Set false for a mutating runbook whose target has no cluster (pure AWS): no Lease is taken. */
  lock?: boolean;
  items: RunbookItem[];
}

export function isParallel(item: RunbookItem): item is ParallelGroup {
  return (item as ParallelGroup).parallel !== undefined;
}

export function flattenSteps(rb: Pick<Runbook, 'items'>): AnyStep[] {
  return rb.items.flatMap((i) => (isParallel(i) ? i.parallel : [i]));
}

export type OutputFormat = 'table' | 'json' | 'yaml';

export interface Mode {
  dryRun: boolean;
  yes: boolean;
  output: OutputFormat;
  verbose: boolean;
  quiet: boolean;
  rollback: 'auto' | 'never' | 'always';
  /** Overall timeout for waits, in ms (--timeout). */
  timeoutMs: number;
  /** --force-unlock: take over a lock whose renewal has expired. */
  forceUnlock?: boolean;
}

/** Where the run points. Resolved once from flags/env/config; steps never read process.env. */
export interface Target {
  kubeconfig?: string;
  context?: string;
  namespace: string;
  region?: string;
  drRegion?: string;
  endpointUrl?: string;
  profile?: string;
}

export interface Ctx {
  runId: string;
  signal: AbortSignal;
  io: IoHost;
  mode: Mode;
  target: Target;
  config: HivectlConfig;
  /** Lazily created adapters: the only way steps reach Kubernetes, AWS, PostgreSQL, Redis or processes. */
  adapters: import('../adapters/index.js').Adapters;
  /** Results of steps completed earlier in this run (or restored from the journal on resume), by step id. */
  results: Map<string, unknown>;
  /** Append a step-specific record to the journal (redacted). */
  note(stepId: string, data: Record<string, unknown>): void;
  /**
   * Mark a value as secret for the rest of the run: it (and its base64 form) is replaced by `***` in the
   * journal, logs and -o json/yaml output. Call it as soon as a step reads a password, token or key.
   */
  registerSecret(value: string | undefined): void;
}
