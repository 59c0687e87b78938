// Evaluates the checks over an inventory, then applies suppressions in a fixed order:
// exceptions file, then the hive.dev/scan-exempt annotation, then the baseline. Expired
// exceptions suppress nothing and produce a warning. Pure: no I/O.
import { createHash } from 'node:crypto';
import { CHECKS } from './registry.js';
import {
  type Check,
  type CheckMeta,
  type EvaluatedFinding,
  type Finding,
  FRAMEWORKS,
  type Framework,
  type Inventory,
  type Scope,
  type Severity,
  severityRank,
} from './types.js';

export const EXEMPT_ANNOTATION = 'hive.dev/scan-exempt';

export interface ExceptionEntry {
  /** Check ID, glob allowed (HIVE-PSS-*). */
  check: string;
  /** Target glob: `Deployment/hive-api/*`, `s3://backups-*`. */
  target: string;
  reason: string;
  /** YYYY-MM-DD (end of that day, UTC) or an ISO timestamp. */
  expires: string;
}

export interface ScanOptions {
  scopes: Scope[];
  exceptions?: ExceptionEntry[];
  /** Fingerprints recorded by --write-baseline. */
  baseline?: Set<string>;
  now?: Date;
  checks?: readonly Check[];
}

export interface FrameworkSummary {
  id: Framework;
  title: string;
  checks: number;
  passed: number;
  failed: number;
  /** Checks that could not run (Trivy absent): neither passed nor failed. */
  skipped: number;
  failedChecks: string[];
}

export interface ScanResult {
  /** Every finding, suppressed ones included (marked). */
  findings: EvaluatedFinding[];
  /** The checks that were evaluated (their scope ran). */
  checks: CheckMeta[];
  warnings: string[];
  frameworks: FrameworkSummary[];
  scopes: Scope[];
}

