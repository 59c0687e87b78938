// Human output: findings grouped by severity, then the per-framework summary and the totals.
import { SEVERITIES } from '../types.js';
import { type RenderOptions, type ScanReport, shown } from './model.js';

const COLORS: Record<string, string> = {
  critical: '\x1b[1;31m',
  high: '\x1b[31m',
  medium: '\x1b[33m',
  low: '\x1b[36m',
  note: '\x1b[2m',
};

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

export function renderTable(report: ScanReport, o: RenderOptions = {}): string {
  const lines: string[] = [];
  const src = report.sources;
  const what = [
    src.kubernetes ? `cluster ${src.kubernetes}` : '',
    src.manifests ? `manifests ${src.manifests.join(', ')}` : '',
    src.aws ? `AWS ${src.aws}` : '',
  ].filter(Boolean);
  lines.push(`Scanned ${what.join('; ') || '(nothing)'}: ${report.checks.length} checks`);
  const list = shown(report, o);
  if (list.length) {
    const rows = list.map((f) => [
      f.severity.toUpperCase(),
      f.checkId,
      f.container ? `${f.target} [${f.container}]` : f.target,
      f.suppressed ? `${f.message} (suppressed by ${f.suppressed.by}: ${f.suppressed.reason})` : f.message,
    ]);
    const w = [0, 1, 2].map((i) => Math.min(70, Math.max(...rows.map((r) => (r[i] ?? '').length), 8)));
    lines.push('');
    lines.push(`${pad('SEVERITY', w[0]!)}  ${pad('CHECK', w[1]!)}  ${pad('TARGET', w[2]!)}  MESSAGE`);
    for (const [i, r] of rows.entries()) {
      const sev = list[i]!.severity;
      const cell = pad(r[0]!, w[0]!);
      const colored = o.color ? `${COLORS[sev] ?? ''}${cell}\x1b[0m` : cell;
      lines.push(`${colored}  ${pad(r[1]!, w[1]!)}  ${pad(r[2]!, w[2]!)}  ${r[3]}`);
    }
  } else {
    lines.push('');
    lines.push('No findings to show.');
  }
  if (report.frameworks.length) {
    lines.push('');
    lines.push('Framework summary (checks passed / evaluated):');
    for (const fw of report.frameworks) {
      lines.push(
        `  ${pad(fw.title, 58)} ${String(fw.passed).padStart(3)} / ${String(fw.checks).padEnd(3)}${fw.failed ? `  failing: ${fw.failedChecks.join(', ')}` : ''}${fw.skipped ? `  not run: ${fw.skipped}` : ''}`,
      );
    }
  }
  const c = report.counts.active;
  lines.push('');
  lines.push(
    `Findings: ${SEVERITIES.slice()
      .reverse()
      .map((s) => `${c[s]} ${s}`)
      .join(', ')}; ${report.counts.suppressed} suppressed${o.showSuppressed ? '' : ' (--show-suppressed lists them)'}`,
  );
  if (report.gate.failOn)
    lines.push(
      report.gate.failed
        ? `Gate FAILED: ${report.gate.count} finding(s) at ${report.gate.failOn} or above`
        : `Gate passed: no finding at ${report.gate.failOn} or above`,
    );
  return `${lines.join('\n')}\n`;
}
