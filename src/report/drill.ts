// Drill reports: Markdown (the default, for people), JUnit XML (CI shows phases and steps as tests,
// SLO gates as tests that fail when missed) and JSON (the whole DrillReport).
import type { DrillReport } from '../runbooks/drill.js';
import { probeLine } from './chaos.js';

export type DrillFormat = 'markdown' | 'junit' | 'json';

const sec = (ms: number | undefined | null) => (ms === undefined || ms === null ? '-' : `${(ms / 1000).toFixed(2)}s`);

function xml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string,
  );
}

const kib = (n: number) => (n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KiB`);

/** One line: the workspace figures of a drill. */
export function workspaceLine(w: NonNullable<DrillReport['workspaces']>): string {
  const restored =
    w.verified === undefined
      ? 'not restored'
      : `${w.pods} restored into scratch directories, ${w.files} files (${kib(w.bytes)}), ${
          w.verified ? 'verified (count + SHA-256)' : `**NOT verified**: ${w.problem ?? 'mismatch'}`
        }${w.seedChecked ? `; ${w.seedChecked} checked against what was seeded` : ''}`;
  return `${w.backedUp} workspace(s) backed up (${kib(w.tarBytes)} of tar); ${restored}`;
}

export function drillJunit(r: DrillReport): string {
  const suites: string[] = [];
  let tests = 0;
  let failures = 0;
  let skipped = 0;
  for (const p of r.phases) {
    const cases = p.steps.map((s) => {
      const t = `    <testcase classname="drill.${xml(p.phase)}" name="${xml(s.id)}" time="${((s.durationMs ?? 0) / 1000).toFixed(3)}">`;
      if (s.status === 'failed' || s.status === 'rollback-failed')
        return `${t}\n      <failure message="${xml(s.error ?? s.status)}">${xml(s.error ?? '')}</failure>\n    </testcase>`;
      if (s.status === 'not-run' || s.status === 'skipped' || s.status === 'pending' || s.status === 'rolled-back')
        return `${t}\n      <skipped message="${xml(s.status)}"/>\n    </testcase>`;
      return `${t}</testcase>`;
    });
    const f = p.steps.filter((s) => s.status === 'failed' || s.status === 'rollback-failed').length;
    const sk = p.steps.filter((s) => ['not-run', 'skipped', 'pending', 'rolled-back'].includes(s.status)).length;
    tests += p.steps.length;
    failures += f;
    skipped += sk;
    const w = r.workspaces;
    const wsProps =
      p.phase === 'restore' && w
        ? Object.entries({
            'workspaces.backedUp': w.backedUp,
            'workspaces.pods': w.pods,
            'workspaces.files': w.files,
            'workspaces.bytes': w.bytes,
            'workspaces.verified': w.verified ?? 'not restored',
          })
            .map(([k, v]) => `<property name="${k}" value="${xml(String(v))}"/>`)
            .join('')
        : '';
    suites.push(
      `  <testsuite name="drill.${xml(p.phase)}" tests="${p.steps.length}" failures="${f}" errors="0" skipped="${sk}" time="${(p.durationMs / 1000).toFixed(3)}">\n    <properties><property name="runId" value="${xml(p.runId)}"/><property name="journal" value="${xml(p.journal)}"/>${wsProps}</properties>\n${cases.join('\n')}\n  </testsuite>`,
    );
  }
  const gates = r.gates.map((g) => {
    const t = `    <testcase classname="drill.slo" name="${xml(g.name)}" time="0">`;
    if (g.unmeasured) return `${t}\n      <skipped message="${xml(`not measured: ${g.measured}`)}"/>\n    </testcase>`;
    return g.ok
      ? `${t}</testcase>`
      : `${t}\n      <failure message="${xml(`measured ${g.measured}, target ${g.target}`)}"/>\n    </testcase>`;
  });
  const gf = r.gates.filter((g) => !g.ok).length;
  const gs = r.gates.filter((g) => g.unmeasured).length;
  tests += r.gates.length;
  failures += gf;
  skipped += gs;
  suites.push(
    `  <testsuite name="drill.slo" tests="${r.gates.length}" failures="${gf}" errors="0" skipped="${gs}" time="0">\n${gates.join('\n')}\n  </testsuite>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="hivectl drill ${xml(r.scenario)}" tests="${tests}" failures="${failures}" skipped="${skipped}" time="${(r.durationMs / 1000).toFixed(3)}">\n${suites.join('\n')}\n</testsuites>\n`;
}

export function drillMarkdown(r: DrillReport): string {
  const out: string[] = [];
  out.push(`# hivectl DR drill: ${r.scenario}`, '');
  out.push(`- Started: ${r.startedAt}`, `- Result: **${r.status}** (exit ${r.exitCode}) in ${sec(r.durationMs)}`);
  out.push(`- SLOs: RTO ${sec(r.slo.rtoMs)}, RPO ${sec(r.slo.rpoMs)}`);
  out.push(
    `- hivectl CPU time: ${sec(r.cpuMs)} (${((100 * r.cpuMs) / Math.max(1, r.durationMs)).toFixed(1)}% of wall time; the rest is waiting on servers)`,
    '',
  );
  out.push('## SLO gates', '', '| gate | measured | target | result |', '|---|---|---|---|');
  for (const g of r.gates)
    out.push(
      `| ${g.name} | ${g.measured} | ${g.target} | ${g.unmeasured ? 'not measured' : g.ok ? 'pass' : '**MISSED**'} |`,
    );
  if (!r.gates.length) out.push('| (none measured) | | | |');
  out.push('');
  if (r.failover) {
    out.push(
      '## Failover',
      '',
      `- RTO (wall, start to DR verified): ${sec(r.failover.wallMs)}; RPO: ${sec(r.failover.rpoMs)} (${r.failover.rpoSource})`,
    );
    if (r.failover.readyAfterMs !== null)
      out.push(`- DR Deployments seen Ready ${sec(r.failover.readyAfterMs)} after the scale call (watch)`);
    for (const n of r.failover.notFenced) out.push(`- Not fenced: ${n}`);
    out.push('');
  }
  if (r.restore)
    out.push(
      '## Restore into a scratch database',
      '',
      `- Backup ${r.restore.backupId}: restored and verified in ${sec(r.restore.rtoMs)}; RPO ${sec(r.restore.rpoMs)}`,
      '',
    );
  if (r.workspaces) out.push('## Agent workspaces', '', `- ${workspaceLine(r.workspaces)}`, '');
  if (r.chaos) {
    out.push(
      '## Chaos',
      '',
      `- ${r.chaos.experiment}: ${r.chaos.deviated ? '**deviated**' : 'hypothesis held'}; ${r.chaos.during.samples} samples during, ${r.chaos.during.failedSamples} off the steady state`,
    );
    for (const a of r.chaos.actions) out.push(`- ${a.type} at ${a.startedAt}: ${a.detail.join('; ')}`);
    // The hypothesis, probe by probe, as it stood after the experiment (before it when there is no after).
    for (const p of r.chaos.after ?? r.chaos.before ?? []) out.push(`- probe ${probeLine(p)}`);
    out.push('');
  }
  out.push('## Phases and steps', '', '| phase | step | status | time |', '|---|---|---|---|');
  for (const p of r.phases) {
    out.push(`| **${p.phase}** | (run ${p.runId}) | ${p.status} | ${sec(p.durationMs)} |`);
    for (const s of p.steps)
      out.push(
        `| | ${s.id} | ${s.status}${s.error ? `: ${s.error.replace(/\|/g, '\\|')}` : ''} | ${sec(s.durationMs)} |`,
      );
  }
  out.push('');
  return `${out.join('\n')}\n`;
}

export function renderDrill(r: DrillReport, f: DrillFormat): string {
  if (f === 'junit') return drillJunit(r);
  if (f === 'json') return `${JSON.stringify(r, null, 2)}\n`;
  return drillMarkdown(r);
}

export function drillSummary(r: DrillReport): string {
  const lines = [`drill ${r.scenario}: ${r.status} in ${sec(r.durationMs)} (exit ${r.exitCode})`];
  for (const p of r.phases)
    lines.push(
      `  ${p.status === 'succeeded' ? '✔' : '✖'} ${p.phase.padEnd(10)} ${sec(p.durationMs).padStart(8)}${p.error ? `  ${p.error}` : ''}`,
    );
  if (r.workspaces) lines.push(`  workspaces: ${workspaceLine(r.workspaces).replace(/\*\*/g, '')}`);
  for (const g of r.gates)
    lines.push(`  ${g.unmeasured ? 'n/a ' : g.ok ? 'ok  ' : 'MISS'} ${g.name}: ${g.measured} (target ${g.target})`);
  return `${lines.join('\n')}\n`;
}
