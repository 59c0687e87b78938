import { describe, expect, it } from 'vitest';
import { drillJunit, drillMarkdown, drillSummary } from '../../src/report/drill.js';
import type { DrillReport } from '../../src/runbooks/drill.js';

const report: DrillReport = {
  scenario: 'backup-restore',
  startedAt: '2026-11-27T02:00:00.000Z',
  durationMs: 4000,
  status: 'slo-missed',
  exitCode: 3,
  slo: { rtoMs: 1000, rpoMs: 300_000 },
  cpuMs: 200,
  phases: [
    {
      phase: 'restore',
      runbook: 'restore',
      runId: 'r1',
      status: 'succeeded',
      exitCode: 0,
      durationMs: 2500,
      journal: '/j/r1.ndjson',
      steps: [
        { id: 'restore-db', title: 'Restore <db> & "rows"', status: 'succeeded', durationMs: 2000 },
        { id: 'unquiesce', title: 'x', status: 'not-run' },
      ],
    },
  ],
  gates: [
    { name: 'restore RTO', ok: false, measured: '2.50s', target: '<= 1.00s' },
    { name: 'restore RPO', ok: true, measured: '10.00s', target: '<= 300.00s' },
  ],
};

describe('drill reports', () => {
  it('JUnit: a testcase per step and per gate; missed gates are failures; text is escaped', () => {
    const x = drillJunit(report);
    expect(x).toMatch(/^<\?xml version="1.0"/);
    expect(x).toMatch(/<testsuites name="hivectl drill backup-restore" tests="4" failures="1" skipped="1"/);
    expect(x).toMatch(/<testcase classname="drill.restore" name="restore-db" time="2.000"><\/testcase>/);
    expect(x).toMatch(
      /<testcase classname="drill.restore" name="unquiesce" time="0.000">\s*<skipped message="not-run"\/>/,
    );
    expect(x).toMatch(
      /<testcase classname="drill.slo" name="restore RTO" time="0">\s*<failure message="measured 2.50s, target &lt;= 1.00s"\/>/,
    );
    expect(x).not.toMatch(/<db>/);
  });

  it('Markdown: result, gates table and every step with its time', () => {
    const m = drillMarkdown(report);
    expect(m).toMatch(/Result: \*\*slo-missed\*\* \(exit 3\)/);
    expect(m).toMatch(/\| restore RTO \| 2.50s \| <= 1.00s \| \*\*MISSED\*\* \|/);
    expect(m).toMatch(/\| \| restore-db \| succeeded \| 2.00s \|/);
    expect(m).toMatch(/hivectl CPU time: 0.20s \(5.0% of wall time/);
  });

  it('an unmeasured gate is shown as not measured and skipped in JUnit, never as a pass', () => {
    const r: DrillReport = {
      ...report,
      gates: [
        ...report.gates,
        { name: 'failover RPO', ok: true, unmeasured: true, measured: 'unknown (replica lag)', target: '<= 300.00s' },
      ],
    };
    const x = drillJunit(r);
    expect(x).toMatch(/<testsuite name="drill.slo" tests="3" failures="1" errors="0" skipped="1"/);
    expect(x).toMatch(/name="failover RPO" time="0">\s*<skipped message="not measured: unknown \(replica lag\)"\/>/);
    expect(x).toMatch(/<testsuites [^>]*skipped="2"/);
    expect(drillMarkdown(r)).toMatch(/\| failover RPO \| unknown \(replica lag\) \| <= 300.00s \| not measured \|/);
    expect(drillSummary(r)).toMatch(/n\/a {2}failover RPO/);
  });
});

describe('drill orchestration', () => {
  const cfgBase = {
    cluster: { context: 'east', drContext: 'west' },
    aws: { region: 'us-east-1', drRegion: 'us-west-2' },
    database: { kind: 'postgres' as const, url: 'postgres://h@127.0.0.1:5432/app' },
  };
  const envFor = async (slo?: { rto: string; rpo: string }) => {
    const { configSchema } = await import('../../src/core/config-schema.js');
    const config = configSchema.parse({ ...cfgBase, ...(slo ? { slo } : {}) });
    return {
      config,
      target: { namespace: 'hive-system', context: 'east', region: 'us-east-1', drRegion: 'us-west-2' },
      mode: {
        dryRun: false,
        yes: true,
        output: 'table' as const,
        verbose: false,
        quiet: true,
        rollback: 'auto' as const,
        timeoutMs: 1000,
      },
      io: {} as never,
      adapters: {} as never,
      journalDir: '/tmp',
    };
  };
  /** A stand-in for the engine: every runbook "succeeds" in `ms`, except the ones named in `fail`. */
  const fakeRun =
    (ms: number, fail: string[] = [], seen: string[] = []) =>
    async (rb: { name: string; items: unknown[] }) => {
      seen.push(rb.name);
      const failed = fail.includes(rb.name);
      return {
        runId: `run-${rb.name}`,
        runbook: rb.name,
        title: rb.name,
        status: failed ? ('rolled-back' as const) : ('succeeded' as const),
        exitCode: failed ? 1 : 0,
        plan: [],
        steps: [],
        results: {},
        journal: `/tmp/${rb.name}.ndjson`,
        durationMs: ms,
        ...(failed ? { error: { message: `${rb.name} broke`, exitCode: 1 } } : {}),
      };
    };

  it('backup-restore runs preflight, backup, restore and gates the restore RTO', async () => {
    const { runDrill } = await import('../../src/runbooks/drill.js');
    const seen: string[] = [];
    const r = await runDrill(
      await envFor(),
      { scenario: 'backup-restore', failoverMode: 'none' },
      fakeRun(100, [], seen) as never,
    );
    expect(seen).toEqual(['drill-preflight', 'backup-create', 'drill-restore']);
    expect(r.status).toBe('passed');
    expect(r.exitCode).toBe(0);
    expect(r.gates.map((g) => g.name)).toEqual(['restore RTO', 'restore RPO (backup age at restore)']);
  });

  it('a missed RTO is exit 3; a failed phase stops the drill with its exit code', async () => {
    const { runDrill } = await import('../../src/runbooks/drill.js');
    const slow = await runDrill(
      await envFor({ rto: '1s', rpo: '5m' }),
      { scenario: 'failover', failoverMode: 'none' },
      fakeRun(2000) as never,
    );
    expect(slow.status).toBe('slo-missed');
    expect(slow.exitCode).toBe(3);
    expect(slow.gates.find((g) => g.name.startsWith('failover RTO'))).toMatchObject({ ok: false, measured: '2.00s' });

    const seen: string[] = [];
    const broken = await runDrill(
      await envFor(),
      { scenario: 'full', failoverMode: 'none' },
      fakeRun(10, ['backup-create'], seen) as never,
    );
    expect(seen).toEqual(['drill-preflight', 'backup-create']);
    expect(broken.status).toBe('failed');
    expect(broken.exitCode).toBe(1);
    expect(broken.phases.at(-1)?.error).toBe('backup-create broke');
  });
});
