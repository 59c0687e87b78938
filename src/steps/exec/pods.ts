// The agent pods whose workspaces are backed up: the agents Deployment's selector, Running pods only.
// Read through the raw JSON client (k8s-chaos): a drill lists them four times, and the typed client's
// (de)serialisation of whole pods cost more CPU than the requests.

import { listPods, readObject } from '../../adapters/k8s-chaos.js';
import { StepError } from '../../core/errors.js';
import type { Ctx } from '../../core/step.js';

export async function agentPods(ctx: Ctx): Promise<{ namespace: string; pods: string[] }> {
  const ns = ctx.config.platform.namespaces.agents;
  const name = ctx.config.platform.agents.deployment;
  const kube = await ctx.adapters.k8s();
  const d = (await readObject(kube, { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name })) as
    | { spec?: { selector?: { matchLabels?: Record<string, string> } } }
    | undefined;
  if (!d) throw new StepError(`read Deployment ${ns}/${name}: deployments.apps "${name}" not found`);
  const selector = Object.entries(d.spec?.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const pods = await listPods(kube, ns, selector);
  return {
    namespace: ns,
    pods: pods
      .filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp)
      .map((p) => p.metadata!.name!)
      .sort(),
  };
}
