// SARIF 2.1.0 for GitHub code scanning and other SARIF consumers. Rules carry the check's
// why/remediation/references; results from manifests point at file and line, live ones at a
// logical location (the object). Suppressed findings are included with a `suppressions` entry,
// which is how SARIF consumers expect them.
import type { EvaluatedFinding, Severity } from '../types.js';
import { type RenderOptions, type ScanReport, shown } from './model.js';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  note: 'note',
};
// GitHub maps security-severity to its own critical/high/medium/low bands.
const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  note: '0.0',
};

/** A repository-relative stand-in path for objects that live in a cluster or an account, not a file. */
function pseudoPath(target: string): string {
  const t = target
    .replace(/^s3:\/\//, 'aws/s3/')
    .replace(/^rds-snapshot:/, 'aws/rds-snapshot/')
    .replace(/^rds:/, 'aws/rds/')
    .replace(/^image:/, 'images/');
  const path = /^(aws|images)\//.test(t) ? t : t === 'images' ? 'images' : `kubernetes/${t}`;
  // No `:` or `@`: GitHub code scanning would read them as a URI scheme or user info.
  return encodeURI(path.replace(/[:@]/g, '_'));
}

// GitHub code scanning rejects a result without physicalLocation.artifactLocation.uri, so live
// objects get a stable stand-in path (kubernetes/Kind/ns/name, aws/s3/bucket, images/ref) next to
// their logical location.
function location(f: EvaluatedFinding) {
  const logical = [{ fullyQualifiedName: f.container ? `${f.target}[${f.container}]` : f.target, kind: 'resource' }];
  const m = f.source ? /^(.*?)(?::(\d+))?$/.exec(f.source) : null;
  if (m?.[1] && m[1] !== '-') {
    const region = m[2] ? { startLine: Math.max(1, Number(m[2])) } : undefined;
    return [
      {
        physicalLocation: {
          artifactLocation: { uri: encodeURI(m[1].replace(/^\.\//, '')) },
          ...(region ? { region } : {}),
        },
        logicalLocations: logical,
      },
    ];
  }
  return [{ physicalLocation: { artifactLocation: { uri: pseudoPath(f.target) } }, logicalLocations: logical }];
}

export function renderSarif(report: ScanReport, o: RenderOptions = {}): string {
  // SARIF consumers handle suppressions themselves: include them regardless of --show-suppressed.
  const list = shown(report, { ...o, showSuppressed: true });
  const rules = report.checks.map((c) => ({
    id: c.id,
    name: c.title
      .replace(/[^A-Za-z0-9]+/g, ' ')
      .trim()
      .replace(/ (\w)/g, (_m, ch: string) => ch.toUpperCase()),
    shortDescription: { text: c.title },
    fullDescription: { text: c.why },
    help: {
      text: `${c.why}\n\nRemediation: ${c.remediation}\n\nReferences:\n${c.references.map((r) => `- ${r.label}${r.url ? ` (${r.url})` : ''}`).join('\n')}`,
      markdown: `${c.why}\n\n**Remediation:** ${c.remediation}\n\n**References:**\n${c.references.map((r) => `- ${r.url ? `[${r.label}](${r.url})` : r.label}`).join('\n')}`,
    },
    ...(c.references[0]?.url ? { helpUri: c.references[0].url } : {}),
    defaultConfiguration: { level: LEVEL[c.severity] },
    properties: {
      tags: ['security', ...c.frameworks],
      'security-severity': SECURITY_SEVERITY[c.severity],
      severity: c.severity,
    },
  }));
  const index = new Map(rules.map((r, i) => [r.id, i]));
  const results = list.map((f) => {
    const r: Record<string, unknown> = {
      ruleId: f.checkId,
      level: LEVEL[f.severity],
      message: { text: `${f.container ? `${f.target} [${f.container}]` : f.target}: ${f.message}` },
      locations: location(f),
      partialFingerprints: { 'hivectlFinding/v1': f.fingerprint },
      properties: { severity: f.severity, target: f.target },
    };
    const i = index.get(f.checkId);
    if (i !== undefined) r.ruleIndex = i;
    if (f.suppressed)
      r.suppressions = [
        {
          kind: f.suppressed.by === 'annotation' ? 'inSource' : 'external',
          status: 'accepted',
          justification: `${f.suppressed.by}: ${f.suppressed.reason}${f.suppressed.expires ? ` (expires ${f.suppressed.expires})` : ''}`,
        },
      ];
    return r;
  });
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'hivectl',
            semanticVersion: report.tool.version,
            version: report.tool.version,
            rules,
          },
        },
        invocations: [
          {
            executionSuccessful: true,
            endTimeUtc: report.generatedAt,
            toolExecutionNotifications: report.warnings.map((w) => ({ level: 'warning', message: { text: w } })),
          },
        ],
        automationDetails: { id: `hivectl-scan/${report.scopes.join('+')}/` },
        results,
        properties: { frameworks: report.frameworks, stats: report.stats, gate: report.gate },
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}
