// Runbook: fail over to the DR region (or fail back).
//   1. preflight: target cluster reachable + bootstrapped, database source, backups, images
//   2. fence the source side: scale API + agents to 0, remembering replicas (unreachable: reported)
//   3. promote the database in the target region (replica | snapshot | cluster), waited on
//   4. repoint the endpoint Secret on the target cluster
//   5. scale the target workloads to the remembered replicas, watched until Ready
//   6. verify: Deployments Ready, database answers at the new endpoint
// A failure in 4-6 rolls back in reverse: the source side is scaled back up where it still runs.
import type { CommandEnv } from '../core/command.js';
import { UsageError } from '../core/errors.js';
import type { Runbook } from '../core/step.js';
import {
  type DbMode,
  type FailoverSpec,
  fenceStep,
  preflightStep,
  promoteStep,
  repointStep,
  scaleUpStep,
  verifyTargetStep,
} from '../steps/failover/steps.js';
import { type RunbookDefinition, registerRunbook } from './index.js';

export interface FailoverInputs {
  direction: 'failover' | 'failback';
  mode: DbMode;
  /** Region failed over to (--to). */
  to?: string;
  /** Suffix for the instance restored in snapshot mode (defaults to the run's start time). */
  suffix?: string;
}

/** Resolve the spec from hivectl.yaml + the resolved target. Throws exit 2 on missing settings. */
export function failoverSpec(i: FailoverInputs, env: Pick<CommandEnv, 'config' | 'target'>): FailoverSpec {
  const c = env.config;
  const primary = {
    label: 'primary' as const,
    context: env.target.context ?? c.cluster.context,
    region: env.target.region ?? c.aws.region,
  };
  const dr = { label: 'dr' as const, context: c.cluster.drContext, region: env.target.drRegion ?? c.aws.drRegion };
  if (!dr.context)
    throw new UsageError('no DR cluster configured', {
      hint: 'set cluster.drContext in hivectl.yaml (a kube context of the DR cluster)',
    });
  const [from, to] = i.direction === 'failover' ? [primary, dr] : [dr, primary];
  if (i.to && to.region && i.to !== to.region)
    throw new UsageError(`--to ${i.to} is not the ${to.label} region (${to.region})`, {
      hint: `use --to ${to.region}, or set aws.${to.label === 'dr' ? 'drRegion' : 'region'}`,
    });
  const suffix = i.suffix ?? 'dr';
  return {
    direction: i.direction,
    from,
    to,
    mode: i.mode,
    replicaId: i.direction === 'failover' ? c.database.drReplicaId : c.database.instanceId,
    snapshotSourceId: i.direction === 'failover' ? c.database.instanceId : c.database.drReplicaId,
    newInstanceId:
      `${(i.direction === 'failover' ? c.database.instanceId : c.database.drReplicaId) ?? 'hive-db'}-${i.direction}-${suffix}`.slice(
        0,
        63,
      ),
    clusterId: c.database.clusterId,
  };
}

/**
 * The env a failover runs in: its default cluster (where the run lock is taken and what is printed
 * before any change) is the TARGET side, which must answer; the source may be down. Steps name both
 * sides explicitly, so nothing else changes.
 */
export async function failoverEnv(i: FailoverInputs, env: CommandEnv): Promise<CommandEnv> {
  const spec = failoverSpec(i, env);
  const { createAdapters } = await import('../adapters/index.js');
  const target = { ...env.target, ...(spec.to.context ? { context: spec.to.context } : {}) };
  return { ...env, target, adapters: createAdapters(target) };
}

export function failoverRunbook(i: FailoverInputs, env: Pick<CommandEnv, 'config' | 'target'>): Runbook {
  const spec = failoverSpec(i, env);
  return {
    name: i.direction,
    title: `${i.direction === 'failover' ? 'Fail over' : 'Fail back'} to ${spec.to.label} (${spec.to.region ?? spec.to.context}), database mode ${spec.mode}`,
    inputs: { ...i },
    mutating: true,
    items: [
      preflightStep(spec),
      fenceStep(spec),
      promoteStep(spec),
      repointStep(spec),
      scaleUpStep(spec),
      verifyTargetStep(spec),
    ],
  };
}

export const runbooks: RunbookDefinition[] = [
  {
    name: 'failover',
    title: 'Fail over to the DR region',
    description: 'preflight -> fence primary -> promote DR database -> repoint endpoint -> scale DR up -> verify',
    build: (inputs, env) => failoverRunbook({ ...(inputs as unknown as FailoverInputs), direction: 'failover' }, env),
    example: { direction: 'failover', mode: 'replica', to: 'us-west-2' },
  },
  {
    name: 'failback',
    title: 'Fail back to the primary region',
    description: 'preflight -> fence DR -> promote primary database -> repoint endpoint -> scale primary up -> verify',
    build: (inputs, env) => failoverRunbook({ ...(inputs as unknown as FailoverInputs), direction: 'failback' }, env),
    example: { direction: 'failback', mode: 'none' },
  },
];
for (const r of runbooks) registerRunbook(r);
