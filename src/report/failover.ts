// The failover report: measured RTO (start of the run to the target side verified) and RPO (replica
// lag or snapshot age at failover time), each step's time, and what could not be fenced.
import type {
  FenceResult,
  PreflightResult,
  PromoteResult,
  ScaleUpResult,
  Timed,
  VerifyResult,
} from '../steps/failover/steps.js';

export interface FailoverReport {
  direction: string;
  runId: string;
  status: string;
  rtoMs: number | null;
  rpoMs: number | null;
  rpoSource: string;
  /** ms from the scale call to the watch seeing the target Ready. */
  readyAfterMs: number | null;
  steps: Array<{ id: string; ms: number; startedAt: string; endedAt: string }>;
  notFenced: string[];
  /** What the database step did: mode, the promoted or restored instance, its endpoint. */
  promoted?: {
    mode: string;
    instanceId?: string;
    endpoint?: { host: string; port: number };
    /** Cluster mode: the writer instance after the failover, and before it. */
    writer?: string;
    writerBefore?: string;
  };
  checks: PreflightResult['checks'];
}

const ORDER = ['preflight', 'fence-source', 'promote-db', 'repoint-endpoint', 'scale-target', 'verify-target'];

export function failoverReport(
  direction: string,
  runId: string,
  status: string,
  results: Record<string, unknown>,
  startedAtMs?: number,
): FailoverReport {
  const pre = results.preflight as PreflightResult | undefined;
  const fence = results['fence-source'] as FenceResult | undefined;
  const promote = results['promote-db'] as PromoteResult | undefined;
  const scale = results['scale-target'] as ScaleUpResult | undefined;
  const ver = results['verify-target'] as VerifyResult | undefined;
  const start = startedAtMs ?? (pre ? Date.parse(pre.startedAt) : undefined);
  const steps = ORDER.filter((id) => results[id]).map((id) => {
    const t = results[id] as Timed;
    return { id, ms: t.ms, startedAt: t.startedAt, endedAt: t.endedAt };
  });
  // A deep copy: the output serializer shows an object met twice (results + report) as [circular].
  return structuredClone({
    direction,
    runId,
    status,
    rtoMs: ver && start !== undefined ? Date.parse(ver.verifiedAt) - start : null,
    rpoMs: promote?.rpoMs ?? pre?.rpoMs ?? null,
    rpoSource: promote?.rpoSource ?? pre?.rpoSource ?? 'unknown',
    readyAfterMs: scale?.readyAfterMs ?? null,
    steps,
    notFenced: fence?.notFenced ?? [],
    ...(promote
      ? {
          promoted: {
            mode: promote.mode,
            ...(promote.instanceId ? { instanceId: promote.instanceId } : {}),
            ...(promote.endpoint ? { endpoint: promote.endpoint } : {}),
            ...(promote.writer ? { writer: promote.writer } : {}),
            ...(promote.writerBefore ? { writerBefore: promote.writerBefore } : {}),
          },
        }
      : {}),
    checks: pre?.checks ?? [],
  });
}

const s = (ms: number | null) => (ms === null ? 'unknown' : `${(ms / 1000).toFixed(2)}s`);

export function failoverReportText(r: FailoverReport): string {
  const out = [
    `${r.direction} (run ${r.runId}): ${r.status}`,
    `  RTO ${s(r.rtoMs)}   RPO ${s(r.rpoMs)} (${r.rpoSource})`,
  ];
  if (r.promoted?.writer)
    out.push(`  database writer ${r.promoted.writerBefore ?? '?'} -> ${r.promoted.writer} (${r.promoted.instanceId})`);
  if (r.readyAfterMs !== null) out.push(`  target Ready ${s(r.readyAfterMs)} after the scale call (watch)`);
  for (const st of r.steps) out.push(`  ${st.id.padEnd(18)} ${s(st.ms)}`);
  for (const n of r.notFenced) out.push(`  NOT FENCED: ${n}`);
  // The other steps were rolled back; a promotion cannot be, so a failed run must say it stands.
  if (r.promoted && r.promoted.mode !== 'none' && r.status !== 'succeeded')
    out.push(
      `  DATABASE STAYS PROMOTED: ${r.promoted.mode} ${r.promoted.instanceId ?? ''} (a promotion or cluster failover is one-way; not rolled back)`,
    );
  return `${out.join('\n')}\n`;
}

export function checksText(checks: PreflightResult['checks']): string {
  return `${checks.map((c) => `${c.ok ? (c.warn ? 'warn' : 'ok  ') : 'FAIL'} ${c.name}: ${c.detail}`).join('\n')}\n`;
}
