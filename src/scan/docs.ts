// docs/checks.md is generated from the registry (test/unit/scan-docs.test.ts keeps it in sync).
import { CHECKS } from './registry.js';
import { FRAMEWORKS } from './types.js';

export function renderChecksMarkdown(): string {
  const out: string[] = [];
  out.push('# Scan checks');
  out.push('');
  out.push(
    'Every check `hivectl scan` runs, with its stable ID, default severity, why it matters, the fix, and references.',
  );
  out.push('Generated from `src/scan/registry.ts` (a unit test fails when this page and the code disagree).');
  out.push('IDs never change meaning; a retired check keeps its ID reserved.');
  out.push('');
  out.push(
    'Severities: `critical` > `high` > `medium` > `low` > `note` (`note` never gates). Scopes: `k8s` (live cluster or',
  );
  out.push('`--manifests`), `aws`, `images`.');
  out.push('');
  out.push('| ID | Severity | Scope | Title | Frameworks |');
  out.push('|---|---|---|---|---|');
  for (const c of CHECKS)
    out.push(
      `| [${c.id}](#${c.id.toLowerCase()}) | ${c.severity} | ${c.scope} | ${c.title} | ${c.frameworks.join(', ')} |`,
    );
  out.push('');
  out.push('Frameworks in the summary:');
  out.push('');
  for (const [id, title] of Object.entries(FRAMEWORKS)) out.push(`- \`${id}\`: ${title}`);
  for (const c of CHECKS) {
    out.push('');
    out.push(`## ${c.id}`);
    out.push('');
    out.push(`**${c.title}** (${c.severity}, scope \`${c.scope}\`)`);
    out.push('');
    out.push(`Why: ${c.why}`);
    out.push('');
    out.push(`Fix: ${c.remediation}`);
    out.push('');
    out.push('References:');
    out.push('');
    for (const r of c.references) out.push(`- ${r.url ? `[${r.label}](${r.url})` : r.label}`);
  }
  return `${out.join('\n')}\n`;
}
