// Kubernetes calls used by chaos experiments, failover and drills: generic object create/patch/
// delete by label (fault bookkeeping), pods, nodes, evictions, deployment scale and Secrets
// (waiting for rollouts is k8s-watch.ts). Pure logic (which pods, which labels) lives
// in src/chaos and src/steps; this file only talks to the API server.
import type * as k8s from '@kubernetes/client-node';
import { StepError } from '../core/errors.js';
import { type K8s, k8sError, k8sStatus } from './k8s.js';
import {
  apiStatus,
  applyError,
  getObject,
  deleteObject as rawDeleteObject,
  rawKube,
  mergePatch as rawMergePatch,
  serverSideApply as rawServerSideApply,
} from './k8s-apply.js';

export type KObject = k8s.KubernetesObject & Record<string, unknown>;

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string | undefined;
}

/** Whether the API server answers at all (short timeout, one cheap request). */
export async function reachable(k: K8s, timeoutMs = 3000): Promise<{ ok: boolean; error?: string }> {
  const timer = new Promise<{ ok: boolean; error: string }>((resolve) =>
    setTimeout(
      () => resolve({ ok: false, error: `no answer from ${k.server} within ${timeoutMs}ms` }),
      timeoutMs,
    ).unref(),
  );
  const call = rawKube(k)
    .then((raw) => raw.request('GET', '/api/v1/namespaces', { query: { limit: 1 } }))
    .then(() => ({ ok: true }))
    // 403 is an answer: a least-privileged identity may not list namespaces (hivectl iam-policy).
    .catch((e: unknown) =>
      apiStatus(e) === 403 ? { ok: true } : { ok: false, error: applyError(e, 'list namespaces', k.server).message },
    );
  return Promise.race([call, timer]);
}

/** Server-side apply of one object owned by hivectl (create or update, idempotent). */
export async function applyObject<T extends k8s.KubernetesObject>(k: K8s, obj: T): Promise<T> {
  try {
    return (await rawServerSideApply(await rawKube(k), obj as never, { force: true })) as unknown as T;
  } catch (e) {
    throw applyError(e, `apply ${obj.kind} ${obj.metadata?.namespace ?? ''}/${obj.metadata?.name}`, k.server);
  }
}

// The hot calls of chaos and failover (ledger, Deployments, the endpoint Secret) go through the raw JSON
// client (k8s-apply's object calls): the typed client's (de)serialisation cost about twice the CPU per call.
const notFound = (e: unknown) => apiStatus(e) === 404;

const rawRef = (ref: ObjectRef) => ({
  apiVersion: ref.apiVersion,
  kind: ref.kind,
  metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
});

/** JSON merge patch (null deletes a key, e.g. an annotation). */
export async function mergePatch(k: K8s, ref: ObjectRef, patch: Record<string, unknown>): Promise<KObject> {
  try {
    return (await rawMergePatch(await rawKube(k), rawRef(ref), patch)) as KObject;
  } catch (e) {
    throw applyError(e, `patch ${ref.kind} ${ref.namespace ?? ''}/${ref.name}`, k.server);
  }
}

export async function readObject(k: K8s, ref: ObjectRef): Promise<KObject | undefined> {
  try {
    return (await getObject(await rawKube(k), rawRef(ref))) as KObject | undefined;
  } catch (e) {
    throw applyError(e, `read ${ref.kind} ${ref.namespace ?? ''}/${ref.name}`, k.server);
  }
}

/** Delete (background propagation), treating "already gone" as success. Returns whether something was deleted. */
export async function deleteObject(k: K8s, ref: ObjectRef): Promise<boolean> {
  try {
    return await rawDeleteObject(await rawKube(k), rawRef(ref));
  } catch (e) {
    throw applyError(e, `delete ${ref.kind} ${ref.namespace ?? ''}/${ref.name}`, k.server);
  }
}

/** Objects of one kind matching a label selector, in a namespace or cluster-wide (namespace undefined). */
export async function listObjects(
  k: K8s,
  apiVersion: string,
  kind: string,
  namespace: string | undefined,
  labelSelector?: string,
): Promise<KObject[]> {
  const raw = await rawKube(k);
  let path: string;
  try {
    path = await raw.pathFor(apiVersion, kind, namespace);
  } catch (e) {
    // A kind the cluster does not serve has no objects.
    if (notFound(e) || (e instanceof StepError && /does not serve|but not kind/.test(e.message))) return [];
    throw applyError(e, `list ${kind} ${labelSelector ?? ''}`, k.server);
  }
  try {
    const r = await raw.request<{ items?: KObject[] }>('GET', path, { query: { labelSelector } });
    return (r.items ?? []).map((i) => ({ ...i, apiVersion, kind }) as KObject);
  } catch (e) {
    if (notFound(e)) return [];
    throw applyError(e, `list ${kind} ${labelSelector ?? ''}`, k.server);
  }
}

const nsPath = (namespace: string) => `/api/v1/namespaces/${encodeURIComponent(namespace)}`;

/** Pods as JSON (timestamps are strings, not Dates). */
export async function listPods(k: K8s, namespace: string, labelSelector?: string): Promise<k8s.V1Pod[]> {
  try {
    const r = await (await rawKube(k)).request<{ items?: k8s.V1Pod[] }>('GET', `${nsPath(namespace)}/pods`, {
      query: { labelSelector },
    });
    return r.items ?? [];
  } catch (e) {
    throw applyError(e, `list pods in ${namespace}`, k.server);
  }
}

