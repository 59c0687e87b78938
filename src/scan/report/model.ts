// The report: the scan result plus where it came from, statistics and the gate. Every reporter
// (table, json, sarif, junit, markdown) renders this one object.
import { activeFindings, countBySeverity, gateFindings, type ScanResult } from '../engine.js';
import { type EvaluatedFinding, type Severity, severityRank } from '../types.js';

export interface ScanStats {
  durationMs: number;
  /** Kubernetes API requests made (live scans): kinds x pages, not objects. */
  k8sRequests?: number;
  k8sObjects?: number;
  awsRequests?: number;
  workloads?: number;
}

export interface ScanReport extends ScanResult {
  tool: { name: 'hivectl'; version: string };
  generatedAt: string;
  sources: { kubernetes?: string; manifests?: string[]; aws?: string };
  stats: ScanStats;
  gate: { failOn?: Severity | undefined; failed: boolean; count: number };
  counts: { active: Record<Severity, number>; suppressed: number };
}

export interface RenderOptions {
  /** Display filter only: never changes the gate or the counts. */
  minSeverity?: Severity | undefined;
  showSuppressed?: boolean;
  color?: boolean;
}

export function makeReport(
  r: ScanResult,
  meta: {
    version: string;
    sources: ScanReport['sources'];
    stats: ScanStats;
    failOn?: Severity | undefined;
    now?: Date;
  },
): ScanReport {
  const gate = gateFindings(r, meta.failOn);
  const active = activeFindings(r);
  return {
    ...r,
    tool: { name: 'hivectl', version: meta.version },
    generatedAt: (meta.now ?? new Date()).toISOString(),
    sources: meta.sources,
    stats: meta.stats,
    gate: { failOn: meta.failOn, failed: gate.length > 0, count: gate.length },
    counts: { active: countBySeverity(active), suppressed: r.findings.length - active.length },
  };
}

/** Findings to show: active ones at or above --min-severity, plus suppressed ones with --show-suppressed. */
export function shown(report: ScanReport, o: RenderOptions): EvaluatedFinding[] {
  const min = o.minSeverity ? severityRank(o.minSeverity) : 0;
  return report.findings.filter(
    (f) => (o.showSuppressed || !f.suppressed) && (f.severity === 'note' || severityRank(f.severity) >= min),
  );
}
