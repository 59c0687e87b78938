import { describe, expect, it } from 'vitest';
import { drillJunit, drillMarkdown } from '../../src/report/drill.js';
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
});
