// Step: wait, by watching, until Deployments are rolled out. Reused by restore and failover.
import type { DeploymentRef, RolloutState } from '../../adapters/k8s-watch.js';
import type { Ctx, Step } from '../../core/step.js';

export interface WaitRolloutOptions {
  id?: string;
  title?: string;
  /** Deployments to wait for (resolved at plan/apply time). */
  targets(ctx: Ctx): Promise<DeploymentRef[]> | DeploymentRef[];
  /** Kube context (default: the target's). */
  context?: string | undefined;
  /** Overrides --timeout. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 300_000;

async function wait(ctx: Ctx, o: WaitRolloutOptions, targets: DeploymentRef[]): Promise<RolloutState[]> {
  const { waitForRollout } = await import('../../adapters/k8s-watch.js');
  const k8s = await ctx.adapters.k8s(o.context);
  return waitForRollout(k8s, targets, {
    signal: ctx.signal,
    timeoutMs: o.timeoutMs ?? (ctx.mode.timeoutMs || DEFAULT_TIMEOUT_MS),
    onProgress: (states) => {
      for (const s of states) ctx.io.debug(`Deployment ${s.namespace}/${s.name}: ${s.summary}`);
    },
  });
}

export function waitRolloutStep(o: WaitRolloutOptions): Step<{ targets: DeploymentRef[] }, { states: RolloutState[] }> {
  return {
    id: o.id ?? 'wait-rollout',
    title: o.title ?? 'Wait for the Deployments to roll out',
    async plan(ctx) {
      const targets = await o.targets(ctx);
      return {
        summary: `wait for ${targets.length} Deployment(s) to be ready`,
        changes: targets.map((t) => ({
          action: 'read' as const,
          target: `Deployment ${t.namespace}/${t.name}`,
          detail: 'wait for rollout',
        })),
        payload: { targets },
        noop: targets.length === 0,
      };
    },
    // The wait is the step's work: a timeout fails the step, so the runner rolls back what was applied.
    async apply(ctx, payload) {
      return { states: await wait(ctx, o, payload.targets) };
    },
    async verify(ctx, result) {
      await wait(
        ctx,
        o,
        result.states.map((s) => ({ namespace: s.namespace, name: s.name })),
      );
    },
  };
}
