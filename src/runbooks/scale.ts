// Runbooks: `scale-agents` (scale subresource, idle agents first, optional autoscaler pause),
// `scale-resume` (hand control back), `scale-policy` (HPA behavior / ScaledObject bounds).
import type { Runbook } from '../core/step.js';
import { type PolicyInput, resumeStep, scalePolicyStep, scaleReplicasStep } from '../steps/k8s/scale.js';
import { type RunbookDefinition, registerRunbook } from './index.js';

export interface ScaleAgentsInputs {
  replicas: number;
  pauseAutoscaler: boolean;
}

export function scaleAgentsRunbook(i: ScaleAgentsInputs): Runbook {
  return {
    name: 'scale-agents',
    title: `Scale the agents to ${i.replicas}`,
    inputs: { ...i },
    mutating: true,
    items: [scaleReplicasStep(i)],
  };
}

export function scaleResumeRunbook(): Runbook {
  return {
    name: 'scale-resume',
    title: 'Resume the agents autoscaler',
    inputs: {},
    mutating: true,
    items: [resumeStep()],
  };
}

export function scalePolicyRunbook(i: PolicyInput): Runbook {
  return {
    name: 'scale-policy',
    title: `Agents autoscaling policy ${i.min}..${i.max}, ${i.perAgent} per agent`,
    inputs: { ...i },
    mutating: true,
    items: [scalePolicyStep(i)],
  };
}

export const runbooks: RunbookDefinition[] = [
  {
    name: 'scale-agents',
    title: 'Scale the agent workers by hand',
    description:
      'refuse if an autoscaler owns them (or pause it) -> deletion costs (idle first) -> scale subresource -> wait',
    build: (inputs) => scaleAgentsRunbook(inputs as unknown as ScaleAgentsInputs),
    example: { replicas: 3, pauseAutoscaler: false },
  },
  {
    name: 'scale-resume',
    title: 'Hand the agents back to their autoscaler',
    description: 'restore the HPA bounds saved by --pause-autoscaler, or drop KEDA paused-replicas',
    build: () => scaleResumeRunbook(),
  },
  {
    name: 'scale-policy',
    title: 'Write the agents autoscaling policy',
    description: 'validate (min <= max, max fits the quota) -> HPA min/max/behavior/target or ScaledObject',
    build: (inputs) => scalePolicyRunbook(inputs as unknown as PolicyInput),
    example: { min: 1, max: 50, perAgent: 5, scaleDownWindowSeconds: 300 },
  },
];

for (const r of runbooks) registerRunbook(r);
