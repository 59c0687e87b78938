// Built-in experiments (`hivectl chaos pod-kill` ...): the same document a YAML file would hold,
// with a default hypothesis on the platform's own Deployments.
import type { HivectlConfig } from '../core/config.js';
import { type Experiment, type ExperimentInput, parseExperiment } from './schema.js';

export const BUILTINS = ['pod-kill', 'node-failure', 'network-partition', 'dependency-outage', 'db-failover'] as const;
export type Builtin = (typeof BUILTINS)[number];

export interface BuiltinFlags {
  namespace?: string;
  selector?: string;
  count?: string;
  node?: string;
  mode?: 'kwok' | 'cordon';
  from?: string;
  to?: string;
  dependency?: 'postgres' | 'redis';
  duration?: string;
  maxUnavailable?: string;
  includeUnlabelled?: boolean;
  rollbackStrategy?: 'always' | 'deviated' | 'never';
  /** Minimum ready replicas of the API for the hypothesis (default 1). */
  minReady?: number;
}

const asCount = (s: string | undefined) => (s === undefined ? undefined : /%$/.test(s) ? s : Number(s));

export function builtinExperiment(kind: Builtin, f: BuiltinFlags, cfg: HivectlConfig): Experiment {
  const ns = cfg.platform.namespaces;
  const agentsSel = f.selector ?? `app.kubernetes.io/name=${cfg.platform.agents.deployment}`;
  const action = (() => {
    switch (kind) {
      case 'pod-kill':
        return {
          type: 'pod-kill',
          namespace: f.namespace ?? ns.agents,
          selector: agentsSel,
          count: asCount(f.count) ?? 1,
        };
      case 'node-failure':
        return {
          type: 'node-failure',
          ...(f.node ? { node: f.node } : {}),
          ...(f.selector ? { selector: f.selector } : {}),
          mode: f.mode ?? 'cordon',
        };
      case 'network-partition':
        return {
          type: 'network-partition',
          namespace: f.namespace ?? ns.agents,
          from: f.from ?? agentsSel,
          ...(f.to ? { to: f.to } : {}),
        };
      case 'dependency-outage':
        return {
          type: 'dependency-outage',
          namespace: f.namespace ?? ns.agents,
          ...(f.selector ? { selector: f.selector } : {}),
          dependency: f.dependency ?? 'postgres',
        };
      case 'db-failover':
        return { type: 'db-failover' };
    }
  })();
  const doc: ExperimentInput = {
    metadata: { name: `builtin-${kind}` },
    spec: {
      duration: f.duration ?? '10s',
      hypothesis: {
        probes: [
          { type: 'ready-replicas', namespace: ns.api, deployment: cfg.platform.api.deployment, min: f.minReady ?? 1 },
        ],
      },
      method: [action as never],
      ...(f.maxUnavailable ? { maxUnavailable: asCount(f.maxUnavailable) as never } : {}),
      includeUnlabelled: f.includeUnlabelled ?? false,
      rollbackStrategy: f.rollbackStrategy ?? 'always',
    },
  };
  return parseExperiment(doc);
}
