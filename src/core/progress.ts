// Progress of a run. On a terminal: listr2's default renderer (spinners, a tree for parallel groups).
// Off a terminal (CI, pipes, -o json): one timestamped line per event on stderr. The line renderer is
// our own rather than listr2's simple renderer: it is a few lines, prints the same words the journal
// uses, and never depends on listr2's TTY detection, so CI logs stay stable across listr2 releases.
import { formatDuration } from './duration.js';
import { errorMessage } from './errors.js';
import type { IoHostImpl } from './io-impl.js';
import type { PlanEntry } from './plan-render.js';

export interface ProgressItem {
  /** A single step id, or the ids of a parallel group. */
  steps: string[];
  group?: string;
}

export interface Progress {
  applyPhase(items: ProgressItem[], entries: PlanEntry[]): void;
  stepStart(id: string): void;
  verifyStart(id: string): void;
  stepDone(id: string, durationMs: number): void;
  stepSkip(id: string, reason: string): void;
  stepFail(id: string, err: unknown): void;
  rollbackPhase(ids: string[]): void;
  rollbackStart(id: string): void;
  rollbackDone(id: string, durationMs: number): void;
  rollbackFail(id: string, err: unknown): void;
  /** Close the phase in progress (steps never reached are shown as not run). */
  end(): Promise<void>;
}

export function createProgress(io: IoHostImpl): Progress {
  if (io.lineMode || io.quiet) return lineProgress(io);
  return listrProgress(io);
}

export function lineProgress(io: IoHostImpl): Progress {
  const pos = new Map<string, string>();
  const tag = (id: string) => `${pos.get(id) ?? ''} ${id}`.trim();
  const say = (s: string) => {
    if (!io.quiet) io.line(s);
  };
  return {
    applyPhase(_items, entries) {
      entries.forEach((e, i) => {
        pos.set(e.step, `[${i + 1}/${entries.length}]`);
      });
    },
    stepStart: (id) => say(`apply ${tag(id)}`),
    verifyStart: (id) => say(`verify ${tag(id)}`),
    stepDone: (id, ms) => say(`done  ${tag(id)} (${formatDuration(ms)})`),
    stepSkip: (id, reason) => say(`skip  ${tag(id)}: ${reason}`),
    stepFail: (id, err) => io.line(`fail  ${tag(id)}: ${errorMessage(err)}`),
    rollbackPhase: (ids) => say(`rollback: undoing ${ids.length} completed step(s) in reverse order`),
    rollbackStart: (id) => say(`undo  ${tag(id)}`),
    rollbackDone: (id, ms) => say(`undone ${tag(id)} (${formatDuration(ms)})`),
    rollbackFail: (id, err) => io.line(`undo-failed ${tag(id)}: ${errorMessage(err)}`),
    async end() {},
  };
}

type Outcome = { kind: 'done' | 'skip' | 'fail' | 'notrun'; msg?: string };
interface Deferred {
  promise: Promise<Outcome>;
  resolve(o: Outcome): void;
}

function deferred(): Deferred {
  let resolve!: (o: Outcome) => void;
  let settled = false;
  const promise = new Promise<Outcome>((r) => {
    resolve = r;
  });
  return {
    promise,
    resolve: (o) => {
      if (settled) return;
      settled = true;
      resolve(o);
    },
  };
}
type Defs = Map<string, Deferred>;

/**
 * listr2 as a display only: the runner keeps control of order, concurrency and rollback, and each
 * listr2 task just waits for its step's outcome. listr2 is imported lazily (it is not small).
 */
function listrProgress(io: IoHostImpl): Progress {
  let phase: { defs: Map<string, Deferred>; done: Promise<void> } | undefined;
  const titles = new Map<string, string>();

  /** The new phase's deferreds exist at once (settle() may come before listr2 has loaded). */
  const startPhase = (
    build: (L: typeof import('listr2'), defs: Defs) => import('listr2').Listr<unknown>,
    ids: string[],
    after: Promise<void> = Promise.resolve(),
  ): void => {
    const defs = new Map(ids.map((id) => [id, deferred()] as const));
    const p = {
      defs,
      done: after
        .then(() => import('listr2'))
        .then((L) => build(L, defs).run())
        .then(
          () => undefined,
          () => undefined,
        ),
    };
    phase = p;
  };
  const task = (defs: Defs, id: string) => ({
    title: titles.get(id) ?? id,
    task: async (_: unknown, t: { skip(m?: string): void; title: string }) => {
      const d = defs.get(id);
      if (!d) return;
      const o = await d.promise;
      if (o.kind === 'skip' || o.kind === 'notrun') t.skip(o.msg ?? 'not run');
      if (o.kind === 'fail') throw new Error(o.msg ?? 'failed');
      if (o.kind === 'done' && o.msg) t.title = `${t.title} ${io.chalk.dim(`(${o.msg})`)}`;
    },
  });
  const settle = (id: string, o: Outcome) => phase?.defs.get(id)?.resolve(o);
  const closePhase = async () => {
    const p = phase;
    if (!p) return;
    for (const d of p.defs.values()) d.resolve({ kind: 'notrun', msg: 'not run' });
    await p.done;
    if (phase === p) phase = undefined;
  };

  return {
    applyPhase(items, entries) {
      for (const e of entries) titles.set(e.step, e.title);
      startPhase(
        (L, defs) =>
          new L.Listr(
            items.map((it) =>
              it.group
                ? {
                    title: it.group,
                    task: (_: unknown, t: { newListr: (...a: unknown[]) => unknown }) =>
                      t.newListr(
                        it.steps.map((id) => task(defs, id)),
                        { concurrent: true, exitOnError: false },
                      ),
                  }
                : task(defs, it.steps[0]!),
            ) as never,
            { concurrent: false, exitOnError: false, rendererOptions: { collapseSubtasks: false } } as never,
          ),
        entries.map((e) => e.step),
      );
    },
    stepStart() {},
    verifyStart() {},
    stepDone: (id, ms) => settle(id, { kind: 'done', msg: formatDuration(ms) }),
    stepSkip: (id, reason) => settle(id, { kind: 'skip', msg: reason }),
    stepFail: (id, err) => settle(id, { kind: 'fail', msg: errorMessage(err) }),
    rollbackPhase(ids) {
      const prev = closePhase();
      startPhase(
        (L, defs) =>
          new L.Listr(
            ids.map((id) => ({ ...task(defs, id), title: `undo ${titles.get(id) ?? id}` })) as never,
            { concurrent: false, exitOnError: false } as never,
          ),
        ids,
        prev,
      );
    },
    rollbackStart() {},
    rollbackDone: (id, ms) => settle(id, { kind: 'done', msg: formatDuration(ms) }),
    rollbackFail: (id, err) => settle(id, { kind: 'fail', msg: errorMessage(err) }),
    end: closePhase,
  };
}
