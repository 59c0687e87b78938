// The experiment report, built from the chaos runbook's step results: steady state before / during /
// after, each action with its times, deviated or not.
import type { ActionOutcome } from '../chaos/actions.js';
import type { ProbeResult } from '../chaos/probes.js';
import type { ObserveResult, RollbackResult, SteadyResult } from '../steps/chaos/experiment.js';

export interface ChaosReport {
  experiment: string;
  runId: string;
  status: string;
  deviated: boolean;
  before?: ProbeResult[];
  during: { samples: number; failedSamples: number; worst?: ProbeResult[] };
  after?: ProbeResult[];
  recoveredInMs?: number;
  actions: Array<Pick<ActionOutcome, 'type' | 'startedAt' | 'endedAt' | 'targets' | 'detail'>>;
  rollback?: RollbackResult;
}

export function chaosReport(
  experiment: string,
  runId: string,
  status: string,
  results: Record<string, unknown>,
): ChaosReport {
  const before = results['chaos-steady-before'] as SteadyResult | undefined;
  const obs = results['chaos-observe'] as ObserveResult | undefined;
  const after = results['chaos-steady-after'] as SteadyResult | undefined;
  const actions = Object.entries(results)
    .filter(([k]) => k.startsWith('chaos-action-'))
    .map(([, v]) => {
      const a = v as ActionOutcome;
      return { type: a.type, startedAt: a.startedAt, endedAt: a.endedAt, targets: a.targets, detail: a.detail };
    });
  const failedSamples = obs?.samples.filter((s) => s.probes.some((p) => !p.ok)) ?? [];
  // A deep copy: the output serializer shows an object met twice (results + report) as [circular].
  return structuredClone({
    experiment,
    runId,
    status,
    deviated: Boolean(obs?.deviated) || (after !== undefined && !after.ok),
    ...(before ? { before: before.probes } : {}),
    during: {
      samples: obs?.samples.length ?? 0,
      failedSamples: failedSamples.length,
      ...(failedSamples[0] ? { worst: failedSamples[0].probes } : {}),
    },
    ...(after ? { after: after.probes } : {}),
    ...(after?.recoveredInMs !== undefined ? { recoveredInMs: after.recoveredInMs } : {}),
    actions,
    ...(results['chaos-rollback'] ? { rollback: results['chaos-rollback'] as RollbackResult } : {}),
  });
}

export const probeLine = (p: ProbeResult) =>
  `${p.ok ? 'ok  ' : 'FAIL'} ${p.name}${p.value !== undefined ? ` = ${p.value}` : ''}${p.detail ? ` (${p.detail})` : ''}`;

export function chaosReportText(r: ChaosReport): string {
  const out: string[] = [
    `experiment ${r.experiment} (run ${r.runId}): ${r.status}, ${r.deviated ? 'DEVIATED' : 'hypothesis held'}`,
  ];
  if (r.before) out.push('steady state before:', ...r.before.map((p) => `  ${probeLine(p)}`));
  for (const a of r.actions) {
    out.push(`action ${a.type} ${a.startedAt} -> ${a.endedAt}`);
    for (const d of a.detail) out.push(`  ${d}`);
  }
  out.push(`during: ${r.during.samples} sample(s), ${r.during.failedSamples} off the steady state`);
  if (r.during.worst) out.push(...r.during.worst.filter((p) => !p.ok).map((p) => `  ${probeLine(p)}`));
  if (r.rollback)
    out.push(
      `rollback (${r.rollback.strategy}): ${r.rollback.rolledBack ? r.rollback.reverted.join(', ') || 'nothing to undo' : 'faults left in place'}`,
    );
  if (r.after)
    out.push(
      `steady state after${r.recoveredInMs !== undefined ? ` (back in ${(r.recoveredInMs / 1000).toFixed(1)}s)` : ''}:`,
      ...r.after.map((p) => `  ${probeLine(p)}`),
    );
  return `${out.join('\n')}\n`;
}