export async function deletePod(k: K8s, namespace: string, name: string, gracePeriodSeconds = 0): Promise<boolean> {
  try {
    await (await rawKube(k)).request('DELETE', `${nsPath(namespace)}/pods/${encodeURIComponent(name)}`, {
      body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds },
    });
    return true;
  } catch (e) {
    if (notFound(e)) return false;
    throw applyError(e, `delete pod ${namespace}/${name}`, k.server);
  }
}

/** Evict through the Eviction API so PodDisruptionBudgets are honoured (429 = blocked by a PDB). */
export async function evictPod(k: K8s, namespace: string, name: string): Promise<'evicted' | 'gone' | 'blocked'> {
  try {
    await k.core.createNamespacedPodEviction({
      name,
      namespace,
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } },
    });
    return 'evicted';
  } catch (e) {
    const s = k8sStatus(e);
    if (s === 404) return 'gone';
    if (s === 429) return 'blocked';
    throw k8sError(e, `evict pod ${namespace}/${name}`, k.server);
  }
}

export async function listNodes(k: K8s, labelSelector?: string): Promise<k8s.V1Node[]> {
  try {
    return (await k.core.listNode({ labelSelector })).items;
  } catch (e) {
    throw k8sError(e, 'list nodes', k.server);
  }
}

/** A Deployment as JSON (timestamps are strings, not Dates). */
export async function getDeployment(k: K8s, namespace: string, name: string): Promise<k8s.V1Deployment | undefined> {
  try {
    return await (await rawKube(k)).request<k8s.V1Deployment>(
      'GET',
      `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`,
    );
  } catch (e) {
    if (notFound(e)) return undefined;
    throw applyError(e, `read deployment ${namespace}/${name}`, k.server);
  }
}

export async function listDeployments(k: K8s, namespace: string, labelSelector?: string): Promise<k8s.V1Deployment[]> {
  try {
    const r = await (await rawKube(k)).request<{ items?: k8s.V1Deployment[] }>(
      'GET',
      `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/deployments`,
      { query: { labelSelector } },
    );
    return r.items ?? [];
  } catch (e) {
    throw applyError(e, `list deployments in ${namespace}`, k.server);
  }
}

export async function scaleDeployment(k: K8s, namespace: string, name: string, replicas: number): Promise<void> {
  await mergePatch(k, { apiVersion: 'apps/v1', kind: 'Deployment', namespace, name }, { spec: { replicas } });
}

export async function readSecretData(
  k: K8s,
  namespace: string,
  name: string,
): Promise<Record<string, string> | undefined> {
  try {
    const s = await (await rawKube(k)).request<k8s.V1Secret>('GET', `/api/v1/namespaces/${namespace}/secrets/${name}`);
    const out: Record<string, string> = {};
    for (const [key, v] of Object.entries(s.data ?? {})) out[key] = Buffer.from(v, 'base64').toString('utf8');
    return out;
  } catch (e) {
    if (notFound(e)) return undefined;
    throw applyError(e, `read secret ${namespace}/${name}`, k.server);
  }
}

/** Replace a Secret's string data (created when missing). */
export async function writeSecretData(
  k: K8s,
  namespace: string,
  name: string,
  data: Record<string, string>,
  labels: Record<string, string> = {},
): Promise<void> {
  const body: k8s.V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, labels },
    type: 'Opaque',
    data: Object.fromEntries(Object.entries(data).map(([key, v]) => [key, Buffer.from(v, 'utf8').toString('base64')])),
  };
  const raw = await rawKube(k);
  try {
    await raw.request('PUT', `/api/v1/namespaces/${namespace}/secrets/${name}`, { body });
  } catch (e) {
    if (!notFound(e)) throw applyError(e, `write secret ${namespace}/${name}`, k.server);
    try {
      await raw.request('POST', `/api/v1/namespaces/${namespace}/secrets`, { body });
    } catch (e2) {
      throw applyError(e2, `create secret ${namespace}/${name}`, k.server);
    }
  }
}

/** Every pod scheduled on a node, in all namespaces. */
export async function listPodsOnNode(k: K8s, node: string): Promise<k8s.V1Pod[]> {
  try {
    return (await k.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` })).items;
  } catch (e) {
    throw k8sError(e, `list pods on node ${node}`, k.server);
  }
}

export async function namespaceLabels(k: K8s, namespace: string): Promise<Record<string, string>> {
  try {
    return (await (await rawKube(k)).request<k8s.V1Namespace>('GET', nsPath(namespace))).metadata?.labels ?? {};
  } catch (e) {
    if (notFound(e)) return {};
    throw applyError(e, `read namespace ${namespace}`, k.server);
  }
}

/**
 * Report a node's Ready condition through the status subresource, as its kubelet would (KWOK nodes
 * in the sandbox, once KWOK no longer manages them). Read-modify-replace: conditions are a list.
 */
export async function setNodeReady(
  k: K8s,
  name: string,
  ready: boolean,
  reason: string,
  message: string,
): Promise<void> {
  try {
    const node = await k.core.readNodeStatus({ name });
    const now = new Date();
    const conditions = (node.status?.conditions ?? []).filter((c) => c.type !== 'Ready');
    conditions.push({
      type: 'Ready',
      status: ready ? 'True' : 'False',
      reason,
      message,
      lastHeartbeatTime: now,
      lastTransitionTime: now,
    });
    node.status = { ...(node.status ?? {}), conditions };
    await k.core.replaceNodeStatus({ name, body: node });
  } catch (e) {
    throw k8sError(e, `set node ${name} Ready=${ready}`, k.server);
  }
}
