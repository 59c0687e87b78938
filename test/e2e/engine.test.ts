// The engine end to end: the built CLI runs a site runbook (test/fixtures/configmaps-runbook.mjs, loaded
// through HIVECTL_RUNBOOK_MODULES) against the sandbox's cluster. Covers the noop rerun, SIGKILL +
// resume, SIGINT + rollback, the Lease lock (held, expired, --force-unlock), refusals and -o json.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { kubectl, runCli, sandbox, uniqueName } from '../helpers/sandbox.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = join(repo, 'test', 'fixtures', 'configmaps-runbook.mjs');

interface World {
  ns: string;
  state: string;
  env: Record<string, string>;
}

function world(prefix: string): World {
  const state = mkdtempSync(join(tmpdir(), 'hivectl-e2e-engine-'));
  return { ns: uniqueName(prefix), state, env: { HIVECTL_RUNBOOK_MODULES: FIXTURE, HIVECTL_STATE_DIR: state } };
}

function args(w: World, inputs: Record<string, unknown>, extra: string[] = []): string[] {
  const ins = Object.entries({ namespace: w.ns, prefix: 'cm', ...inputs }).flatMap(([k, v]) => [
    '-i',
    `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`,
  ]);
  return ['--context', sandbox().context, '-n', w.ns, ...extra, 'runbook', 'run', 'test-configmaps', ...ins];
}

/** name -> data of the test ConfigMaps in a namespace. */
async function configMaps(ns: string): Promise<Record<string, unknown>> {
  const r = await kubectl(['get', 'configmaps', '-n', ns, '-o', 'json']);
  if (r.code !== 0 && /not found/i.test(r.stderr)) return {};
  expect(r.code, r.stderr).toBe(0);
  const items = (JSON.parse(r.stdout) as { items: Array<{ metadata: { name: string }; data?: unknown }> }).items;
  return Object.fromEntries(
    items.filter((i) => i.metadata.name.startsWith('cm-')).map((i) => [i.metadata.name, i.data]),
  );
}

type Rec = Record<string, unknown>;
const norm = (m: Record<string, unknown>) => JSON.stringify(Object.entries(m).sort());

function journalFile(w: World): string | undefined {
  const dir = join(w.state, 'runs');
  if (!existsSync(dir)) return undefined;
  const f = readdirSync(dir).find((x) => x.endsWith('.ndjson'));
  return f ? join(dir, f) : undefined;
}

