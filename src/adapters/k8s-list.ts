// Reads every kind the scan needs ONCE per cluster: a paginated LIST across all namespaces
// (limit=500 + continue tokens), all kinds in parallel, over one keep-alive connection pool.
// Raw HTTPS + JSON.parse rather than the typed clients: the typed clients' model deserialisation
// costs more than the request itself at a few thousand pods. Counts requests so the benchmark
// can show requests ~ kinds x pages, not objects.
import http from 'node:http';
import https from 'node:https';
import { StepError } from '../core/errors.js';
import type { K8s } from './k8s.js';

export interface ListKind {
  /** Plural resource, e.g. `pods`. */
  resource: string;
  /** `/api/v1` or `/apis/apps/v1`. */
  prefix: string;
  kind: string;
  /** Missing on an older server (e.g. batch/v1 cronjobs before 1.21): skip with a warning, not fail. */
  optional?: boolean;
}

/** What `hivectl scan` lists. Keep in step with src/iam/permissions.ts (the scan entry). */
export const SCAN_KINDS: readonly ListKind[] = [
  { resource: 'namespaces', prefix: '/api/v1', kind: 'Namespace' },
  { resource: 'pods', prefix: '/api/v1', kind: 'Pod' },
  { resource: 'services', prefix: '/api/v1', kind: 'Service' },
  { resource: 'serviceaccounts', prefix: '/api/v1', kind: 'ServiceAccount' },
  { resource: 'deployments', prefix: '/apis/apps/v1', kind: 'Deployment' },
  { resource: 'statefulsets', prefix: '/apis/apps/v1', kind: 'StatefulSet' },
  { resource: 'daemonsets', prefix: '/apis/apps/v1', kind: 'DaemonSet' },
  { resource: 'replicasets', prefix: '/apis/apps/v1', kind: 'ReplicaSet' },
  { resource: 'jobs', prefix: '/apis/batch/v1', kind: 'Job' },
  { resource: 'cronjobs', prefix: '/apis/batch/v1', kind: 'CronJob', optional: true },
  { resource: 'networkpolicies', prefix: '/apis/networking.k8s.io/v1', kind: 'NetworkPolicy' },
  { resource: 'poddisruptionbudgets', prefix: '/apis/policy/v1', kind: 'PodDisruptionBudget', optional: true },
  { resource: 'roles', prefix: '/apis/rbac.authorization.k8s.io/v1', kind: 'Role' },
  { resource: 'rolebindings', prefix: '/apis/rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
  { resource: 'clusterroles', prefix: '/apis/rbac.authorization.k8s.io/v1', kind: 'ClusterRole' },
  { resource: 'clusterrolebindings', prefix: '/apis/rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding' },
];

export interface ListResult {
  // biome-ignore lint/suspicious/noExplicitAny: raw Kubernetes objects
  objects: any[];
  requests: number;
  pages: Record<string, number>;
  warnings: string[];
}

interface Conn {
  base: URL;
  opts: https.RequestOptions;
  agent: http.Agent;
}

async function connection(k: K8s): Promise<Conn> {
  const base = new URL(k.server);
  const opts: https.RequestOptions = {};
  // Client certificates, CA, bearer token (exec/auth-provider plugins included) as the kubeconfig says.
  await k.kc.applyToHTTPSOptions(opts);
  const secure = base.protocol === 'https:';
  const agentOpts = { keepAlive: true, maxSockets: 8 };
  const agent = secure
    ? new https.Agent({
        ...agentOpts,
        ca: opts.ca,
        cert: opts.cert,
        key: opts.key,
        rejectUnauthorized: opts.rejectUnauthorized ?? true,
      })
    : new http.Agent(agentOpts);
  return { base, opts, agent };
}

interface HttpError {
  status: number;
  message: string;
}

function getJson(c: Conn, path: string, signal?: AbortSignal): Promise<{ body: unknown } | HttpError> {
  const url = new URL(path, c.base);
  const mod = url.protocol === 'https:' ? https : http;
  const headers: Record<string, string> = { Accept: 'application/json', 'Accept-Encoding': 'identity' };
  for (const [k, v] of Object.entries(c.opts.headers ?? {})) if (typeof v === 'string') headers[k] = v;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      url,
      {
        method: 'GET',
        agent: c.agent,
        headers,
        ca: c.opts.ca,
        cert: c.opts.cert,
        key: c.opts.key,
        rejectUnauthorized: c.opts.rejectUnauthorized,
        signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            try {
              resolve({ body: JSON.parse(text) });
            } catch (e) {
              reject(e);
            }
            return;
          }
          let message = `HTTP ${status}`;
          try {
            const s = JSON.parse(text) as { message?: string };
            if (s.message) message = s.message;
          } catch {
            /* not a Status object */
          }
          resolve({ status, message });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function transportError(e: unknown, server: string): StepError {
  const code = (e as { code?: string })?.code;
  return new StepError(
    `cannot reach the Kubernetes API server at ${server}${code ? ` (${code})` : `: ${(e as Error)?.message ?? e}`}`,
    { hint: 'check that the cluster is up and --context/--kubeconfig point at it (`hivectl doctor`)', cause: e },
  );
}

/** LIST each kind across all namespaces, paginated, kinds in parallel. */
export async function listAll(
  k: K8s,
  kinds: readonly ListKind[] = SCAN_KINDS,
  o: { pageSize?: number; signal?: AbortSignal } = {},
): Promise<ListResult> {
  const c = await connection(k);
  const limit = o.pageSize ?? 500;
  let requests = 0;
  const pages: Record<string, number> = {};
  const warnings: string[] = [];
  try {
    const perKind = await Promise.all(
      kinds.map(async (kd) => {
        // biome-ignore lint/suspicious/noExplicitAny: raw objects
        const items: any[] = [];
        let cont: string | undefined;
        pages[kd.resource] = 0;
        for (;;) {
          const q = new URLSearchParams({ limit: String(limit) });
          if (cont) q.set('continue', cont);
          requests++;
          pages[kd.resource]!++;
          let r: Awaited<ReturnType<typeof getJson>>;
          try {
            r = await getJson(c, `${kd.prefix}/${kd.resource}?${q}`, o.signal);
          } catch (e) {
            throw transportError(e, k.server);
          }
          if ('status' in r) {
            if (r.status === 404 && kd.optional) {
              warnings.push(`${kd.resource} (${kd.prefix}) is not served by this cluster: not scanned`);
              return items;
            }
            if (r.status === 410 && cont) {
              // The continue token expired mid-list (very large cluster): start this kind over.
              items.length = 0;
              cont = undefined;
              continue;
            }
            if (r.status === 401)
              throw new StepError(`cannot list ${kd.resource}: the cluster rejected the credentials (401)`, {
                hint: 'refresh the kubeconfig credentials or pick another --context',
              });
            if (r.status === 403)
              throw new StepError(`cannot list ${kd.resource} across the cluster: permission denied (${r.message})`, {
                hint: 'bind the ClusterRole printed by `hivectl iam-policy --commands scan` to this identity',
              });
            throw new StepError(`cannot list ${kd.resource}: ${r.message}`);
          }
          // biome-ignore lint/suspicious/noExplicitAny: raw list body
          const body = r.body as any;
          for (const it of body?.items ?? []) {
            // Lists omit kind/apiVersion on items; the checks need them.
            it.kind = kd.kind;
            items.push(it);
          }
          cont = body?.metadata?.continue || undefined;
          if (!cont) return items;
        }
      }),
    );
    return { objects: perKind.flat(), requests, pages, warnings };
  } finally {
    c.agent.destroy();
  }
}
