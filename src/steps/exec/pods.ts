// The agent pods whose workspaces are backed up: the agents Deployment's selector, Running pods only.

import { k8sError } from '../../adapters/k8s.js';
import type { Ctx } from '../../core/step.js';

export async function agentPods(ctx: Ctx): Promise<{ namespace: string; pods: string[] }> {
  const ns = ctx.config.platform.namespaces.agents;
  const name = ctx.config.platform.agents.deployment;
  const kube = await ctx.adapters.k8s();
  let selector: string;
  try {
    const d = await kube.apps.readNamespacedDeployment({ name, namespace: ns });
    const ml = d.spec?.selector?.matchLabels ?? {};
    selector = Object.entries(ml)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
  } catch (e) {
    throw k8sError(e, `read Deployment ${ns}/${name}`, kube.server);
  }
  try {
    const pods = await kube.core.listNamespacedPod({ namespace: ns, labelSelector: selector });
    return {
      namespace: ns,
      pods: pods.items
        .filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp)
        .map((p) => p.metadata!.name!)
        .sort(),
    };
  } catch (e) {
    throw k8sError(e, `list pods in ${ns}`, kube.server);
  }
}
