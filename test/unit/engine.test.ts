// The runner's logic with in-memory steps: ordering, dry-run, confirmation, rollback, abort, gates,
// the journal (every phase, redaction) and resume. No servers: steps only record what they were asked.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HivectlConfig } from '../../src/core/config.js';
import { AbortedError, GateError, RefusedError, StepError, UsageError } from '../../src/core/errors.js';
import { createIoHost } from '../../src/core/io-impl.js';
import { readJournal, summarizeJournal } from '../../src/core/journal.js';
import type { LockProvider } from '../../src/core/lock.js';
import { type RunOptions, runRunbook } from '../../src/core/runner.js';
import type { AnyStep, Ctx, Mode, Runbook, RunbookItem } from '../../src/core/step.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hivectl-engine-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Sink {
  text: string;
  write(s: string): boolean;
}
const sink = (): Sink => ({
  text: '',
  write(s: string) {
    this.text += s;
    return true;
  },
});

interface StepSpec {
  id: string;
  destructive?: boolean;
  noop?: boolean;
  failApply?: Error;
  failVerify?: Error;
  failRollback?: Error;
  noRollback?: boolean;
  /** Runs inside apply (before it returns). */
  during?: (ctx: Ctx) => Promise<void> | void;
  result?: (ctx: Ctx) => unknown;
}

function makeSteps(log: string[], specs: StepSpec[]): AnyStep[] {
  return specs.map((s) => ({
    id: s.id,
    title: `step ${s.id}`,
    destructive: s.destructive,
    async plan() {
      log.push(`plan:${s.id}`);
      return {
        summary: s.noop ? 'nothing to do' : `change ${s.id}`,
        changes: s.noop ? [] : [{ action: 'create' as const, target: `thing/${s.id}` }],
        payload: { id: s.id },
        noop: s.noop,
      };
    },
    async apply(ctx: Ctx, payload: { id: string }) {
      log.push(`apply:${s.id}`);
      await s.during?.(ctx);
      if (s.failApply) throw s.failApply;
      return s.result ? s.result(ctx) : { made: payload.id };
    },
    async verify(_ctx: Ctx, result: unknown) {
      log.push(`verify:${s.id}:${JSON.stringify(result)}`);
      if (s.failVerify) throw s.failVerify;
    },
    ...(s.noRollback
      ? {}
      : {
          async rollback(_ctx: Ctx, result: unknown) {
            log.push(`rollback:${s.id}:${JSON.stringify(result)}`);
            if (s.failRollback) throw s.failRollback;
          },
        }),
  }));
}

const MODE: Mode = {
  dryRun: false,
  yes: false,
  output: 'json',
  verbose: false,
  quiet: false,
  rollback: 'auto',
  timeoutMs: 60_000,
};

function setup(
  items: RunbookItem[],
  opts: Partial<Mode> & {
    tty?: boolean;
    confirm?: boolean;
    lock?: LockProvider;
    signal?: AbortSignal;
    runId?: string;
    resume?: RunOptions['resume'];
    name?: string;
  } = {},
) {
  const stderr = sink();
  const stdout = sink();
  const io = createIoHost({
    format: opts.output ?? 'json',
    stderr,
    stdout,
    isTTY: opts.tty ?? false,
    env: { NO_COLOR: '1' },
  });
  if (opts.confirm !== undefined) io.confirm = async () => opts.confirm!;
  const runbook: Runbook = {
    name: opts.name ?? 'test',
    title: 'Test runbook',
    inputs: { n: 1 },
    mutating: true,
    items,
  };
  const run = () =>
    runRunbook({
      runbook,
      io,
      mode: { ...MODE, ...opts },
      target: { namespace: 'hive-system', context: 'test' },
      config: {} as HivectlConfig,
      adapters: { k8s: () => Promise.reject(new Error('no cluster in unit tests')) } as Ctx['adapters'],
      journalDir: dir,
      user: 'tester@host',
      ...(opts.lock ? { lock: opts.lock } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.runId ? { runId: opts.runId } : {}),
      ...(opts.resume ? { resume: opts.resume } : {}),
    });
  return { run, stderr, stdout, io };
}