export function globToRegExp(glob: string): RegExp {
  const re = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`);
}

export function fingerprint(f: Finding): string {
  return createHash('sha256')
    .update([f.checkId, f.target, f.container ?? '', f.key ?? ''].join('\u0000'))
    .digest('hex')
    .slice(0, 24);
}

/** An exception expires at the end of its day (UTC) when given as a date. */
export function expiryTime(expires: string): number {
  const s = String(expires);
  return /^\d{4}-\d{2}-\d{2}$/.test(s) ? Date.parse(`${s}T23:59:59.999Z`) : Date.parse(s);
}

/** `HIVE-NET-004: public by design; HIVE-POD-006: single tenant` -> entries. */
export function parseExemptAnnotation(v: string | undefined): { check: string; reason: string }[] {
  if (!v) return [];
  return v
    .split(/\n|;/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const i = p.indexOf(':');
      return i < 0 ? { check: p, reason: '' } : { check: p.slice(0, i).trim(), reason: p.slice(i + 1).trim() };
    })
    .filter((e) => /^[A-Z0-9*?-]+$/i.test(e.check));
}

/** target -> annotations of the object (and of its namespace, which applies to everything in it). */
function annotationIndex(inv: Inventory): {
  byTarget: Map<string, Record<string, string>>;
  byNs: Map<string, Record<string, string>>;
} {
  const byTarget = new Map<string, Record<string, string>>();
  const byNs = new Map<string, Record<string, string>>();
  const k = inv.k8s;
  if (!k) return { byTarget, byNs };
  for (const w of k.workloads) byTarget.set(w.target, { ...w.templateAnnotations, ...w.annotations });
  for (const n of k.namespaces) {
    const a = n.metadata?.annotations ?? {};
    byTarget.set(`Namespace/${n.metadata?.name}`, a);
    byNs.set(n.metadata?.name ?? '', a);
  }
  const put = (kind: string, list: typeof k.services) => {
    for (const o of list) {
      const ns = o.metadata?.namespace;
      byTarget.set(
        ns ? `${kind}/${ns}/${o.metadata?.name}` : `${kind}/${o.metadata?.name}`,
        o.metadata?.annotations ?? {},
      );
    }
  };
  put('Service', k.services);
  put('Role', k.roles);
  put('ClusterRole', k.clusterRoles);
  put('RoleBinding', k.roleBindings);
  put('ClusterRoleBinding', k.clusterRoleBindings);
  return { byTarget, byNs };
}

function nsOfTarget(target: string): string | undefined {
  const parts = target.split('/');
  if (parts[0] === 'Namespace') return parts[1];
  return parts.length === 3 ? parts[1] : undefined;
}

export function evaluate(inv: Inventory, opts: ScanOptions): ScanResult {
  const now = opts.now ?? new Date();
  const checks = (opts.checks ?? CHECKS).filter((c) => opts.scopes.includes(c.scope));
  const warnings: string[] = [];
  const raw: Finding[] = [];
  for (const c of checks) raw.push(...c.run(inv));

  const exceptions = (opts.exceptions ?? []).map((e) => ({
    ...e,
    checkRe: globToRegExp(e.check),
    targetRe: globToRegExp(e.target),
    expired: !(expiryTime(e.expires) > now.getTime()),
  }));
  const warnedExpired = new Set<string>();
  const ann = annotationIndex(inv);

  const findings: EvaluatedFinding[] = raw.map((f) => {
    const ev: EvaluatedFinding = { ...f, fingerprint: fingerprint(f) };
    for (const e of exceptions) {
      if (!e.checkRe.test(f.checkId) || !e.targetRe.test(f.target)) continue;
      if (e.expired) {
        const k = `${e.check}|${e.target}`;
        if (!warnedExpired.has(k)) {
          warnedExpired.add(k);
          warnings.push(
            `exception for ${e.check} on ${e.target} expired on ${e.expires}: its findings are reported again`,
          );
        }
        continue;
      }
      ev.suppressed = { by: 'exception', reason: e.reason, expires: e.expires };
      break;
    }
    if (!ev.suppressed) {
      const ns = nsOfTarget(f.target);
      const sources = [ann.byTarget.get(f.target), ns ? ann.byNs.get(ns) : undefined];
      for (const a of sources) {
        const hit = parseExemptAnnotation(a?.[EXEMPT_ANNOTATION]).find((x) => globToRegExp(x.check).test(f.checkId));
        if (hit) {
          ev.suppressed = { by: 'annotation', reason: hit.reason || '(no reason given)' };
          break;
        }
      }
    }
    if (!ev.suppressed && opts.baseline?.has(ev.fingerprint))
      ev.suppressed = { by: 'baseline', reason: 'in the baseline' };
    return ev;
  });

  findings.sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      a.checkId.localeCompare(b.checkId) ||
      a.target.localeCompare(b.target) ||
      (a.container ?? '').localeCompare(b.container ?? '') ||
      (a.key ?? '').localeCompare(b.key ?? ''),
  );

  const active = findings.filter((f) => !f.suppressed && f.severity !== 'note');
  const failing = new Set(active.map((f) => f.checkId));
  const frameworks: FrameworkSummary[] = [];
  const notRun = (c: Check) => c.scope === 'images' && inv.images !== undefined && !inv.images.ran;
  for (const id of Object.keys(FRAMEWORKS) as Framework[]) {
    const inFw = checks.filter((c) => c.frameworks.includes(id) && c.severity !== 'note');
    if (!inFw.length) continue;
    const failedChecks = inFw.filter((c) => failing.has(c.id)).map((c) => c.id);
    const skipped = inFw.filter((c) => notRun(c) && !failing.has(c.id)).length;
    frameworks.push({
      id,
      title: FRAMEWORKS[id],
      checks: inFw.length,
      passed: inFw.length - failedChecks.length - skipped,
      failed: failedChecks.length,
      skipped,
      failedChecks,
    });
  }
  const meta: CheckMeta[] = checks.map(({ run: _run, ...m }) => m);
  return { findings, checks: meta, warnings, frameworks, scopes: [...opts.scopes] };
}

export function activeFindings(r: ScanResult): EvaluatedFinding[] {
  return r.findings.filter((f) => !f.suppressed);
}

/** Findings that fail the gate: unsuppressed, at or above the threshold (notes never gate). */
export function gateFindings(r: ScanResult, failOn: Severity | undefined): EvaluatedFinding[] {
  if (!failOn) return [];
  return activeFindings(r).filter((f) => f.severity !== 'note' && severityRank(f.severity) >= severityRank(failOn));
}

export function countBySeverity(list: EvaluatedFinding[]): Record<Severity, number> {
  const out: Record<Severity, number> = { critical: 0, high: 0, medium: 0, low: 0, note: 0 };
  for (const f of list) out[f.severity]++;
  return out;
}

export interface BaselineFile {
  version: 1;
  generated: string;
  findings: { fingerprint: string; checkId: string; target: string; container?: string; key?: string }[];
}

export function makeBaseline(r: ScanResult, now = new Date()): BaselineFile {
  return {
    version: 1,
    generated: now.toISOString(),
    findings: r.findings
      .filter((f) => f.severity !== 'note' && (!f.suppressed || f.suppressed.by === 'baseline'))
      .map((f) => {
        const e: BaselineFile['findings'][number] = {
          fingerprint: f.fingerprint,
          checkId: f.checkId,
          target: f.target,
        };
        if (f.container) e.container = f.container;
        if (f.key) e.key = f.key;
        return e;
      }),
  };
}
