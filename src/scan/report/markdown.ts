// Markdown for pull-request comments and job summaries ($GITHUB_STEP_SUMMARY).
import { SEVERITIES } from '../types.js';
import { type RenderOptions, type ScanReport, shown } from './model.js';

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderMarkdown(report: ScanReport, o: RenderOptions = {}): string {
  const out: string[] = [];
  out.push('# hivectl scan');
  out.push('');
  const src = report.sources;
  if (src.kubernetes) out.push(`- Cluster: \`${src.kubernetes}\``);
  if (src.manifests) out.push(`- Manifests: ${src.manifests.map((m) => `\`${m}\``).join(', ')}`);
  if (src.aws) out.push(`- AWS: \`${src.aws}\``);
  out.push(
    `- Checks evaluated: ${report.checks.length}; generated ${report.generatedAt} by hivectl ${report.tool.version}`,
  );
  if (report.gate.failOn)
    out.push(
      `- Gate (\`--fail-on ${report.gate.failOn}\`): ${report.gate.failed ? `**failed** (${report.gate.count})` : 'passed'}`,
    );
  out.push('');
  out.push('| Severity | Active |');
  out.push('|---|---:|');
  for (const s of SEVERITIES.slice().reverse()) out.push(`| ${s} | ${report.counts.active[s]} |`);
  out.push(`| suppressed | ${report.counts.suppressed} |`);
  if (report.frameworks.length) {
    out.push('');
    out.push('## Frameworks');
    out.push('');
    out.push('| Framework | Passed | Failed | Failing checks |');
    out.push('|---|---:|---:|---|');
    for (const f of report.frameworks)
      out.push(`| ${f.title} | ${f.passed} | ${f.failed} | ${f.failedChecks.join(', ')} |`);
  }
  const list = shown(report, o);
  out.push('');
  out.push('## Findings');
  out.push('');
  if (!list.length) out.push('None.');
  else {
    out.push('| Severity | Check | Target | Message |');
    out.push('|---|---|---|---|');
    for (const f of list) {
      const tgt = f.container ? `${f.target} [${f.container}]` : f.target;
      const msg = f.suppressed
        ? `${f.message} _(suppressed by ${f.suppressed.by}: ${f.suppressed.reason})_`
        : f.message;
      out.push(`| ${f.severity} | ${f.checkId} | \`${esc(tgt)}\` | ${esc(msg)} |`);
    }
  }
  if (report.warnings.length) {
    out.push('');
    out.push('## Warnings');
    out.push('');
    for (const w of report.warnings) out.push(`- ${w}`);
  }
  return `${out.join('\n')}\n`;
}
