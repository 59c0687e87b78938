// Bootstrap revisions, like Helm releases: one Secret per applied set in hivectl's own namespace,
// holding the applied objects (gzip + base64). Secret *values* are never stored in a revision: a
// Secret is kept with its keys only and marked, and a rollback leaves live Secret values as they are.
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  ApiError,
  createObject,
  deleteObject,
  type KObject,
  listObjects,
  type RawKube,
} from '../../adapters/k8s-apply.js';
import { type KubernetesObject, LABEL_MANAGED_BY, STATE_NAMESPACE_LABELS } from '../../render/types.js';

export const REVISION_TYPE = 'hivectl.dev/bootstrap-revision.v1';
export const LABEL_REVISION_OF = 'hivectl.dev/revision-of';
export const LABEL_REVISION = 'hivectl.dev/revision';
export const ANN_VALUES_OMITTED = 'hivectl.dev/values-omitted';
/** How many revisions are kept (older ones are deleted). */
export const KEEP_REVISIONS = 10;

export interface RevisionInfo {
  revision: number;
  status: string;
  env: string;
  appliedAt: string;
  changes: number;
  objects: number;
  description: string;
}

export function revisionName(instance: string, n: number): string {
  return `hivectl-bootstrap-${instance}-rev-${n}`;
}

/** The object without Secret values (keys kept, values emptied), for storage in a revision. */
export function stripSecretValues(o: KubernetesObject): KubernetesObject {
  if (o.kind !== 'Secret') return o;
  const c = structuredClone(o) as KubernetesObject & {
    data?: Record<string, string>;
    stringData?: Record<string, string>;
  };
  const keys = [...Object.keys(c.data ?? {}), ...Object.keys(c.stringData ?? {})];
  delete c.data;
  delete c.stringData;
  c.metadata.annotations = { ...(c.metadata.annotations ?? {}), [ANN_VALUES_OMITTED]: keys.join(',') };
  return c;
}

export function encodeObjects(objects: KubernetesObject[]): string {
  return gzipSync(Buffer.from(JSON.stringify(objects.map(stripSecretValues)))).toString('base64');
}

export function decodeObjects(b64: string): KubernetesObject[] {
  // The Secret's data is base64 of our base64 text.
  return JSON.parse(gunzipSync(Buffer.from(b64, 'base64')).toString('utf8')) as KubernetesObject[];
}

function info(s: KObject): RevisionInfo {
  const a = s.metadata.annotations ?? {};
  return {
    revision: Number(s.metadata.labels?.[LABEL_REVISION] ?? 0),
    status: a['hivectl.dev/status'] ?? 'unknown',
    env: a['hivectl.dev/env'] ?? '',
    appliedAt: a['hivectl.dev/applied-at'] ?? '',
    changes: Number(a['hivectl.dev/changes'] ?? 0),
    objects: Number(a['hivectl.dev/objects'] ?? 0),
    description: a['hivectl.dev/description'] ?? '',
  };
}

export async function listRevisions(raw: RawKube, namespace: string, instance: string): Promise<RevisionInfo[]> {
  try {
    const items = await listObjects(raw, 'v1', 'Secret', {
      namespace,
      labelSelector: `${LABEL_REVISION_OF}=${instance}`,
    });
    return items.map(info).sort((a, b) => a.revision - b.revision);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return [];
    throw e;
  }
}

export async function loadRevision(
  raw: RawKube,
  namespace: string,
  instance: string,
  n: number,
): Promise<KubernetesObject[] | undefined> {
  try {
    const s = await raw.request<KObject>('GET', `/api/v1/namespaces/${namespace}/secrets/${revisionName(instance, n)}`);
    const data = (s.data as Record<string, string> | undefined)?.objects;
    return data ? decodeObjects(Buffer.from(data, 'base64').toString('utf8')) : [];
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return undefined;
    throw e;
  }
}

export async function ensureNamespace(raw: RawKube, name: string): Promise<void> {
  try {
    await createObject(raw, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels: { ...STATE_NAMESPACE_LABELS } },
    });
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 409)) throw e;
  }
}

export async function saveRevision(
  raw: RawKube,
  namespace: string,
  instance: string,
  r: { objects: KubernetesObject[]; env: string; changes: number; description: string; status?: string },
): Promise<number> {
  await ensureNamespace(raw, namespace);
  const existing = await listRevisions(raw, namespace, instance);
  const n = (existing.at(-1)?.revision ?? 0) + 1;
  await createObject(raw, {
    apiVersion: 'v1',
    kind: 'Secret',
    // A typed Secret: `kubectl get secret` shows what it is, and tools that print Opaque secrets skip it.
    type: REVISION_TYPE,
    metadata: {
      name: revisionName(instance, n),
      namespace,
      labels: { [LABEL_MANAGED_BY]: 'hivectl', [LABEL_REVISION_OF]: instance, [LABEL_REVISION]: String(n) },
      annotations: {
        'hivectl.dev/status': r.status ?? 'deployed',
        'hivectl.dev/env': r.env,
        'hivectl.dev/applied-at': new Date().toISOString(),
        'hivectl.dev/changes': String(r.changes),
        'hivectl.dev/objects': String(r.objects.length),
        'hivectl.dev/description': r.description,
      },
    },
    data: { objects: Buffer.from(encodeObjects(r.objects)).toString('base64') },
  });
  for (const old of existing.slice(0, Math.max(0, existing.length + 1 - KEEP_REVISIONS))) {
    await deleteObject(raw, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: revisionName(instance, old.revision), namespace },
    });
  }
  return n;
}