function records(path: string): Array<Record<string, unknown>> {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

function start(
  w: World,
  a: string[],
): { child: ChildProcess; done: Promise<{ code: number | null; signal: string | null; stderr: string }> } {
  const child = spawn(process.execPath, [join(repo, 'bin', 'hivectl.js'), ...a], {
    cwd: repo,
    env: { ...process.env, ...sandbox().env, NO_COLOR: '1', ...w.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdout!.resume();
  const done = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, done };
}

/** Wait (by watching the journal, not by sleeping a fixed time) until a record matches. */
async function waitForRecord(
  w: World,
  pred: (r: Record<string, unknown>) => boolean,
  exited: Promise<unknown>,
): Promise<void> {
  let over = false;
  void exited.then(() => {
    over = true;
  });
  for (;;) {
    const f = journalFile(w);
    if (f && records(f).some(pred)) return;
    if (over) throw new Error('the run ended before reaching the awaited record');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('engine e2e (built CLI + sandbox)', () => {
  it('runs a runbook (-o json parses), then a second run is a noop; runs list/show read the journal', async () => {
    const w = world('eng-run');
    const first = await runCli(args(w, { count: 3 }, ['-o', 'json']), { env: w.env });
    expect(first.code, first.stderr).toBe(0);
    const doc = JSON.parse(first.stdout);
    expect(doc).toMatchObject({ runbook: 'test-configmaps', status: 'succeeded', exitCode: 0 });
    expect(doc.plan.map((p: { step: string }) => p.step)).toEqual(['write-1', 'write-2', 'write-3']);
    expect(doc.steps.every((s: { status: string }) => s.status === 'succeeded')).toBe(true);
    expect(Object.keys(await configMaps(w.ns)).sort()).toEqual(['cm-1', 'cm-2', 'cm-3']);
    // The resolved target is printed before any change.
    expect(first.stderr).toMatch(new RegExp(`cluster: context ${sandbox().context} \\(https?://`));

    const second = await runCli(args(w, { count: 3 }, ['-o', 'json']), { env: w.env });
    expect(second.code, second.stderr).toBe(0);
    const doc2 = JSON.parse(second.stdout);
    expect(doc2.plan.every((p: { noop: boolean }) => p.noop)).toBe(true);
    expect(doc2.steps.every((s: { status: string }) => s.status === 'skipped')).toBe(true);

    const list = await runCli(['runs', 'list', '-o', 'json'], { env: w.env });
    expect(list.code).toBe(0);
    const runs = JSON.parse(list.stdout) as Array<{ runId: string; status: string }>;
    expect(runs.map((r) => r.runId)).toEqual([doc2.runId, doc.runId]);
    const show = await runCli(['runs', 'show', doc.runId, '-o', 'json'], { env: w.env });
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({
      runId: doc.runId,
      status: 'succeeded',
      runbook: 'test-configmaps',
    });
  });

  it('dry run changes nothing; failure rolls back (1), --rollback=never (4), rollback failure (6), no --yes (5)', async () => {
    const w = world('eng-fail');
    const dry = await runCli(args(w, { count: 2 }, ['--dry-run']), { env: w.env });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toContain('dry run: nothing changed');
    expect(await configMaps(w.ns)).toEqual({});

    const canary = `canary-${uniqueName('pw')}`;
    const failed = await runCli(args(w, { count: 3, failAt: 3, password: canary }), { env: w.env });
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.stderr).toContain('step 3 fails on purpose');
    expect(await configMaps(w.ns)).toEqual({});
    // The secret the first step registered (and put in its result) never reaches the journal.
    const dir = join(w.state, 'runs');
    const journals = readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8'));
    expect(journals.join('\n')).toContain('"password":"***"');
    for (const j of journals) expect(j).not.toContain(canary);
    expect(failed.stdout + failed.stderr).not.toContain(canary);

    // --rollback=never: what completed stands (exit 4); a failing rollback exits 6 naming the journal.
    const partial = await runCli(args(w, { count: 2, failAt: 2 }, ['--rollback', 'never']), { env: w.env });
    expect(partial.code, partial.stderr).toBe(4);
    expect(Object.keys(await configMaps(w.ns))).toEqual(['cm-1']);
    const cleanup0 = await kubectl(['delete', 'configmap', 'cm-1', '-n', w.ns]);
    expect(cleanup0.code, cleanup0.stderr).toBe(0);
    const rbFail = await runCli(args(w, { count: 3, failAt: 3, rollbackFailAt: 1 }), { env: w.env });
    expect(rbFail.code, rbFail.stderr).toBe(6);
    expect(rbFail.stderr).toMatch(/rollback failed at step write-1: rollback of step 1 fails on purpose/);
    expect(rbFail.stderr).toMatch(/Journal: \S+\.ndjson/);
    expect(Object.keys(await configMaps(w.ns))).toEqual(['cm-1']);
    const cleanup = await kubectl(['delete', 'configmap', 'cm-1', '-n', w.ns]);
    expect(cleanup.code, cleanup.stderr).toBe(0);

    const refused = await runCli(args(w, { count: 2, destructive: true }), { env: w.env });
    expect(refused.code, refused.stderr).toBe(5);
    expect(refused.stderr).toMatch(/need confirmation and there is no terminal/);
    expect(await configMaps(w.ns)).toEqual({});
  });

  it('SIGKILL mid-run, then `hivectl resume` reaches the same ConfigMaps as an uninterrupted run', async () => {
    const ref = world('eng-ref');
    const uninterrupted = await runCli(args(ref, { count: 4 }), { env: ref.env });
    expect(uninterrupted.code, uninterrupted.stderr).toBe(0);

    const w = world('eng-kill');
    const run = start(w, args(w, { count: 4, delayMs: 800 }));
    await waitForRecord(w, (r) => r.type === 'apply-start' && r.step === 'write-3', run.done);
    run.child.kill('SIGKILL');
    const killed = await run.done;
    expect(killed.signal).toBe('SIGKILL');
    const before = await configMaps(w.ns);
    expect(Object.keys(before).length).toBeLessThan(4);

    const runId = (records(journalFile(w)!)[0] as { runId: string }).runId;
    const shown = await runCli(['runs', 'show', runId, '-o', 'json'], { env: w.env });
    expect(JSON.parse(shown.stdout).status).toBe('interrupted');

    // The killed run still holds its Lease; resume is the same run, so it takes it back.
    const resumed = await runCli(['resume', runId], { env: w.env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming test-configmaps at step write-3/);
    expect(norm(await configMaps(w.ns))).toBe(norm(await configMaps(ref.ns)));
    const after = await runCli(['runs', 'show', runId, '-o', 'json'], { env: w.env });
    expect(JSON.parse(after.stdout)).toMatchObject({ status: 'succeeded', sessions: 2 });
  });

  it.each([
    ['right after taking the lock', { count: 3, delayMs: 300 }, (r: Rec) => r.type === 'lock', 0],
    [
      'between apply and verify',
      { count: 3, delayMs: 300 },
      (r: Rec) => r.type === 'apply-done' && r.step === 'write-2',
      0,
    ],
    [
      'during the rollback of a failed run',
      { count: 3, failAt: 3, rollbackDelayMs: 1500 },
      (r: Rec) => r.type === 'rollback-start',
      1,
    ],
  ] as const)('SIGKILL %s, then resume: same end state as without the kill', async (_when, inputs, at, code) => {
    const ref = world('eng-ref');
    const plain = { ...inputs } as Record<string, unknown>;
    delete plain.delayMs;
    delete plain.rollbackDelayMs;
    const uninterrupted = await runCli(args(ref, plain), { env: ref.env });
    expect(uninterrupted.code, uninterrupted.stderr).toBe(code);

    const w = world('eng-kill');
    const run = start(w, args(w, inputs));
    await waitForRecord(w, at, run.done);
    run.child.kill('SIGKILL');
    expect((await run.done).signal).toBe('SIGKILL');
    const runId = (records(journalFile(w)!)[0] as { runId: string }).runId;
    const resumed = await runCli(['resume', runId], { env: w.env });
    expect(resumed.code, resumed.stderr).toBe(code);
    expect(norm(await configMaps(w.ns))).toBe(norm(await configMaps(ref.ns)));
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s mid-run rolls back what completed and exits %i', async (sig, code) => {
    const w = world('eng-sig');
    const run = start(w, args(w, { count: 4, delayMs: 800 }));
    await waitForRecord(w, (r) => r.type === 'apply-done' && r.step === 'write-1', run.done);
    run.child.kill(sig);
    const r = await run.done;
    expect(r.code, r.stderr).toBe(code);
    expect(await configMaps(w.ns)).toEqual({});
    const recs = records(journalFile(w)!);
    expect(recs.some((x) => x.type === 'rollback-done' && x.step === 'write-1')).toBe(true);
    expect(recs.at(-1)).toMatchObject({ type: 'end', status: 'aborted', exitCode: code });
    // The lock was released on the way out.
    const lease = await kubectl(['get', 'lease', 'hivectl-lock', '-n', w.ns]);
    expect(lease.code).not.toBe(0);
  });

  it('a second SIGINT during rollback exits at once; resume then finishes the run', async () => {
    const w = world('eng-int2');
    const run = start(w, args(w, { count: 3, delayMs: 800, rollbackDelayMs: 60_000 }));
    await waitForRecord(w, (r) => r.type === 'apply-done' && r.step === 'write-1', run.done);
    run.child.kill('SIGINT');
    await waitForRecord(w, (r) => r.type === 'rollback-start', run.done);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/exited at once/);
    const recs = records(journalFile(w)!);
    expect(recs.at(-1)).toMatchObject({ type: 'note', signal: 'SIGINT' });
    const runId = recs[0]!.runId as string;
    const resumed = await runCli(['resume', runId], { env: w.env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(Object.keys(await configMaps(w.ns)).sort()).toEqual(['cm-1', 'cm-2', 'cm-3']);
  });

  it('a lock held by a live holder refuses (exit 5); an expired one needs --force-unlock', async () => {
    const w = world('eng-lock');
    await kubectl(['create', 'namespace', w.ns]);
    const lease = (renewTime: string, duration: number) => `apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: hivectl-lock, namespace: ${w.ns}}
spec:
  holderIdentity: alice@laptop/20260101T000000000Z-abcdef
  leaseDurationSeconds: ${duration}
  acquireTime: "${renewTime}"
  renewTime: "${renewTime}"
`;
    const micro = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
    let r = await kubectl(['apply', '-f', '-'], { input: lease(micro(Date.now()), 3600) });
    expect(r.code, r.stderr).toBe(0);

    const held = await runCli(args(w, { count: 1 }), { env: w.env });
    expect(held.code, held.stderr).toBe(5);
    expect(held.stderr).toMatch(/held by alice@laptop\/20260101T000000000Z-abcdef for \d/);
    expect(await configMaps(w.ns)).toEqual({});
    // --force-unlock does not break a live lock.
    const forcedLive = await runCli(args(w, { count: 1 }, ['--force-unlock']), { env: w.env });
    expect(forcedLive.code, forcedLive.stderr).toBe(5);

    r = await kubectl(['apply', '-f', '-'], { input: lease(micro(Date.now() - 3_600_000), 30) });
    expect(r.code, r.stderr).toBe(0);
    const expired = await runCli(args(w, { count: 1 }), { env: w.env });
    expect(expired.code, expired.stderr).toBe(5);
    expect(expired.stderr).toMatch(/renewal expired/);
    expect(expired.stderr).toContain('--force-unlock');

    const forced = await runCli(args(w, { count: 1 }, ['--force-unlock']), { env: w.env });
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(/took over the expired lock of alice@laptop/);
    expect(Object.keys(await configMaps(w.ns))).toEqual(['cm-1']);
    const gone = await kubectl(['get', 'lease', 'hivectl-lock', '-n', w.ns]);
    expect(gone.code).not.toBe(0);
  });

  it('runbook list/show print the catalogue without running anything', async () => {
    const w = world('eng-show');
    const list = await runCli(['runbook', 'list', '-o', 'json'], { env: w.env });
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).map((d: { name: string }) => d.name)).toContain('test-configmaps');
    const show = await runCli(['runbook', 'show', 'test-configmaps', '-i', 'count=2', '-o', 'json'], { env: w.env });
    expect(show.code, show.stderr).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({
      name: 'test-configmaps',
      mutating: true,
      steps: [
        { id: 'write-1', rollback: true },
        { id: 'write-2', rollback: true },
      ],
    });
    const missing = await runCli(['runbook', 'show', 'no-such-runbook'], { env: w.env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no runbook named "no-such-runbook"');
  });
});
