// Runbook: run a chaos experiment.
//   1. probe the steady-state hypothesis (refuse to inject into a system already off its steady state)
//   2. open the fault ledger (undo records live in the cluster, so `chaos cleanup` works after a crash)
//   3. inject each action of the method (undo recorded before each fault)
//   4. observe the hypothesis for the duration; abort conditions and the kill switch stop it
//   5. roll the faults back (always | deviated | never)
//   6. probe the hypothesis again until it holds
import { type Experiment, parseExperiment } from '../chaos/schema.js';
import type { Runbook } from '../core/step.js';
import {
  actionStep,
  type ChaosOptions,
  ledgerStep,
  observeStep,
  rollbackFaultsStep,
  steadyAfterStep,
  steadyBeforeStep,
} from '../steps/chaos/experiment.js';
import { registerRunbook } from './index.js';

export function chaosRunbook(exp: Experiment, o: ChaosOptions = {}): Runbook {
  return {
    name: 'chaos-run',
    title: `Chaos experiment ${exp.metadata.name}`,
    inputs: { experiment: exp, ...(o.context ? { context: o.context } : {}) },
    mutating: true,
    items: [
      steadyBeforeStep(exp, o),
      ledgerStep(exp, o),
      ...exp.spec.method.map((a, i) => actionStep(exp, o, a, i)),
      observeStep(exp, o),
      rollbackFaultsStep(exp, o),
      steadyAfterStep(exp, o),
    ],
  };
}

/** Rebuild from journalled inputs (`hivectl resume`). */
export function chaosRunbookFromInputs(inputs: Record<string, unknown>): Runbook {
  return chaosRunbook(parseExperiment(inputs.experiment), {
    ...(typeof inputs.context === 'string' ? { context: inputs.context } : {}),
  });
}

registerRunbook({
  name: 'chaos-run',
  title: 'Run a chaos experiment',
  description:
    'steady state before -> fault ledger -> inject actions -> observe -> roll back faults -> steady state after',
  build: (inputs) => chaosRunbookFromInputs(inputs),
  example: {
    experiment: {
      metadata: { name: 'kill-one-agent' },
      spec: {
        duration: '10s',
        hypothesis: { probes: [{ type: 'ready-replicas', namespace: 'hive-api', deployment: 'hive-api', min: 1 }] },
        method: [
          { type: 'pod-kill', namespace: 'hive-agents', selector: 'app.kubernetes.io/name=agent-worker', count: 1 },
        ],
      },
    },
  },
});
