// JUnit XML: one testcase per check, so CI dashboards show which controls pass. A check with
// shown findings fails; a check whose scope was not scanned, or could not run (Trivy absent),
// is skipped with the reason: never a silent pass.
import { CHECKS } from '../registry.js';
import { type RenderOptions, type ScanReport, shown } from './model.js';

function xml(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

export function renderJunit(report: ScanReport, o: RenderOptions = {}): string {
  const list = shown(report, { ...o, showSuppressed: false });
  const evaluated = new Set(report.checks.map((c) => c.id));
  const notRun = report.findings.find((f) => f.checkId === 'HIVE-IMG-000');
  const suites = new Map<string, string[]>();
  const stats = new Map<string, { tests: number; failures: number; skipped: number }>();
  for (const c of CHECKS) {
    if (c.id === 'HIVE-IMG-000') continue; // the reason images checks are skipped, not a check of its own
    const suite = `hivectl.scan.${c.scope}`;
    const st = stats.get(suite) ?? { tests: 0, failures: 0, skipped: 0 };
    stats.set(suite, st);
    st.tests++;
    const name = `${c.id}: ${c.title}`;
    let body = '';
    if (!evaluated.has(c.id)) {
      st.skipped++;
      body = `<skipped message="${xml(`scope ${c.scope} was not scanned`)}"/>`;
    } else if (c.scope === 'images' && notRun) {
      st.skipped++;
      body = `<skipped message="${xml(notRun.message)}"/>`;
    } else {
      const mine = list.filter((f) => f.checkId === c.id);
      if (mine.length) {
        st.failures++;
        const text = mine
          .map((f) => `[${f.severity}] ${f.container ? `${f.target} [${f.container}]` : f.target}: ${f.message}`)
          .join('\n');
        body = `<failure message="${xml(`${mine.length} finding(s)`)}" type="${xml(c.severity)}">${xml(`${text}\n\nRemediation: ${c.remediation}`)}</failure>`;
      }
    }
    const tc = `    <testcase classname="${xml(suite)}" name="${xml(name)}" time="0">${body}</testcase>`;
    (suites.get(suite) ?? suites.set(suite, []).get(suite)!).push(tc);
  }
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const tot = [...stats.values()].reduce(
    (a, s) => ({ tests: a.tests + s.tests, failures: a.failures + s.failures, skipped: a.skipped + s.skipped }),
    { tests: 0, failures: 0, skipped: 0 },
  );
  out.push(
    `<testsuites name="hivectl scan" tests="${tot.tests}" failures="${tot.failures}" skipped="${tot.skipped}" errors="0">`,
  );
  for (const [suite, cases] of suites) {
    const s = stats.get(suite)!;
    out.push(
      `  <testsuite name="${xml(suite)}" tests="${s.tests}" failures="${s.failures}" skipped="${s.skipped}" errors="0" timestamp="${xml(report.generatedAt)}">`,
    );
    out.push(...cases);
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}