describe('runner', () => {
  it('plans every step before applying any, and applies in order', async () => {
    const log: string[] = [];
    const { run } = setup(makeSteps(log, [{ id: 'a' }, { id: 'b' }, { id: 'c' }]));
    const r = await run();
    expect(r.status).toBe('succeeded');
    expect(r.exitCode).toBe(0);
    const firstApply = log.findIndex((l) => l.startsWith('apply:'));
    expect(log.slice(0, firstApply)).toEqual(['plan:a', 'plan:b', 'plan:c']);
    expect(log.filter((l) => l.startsWith('apply:'))).toEqual(['apply:a', 'apply:b', 'apply:c']);
    expect(r.results).toEqual({ a: { made: 'a' }, b: { made: 'b' }, c: { made: 'c' } });
    expect(r.plan.map((p) => p.step)).toEqual(['a', 'b', 'c']);
  });

  it('--dry-run plans, prints the plan and applies nothing', async () => {
    const log: string[] = [];
    const { run, stderr } = setup(makeSteps(log, [{ id: 'a' }, { id: 'b', destructive: true }]), { dryRun: true });
    const r = await run();
    expect(r.status).toBe('planned');
    expect(r.exitCode).toBe(0);
    expect(log).toEqual(['plan:a', 'plan:b']);
    expect(stderr.text).toContain('dry run: nothing changed');
    expect(stderr.text).toContain('+ create thing/b');
  });

  it('skips steps whose plan is a noop', async () => {
    const log: string[] = [];
    const { run } = setup(makeSteps(log, [{ id: 'a', noop: true }, { id: 'b' }]));
    const r = await run();
    expect(r.exitCode).toBe(0);
    expect(log).not.toContain('apply:a');
    expect(log).toContain('apply:b');
    expect(r.steps.find((s) => s.id === 'a')?.status).toBe('skipped');
  });

  it('refuses a destructive step without a TTY and without --yes (exit 5, nothing applied)', async () => {
    const log: string[] = [];
    const { run, stderr } = setup(makeSteps(log, [{ id: 'a' }, { id: 'b', destructive: true }]), { tty: false });
    const r = await run();
    expect(r.exitCode).toBe(5);
    expect(r.status).toBe('refused');
    expect(log.some((l) => l.startsWith('apply:'))).toBe(false);
    expect(r.error?.message).toMatch(/destructive step\(s\) b need confirmation/);
    expect(stderr.text).not.toContain('apply ');
  });

  it('runs a destructive step with --yes, or after an interactive yes; a no refuses', async () => {
    const log: string[] = [];
    expect((await setup(makeSteps(log, [{ id: 'a', destructive: true }]), { yes: true }).run()).exitCode).toBe(0);
    expect(
      (await setup(makeSteps(log, [{ id: 'b', destructive: true }]), { tty: true, confirm: true }).run()).exitCode,
    ).toBe(0);
    const declined = await setup(makeSteps(log, [{ id: 'c', destructive: true }]), { tty: true, confirm: false }).run();
    expect(declined.exitCode).toBe(5);
    expect(log).toContain('apply:a');
    expect(log).toContain('apply:b');
    expect(log).not.toContain('apply:c');
  });

  it('rolls back completed steps in reverse order when a step fails (exit 1)', async () => {
    const log: string[] = [];
    const { run } = setup(makeSteps(log, [{ id: 'a' }, { id: 'b' }, { id: 'c', failApply: new StepError('boom') }]));
    const r = await run();
    expect(r.exitCode).toBe(1);
    expect(r.status).toBe('rolled-back');
    expect(log.filter((l) => l.startsWith('rollback:'))).toEqual([
      'rollback:b:{"made":"b"}',
      'rollback:a:{"made":"a"}',
    ]);
    expect(r.error?.message).toBe('boom');
    expect(r.error?.step).toBe('c');
  });

  it('a step that fails verify is rolled back too', async () => {
    const log: string[] = [];
    const { run } = setup(makeSteps(log, [{ id: 'a' }, { id: 'b', failVerify: new Error('not ready') }]));
    const r = await run();
    expect(r.exitCode).toBe(1);
    expect(log.filter((l) => l.startsWith('rollback:')).map((l) => l.split(':')[1])).toEqual(['b', 'a']);
  });

  it('--rollback=never leaves completed steps standing (exit 4) and names them', async () => {
    const log: string[] = [];
    const { run } = setup(makeSteps(log, [{ id: 'a' }, { id: 'b', failApply: new Error('boom') }]), {
      rollback: 'never',
    });
    const r = await run();
    expect(r.exitCode).toBe(4);
    expect(r.status).toBe('partial');
    expect(r.manual).toEqual(['a']);
    expect(log.some((l) => l.startsWith('rollback:'))).toBe(false);
  });

  it('a completed step without a rollback makes the outcome partial (exit 4)', async () => {
    const log: string[] = [];
    const { run } = setup(
      makeSteps(log, [{ id: 'a', noRollback: true }, { id: 'b' }, { id: 'c', failApply: new Error('boom') }]),
    );
    const r = await run();
    expect(r.exitCode).toBe(4);
    expect(r.manual).toEqual(['a']);
    expect(log).toContain('rollback:b:{"made":"b"}');
  });

  it('a failed rollback exits 6 and names the journal and what stands', async () => {
    const log: string[] = [];
    const { run } = setup(
      makeSteps(log, [
        { id: 'a' },
        { id: 'b', failRollback: new Error('cannot delete') },
        { id: 'c', failApply: new Error('boom') },
      ]),
    );
    const r = await run();
    expect(r.exitCode).toBe(6);
    expect(r.status).toBe('rollback-failed');
    expect(r.error?.message).toMatch(/rollback failed at step b: cannot delete/);
    expect(r.error?.hint).toContain(r.journal);
    expect(r.manual).toEqual(['a', 'b']);
    // Stops at the failed rollback: a was not undone.
    expect(log).not.toContain('rollback:a:{"made":"a"}');
  });

  it('--rollback=always undoes even a successful run (exit 0)', async () => {
    const log: string[] = [];
    const r = await setup(makeSteps(log, [{ id: 'a' }, { id: 'b' }]), { rollback: 'always' }).run();
    expect(r.exitCode).toBe(0);
    expect(r.status).toBe('rolled-back');
    expect(log.filter((l) => l.startsWith('rollback:')).map((l) => l.split(':')[1])).toEqual(['b', 'a']);
  });

  it('an abort during a step rolls back what completed and exits 130 (143 for SIGTERM)', async () => {
    for (const [sig, code] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const) {
      const log: string[] = [];
      const ac = new AbortController();
      const { run } = setup(
        makeSteps(log, [
          { id: 'a' },
          {
            id: 'b',
            // The step honours ctx.signal, as execa children and SDK waiters do.
            during: (ctx) =>
              new Promise((_, reject) => {
                ctx.signal.addEventListener('abort', () => reject(new Error('cancelled')), { once: true });
                ac.abort(new AbortedError(sig));
              }),
          },
          { id: 'c' },
        ]),
        { signal: ac.signal },
      );
      const r = await run();
      expect(r.exitCode).toBe(code);
      expect(r.status).toBe('aborted');
      expect(log).not.toContain('apply:c');
      expect(log).toContain('rollback:a:{"made":"a"}');
    }
  });

  it('a GateError exits 3 (after rolling back)', async () => {
    const log: string[] = [];
    const r = await setup(makeSteps(log, [{ id: 'a' }, { id: 'gate', failApply: new GateError('RTO missed') }])).run();
    expect(r.exitCode).toBe(3);
    expect(log).toContain('rollback:a:{"made":"a"}');
  });

  it('a UsageError from a step exits 2; a plan failure changes nothing', async () => {
    const log: string[] = [];
    const steps = makeSteps(log, [{ id: 'a' }, { id: 'b' }]);
    steps[1]!.plan = async () => {
      throw new UsageError('no AWS region configured');
    };
    const r = await setup(steps).run();
    expect(r.exitCode).toBe(2);
    expect(log.some((l) => l.startsWith('apply:'))).toBe(false);
  });

  it('verify is bounded by --timeout: a step that never becomes ready fails and is rolled back', async () => {
    const log: string[] = [];
    const [a, b] = makeSteps(log, [{ id: 'a' }, { id: 'b' }]);
    b!.verify = (ctx: Ctx) =>
      new Promise<void>((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
    const r = await setup([a!, b!], { timeoutMs: 20 }).run();
    expect(r.exitCode).toBe(1);
    expect(r.error?.message).toMatch(/step b did not verify within 20ms \(--timeout\)/);
    expect(log.filter((l) => l.startsWith('rollback:')).map((l) => l.split(':')[1])).toEqual(['b', 'a']);
  });

  it('runs a parallel group concurrently', async () => {
    const log: string[] = [];
    let startedB!: () => void;
    const bStarted = new Promise<void>((r) => {
      startedB = r;
    });
    const [a, b, c] = makeSteps(log, [
      { id: 'a', during: () => bStarted }, // a finishes only once b has started: deadlocks if sequential
      { id: 'b', during: () => startedB() },
      { id: 'c' },
    ]);
    const r = await setup([{ parallel: [a!, b!], title: 'both' }, c!]).run();
    expect(r.exitCode).toBe(0);
    expect(log.indexOf('apply:c')).toBeGreaterThan(log.indexOf('apply:a'));
    expect(r.plan.find((p) => p.step === 'a')?.group).toBe('both');
  });

  it('a lock held by someone else refuses the run (exit 5) before anything is applied; the lock is released', async () => {
    const log: string[] = [];
    const held: LockProvider = {
      acquire: async () => {
        throw new RefusedError('the lock hive-system/hivectl-lock is held by bob@ci/123 for 2m');
      },
    };
    const r = await setup(makeSteps(log, [{ id: 'a' }]), { lock: held }).run();
    expect(r.exitCode).toBe(5);
    expect(r.error?.message).toContain('bob@ci/123');
    expect(log).not.toContain('apply:a');

    const events: string[] = [];
    const free: LockProvider = {
      acquire: async (_ctx, o) => {
        events.push(`acquire:${o.holder.startsWith('tester@host/') ? 'ok' : o.holder}`);
        return {
          holder: o.holder,
          namespace: 'hive-system',
          onLost() {},
          release: async () => void events.push('release'),
        };
      },
    };
    const ok = await setup(makeSteps(log, [{ id: 'b' }]), { lock: free }).run();
    expect(ok.exitCode).toBe(0);
    expect(events).toEqual(['acquire:ok', 'release']);
  });

  it('-o json plan entries carry changes and destructive flags', async () => {
    const log: string[] = [];
    const r = await setup(makeSteps(log, [{ id: 'a', destructive: true }]), { dryRun: true }).run();
    expect(r.plan[0]).toMatchObject({ step: 'a', destructive: true, noop: false, changes: [{ action: 'create' }] });
  });
});

describe('journal', () => {
  it('records every phase of every step, in order, with timestamps and durations', async () => {
    const log: string[] = [];
    const r = await setup(makeSteps(log, [{ id: 'a' }, { id: 'b', failApply: new Error('boom') }])).run();
    const recs = readJournal(r.journal);
    expect(recs[0]).toMatchObject({
      type: 'run',
      runId: r.runId,
      runbook: 'test',
      inputs: { n: 1 },
      user: 'tester@host',
    });
    expect(recs.at(-1)).toMatchObject({ type: 'end', status: 'rolled-back', exitCode: 1 });
    const seq = recs.filter((x) => x.step).map((x) => `${x.type}:${x.step}`);
    expect(seq).toEqual([
      'plan:a',
      'plan:b',
      'apply-start:a',
      'apply-done:a',
      'verify-start:a',
      'verify-done:a',
      'apply-start:b',
      'error:b',
      'rollback-start:a',
      'rollback-done:a',
    ]);
    for (const x of recs) expect(Number.isNaN(Date.parse(x.ts))).toBe(false);
    expect(recs.find((x) => x.type === 'apply-done')).toMatchObject({ result: { made: 'a' } });
    expect(typeof recs.find((x) => x.type === 'apply-done')?.durationMs).toBe('number');
    expect(r.runId).toMatch(/^\d{8}T\d{9}Z-[0-9a-f]{6}$/);
  });

  it('never writes a secret: registered values, secret-named keys, URL passwords (canary)', async () => {
    const canary = `canary-${Math.random().toString(36).slice(2)}`;
    const log: string[] = [];
    const steps = makeSteps(log, [
      {
        id: 'a',
        during: (ctx) => {
          ctx.registerSecret(canary);
          ctx.note('a', { message: `connecting with ${canary}` });
        },
        result: () => ({
          dsn: `postgres://hive:${canary}@db:5432/hive`,
          token: 'plain-token-value',
          embedded: `x${canary}y`,
          keyCount: 3,
        }),
      },
      { id: 'b', failApply: new Error(`auth failed for ${canary}`) },
    ]);
    const { run, stdout, stderr } = setup(steps);
    const r = await run();
    const text = readFileSync(r.journal, 'utf8');
    expect(text).not.toContain(canary);
    expect(text).not.toContain(Buffer.from(canary).toString('base64'));
    expect(text).not.toContain('plain-token-value');
    expect(text).toContain('postgres://hive:***@db:5432/hive');
    expect(text).toContain('"keyCount":3');
    // The report printed to the user is redacted as well.
    expect(JSON.stringify(r.error)).not.toContain(canary);
    expect(stdout.text + stderr.text).not.toContain(canary);
  });

  it('summarizes a run for `runs show`', async () => {
    const log: string[] = [];
    const r = await setup(makeSteps(log, [{ id: 'a' }, { id: 'b', noop: true }])).run();
    const s = summarizeJournal(r.journal, readJournal(r.journal));
    expect(s).toMatchObject({ runId: r.runId, runbook: 'test', status: 'succeeded', exitCode: 0, sessions: 1 });
    expect(s.steps.map((x) => [x.id, x.status])).toEqual([
      ['a', 'verified'],
      ['b', 'skipped'],
    ]);
  });
});

describe('resume', () => {
  it('re-verifies completed steps with their journalled results and continues from the failed one', async () => {
    const log1: string[] = [];
    let fail = true;
    const build = (log: string[]) =>
      makeSteps(log, [
        { id: 'a', result: () => ({ made: 'a', at: 'first-run' }) },
        {
          id: 'b',
          during: () => {
            if (fail) throw new Error('transient');
          },
        },
        { id: 'c', result: (ctx) => ({ sawA: ctx.results.get('a') }) },
      ]);
    const first = await setup(build(log1), { rollback: 'never' }).run();
    expect(first.exitCode).toBe(4);

    fail = false;
    const log2: string[] = [];
    const second = await setup(build(log2), {
      runId: first.runId,
      resume: { records: readJournal(first.journal) },
    }).run();
    expect(second.exitCode).toBe(0);
    expect(second.runId).toBe(first.runId);
    // a: verified with its journalled result, not applied again.
    expect(log2).toContain('verify:a:{"made":"a","at":"first-run"}');
    expect(log2).not.toContain('apply:a');
    expect(log2).not.toContain('plan:a');
    expect(log2.filter((l) => l.startsWith('apply:'))).toEqual(['apply:b', 'apply:c']);
    expect(second.results.c).toEqual({ sawA: { made: 'a', at: 'first-run' } });

    const s = summarizeJournal(second.journal, readJournal(second.journal));
    expect(s.status).toBe('succeeded');
    expect(s.sessions).toBe(2);
  });

  it('--from-step applies again from the chosen step', async () => {
    const log1: string[] = [];
    const first = await setup(makeSteps(log1, [{ id: 'a' }, { id: 'b' }, { id: 'c' }])).run();
    const log2: string[] = [];
    const again = await setup(makeSteps(log2, [{ id: 'a' }, { id: 'b' }, { id: 'c' }]), {
      runId: first.runId,
      resume: { records: readJournal(first.journal), fromStep: 'b' },
    }).run();
    expect(again.exitCode).toBe(0);
    expect(log2.filter((l) => l.startsWith('apply:'))).toEqual(['apply:b', 'apply:c']);
  });

  it('in an interrupted parallel group, keeps the members that completed and applies the rest', async () => {
    let failB = true;
    const build = (log: string[]) => {
      const [s1, a, b, s3] = makeSteps(log, [
        { id: 's1' },
        { id: 'a' },
        {
          id: 'b',
          during: () => {
            if (failB) throw new Error('b broke');
          },
        },
        { id: 's3' },
      ]);
      return [s1!, { parallel: [a!, b!], title: 'pair' }, s3!];
    };
    const first = await setup(build([]), { rollback: 'never' }).run();
    expect(first.exitCode).toBe(4);
    failB = false;
    const log2: string[] = [];
    const second = await setup(build(log2), {
      runId: first.runId,
      resume: { records: readJournal(first.journal) },
    }).run();
    expect(second.exitCode).toBe(0);
    expect(log2.filter((l) => l.startsWith('apply:'))).toEqual(['apply:b', 'apply:s3']);
    expect(log2).toContain('verify:a:{"made":"a"}');
    expect(log2).toContain('verify:s1:{"made":"s1"}');
    expect(Object.keys(second.results)).toEqual(['s1', 'a', 'b', 's3']);
  });

  it('a failure after resume rolls back the restored steps too', async () => {
    const log1: string[] = [];
    const first = await setup(makeSteps(log1, [{ id: 'a' }, { id: 'b', failApply: new Error('x') }]), {
      rollback: 'never',
    }).run();
    const log2: string[] = [];
    const second = await setup(makeSteps(log2, [{ id: 'a' }, { id: 'b', failApply: new Error('still broken') }]), {
      runId: first.runId,
      resume: { records: readJournal(first.journal) },
    }).run();
    expect(second.exitCode).toBe(1);
    expect(log2).toContain('rollback:a:{"made":"a"}');
  });
});
