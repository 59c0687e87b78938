// The agent pods whose workspaces are backed up: the agents Deployment's selector, Running pods only.
// Raw JSON reads: a drill lists them four times, and the typed client's (de)serialisation of whole
// pods cost more CPU than the requests.

import { applyError, rawKube } from '../../adapters/k8s-apply.js';
import type { Ctx } from '../../core/step.js';

interface PodView {
  metadata?: { name?: string; deletionTimestamp?: string };
  status?: { phase?: string };
}

export async function agentPods(ctx: Ctx): Promise<{ namespace: string; pods: string[] }> {
  const ns = ctx.config.platform.namespaces.agents;
  const name = ctx.config.platform.agents.deployment;
  const kube = await ctx.adapters.k8s();
  const raw = await rawKube(kube);
  const base = `/namespaces/${encodeURIComponent(ns)}`;
  let selector: string;
  try {
    const d = await raw.request<{ spec?: { selector?: { matchLabels?: Record<string, string> } } }>(
      'GET',
      `/apis/apps/v1${base}/deployments/${encodeURIComponent(name)}`,
    );
    selector = Object.entries(d.spec?.selector?.matchLabels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
  } catch (e) {
    throw applyError(e, `read Deployment ${ns}/${name}`, kube.server);
  }
  try {
    const pods = await raw.request<{ items?: PodView[] }>('GET', `/api/v1${base}/pods`, {
      query: { labelSelector: selector },
    });
    return {
      namespace: ns,
      pods: (pods.items ?? [])
        .filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp)
        .map((p) => p.metadata!.name!)
        .sort(),
    };
  } catch (e) {
    throw applyError(e, `list pods in ${ns}`, kube.server);
  }
}
