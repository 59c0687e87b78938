// A thin, untyped REST client for objects of any kind: server-side apply (field manager `hivectl`),
// server-side dry-run, get, list, delete, discovery. It talks JSON to the apiserver directly rather than
// through KubernetesObjectApi, whose typed (de)serialisation renames fields (LimitRange `default` ->
// `_default`), turns timestamps into Dates and drops unknown CRD fields: a diff must see what the
// server stores, byte for byte.
import { setMaxListeners } from 'node:events';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import { StepError } from '../core/errors.js';
import { type K8s, secureContextFor } from './k8s.js';

export interface KObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    managedFields?: ManagedFieldsEntry[];
    resourceVersion?: string;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: 'Apply' | 'Update';
  subresource?: string;
  fieldsV1?: Record<string, unknown>;
  apiVersion?: string;
  time?: string;
}

export interface StatusCause {
  type?: string;
  message?: string;
  field?: string;
}

/** A non-2xx answer from the apiserver, with its Status object. */
/** HTTP status of a failed raw request: a 403 arrives as a StepError naming the grant, the ApiError its cause. */
export function apiStatus(e: unknown): number | undefined {
  if (e instanceof ApiError) return e.status;
  const cause = (e as { cause?: unknown })?.cause;
  return cause instanceof ApiError ? cause.status : undefined;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly causes: StatusCause[],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ResourceInfo {
  plural: string;
  namespaced: boolean;
}

export interface RequestOpts {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal | undefined;
}

export interface RawKube {
  server: string;
  request<T = unknown>(method: string, path: string, opts?: RequestOpts): Promise<T>;
  /** Stream a watch: one parsed JSON event per line. Resolves when the server closes the stream. */
  stream(path: string, query: RequestOpts['query'], onEvent: (ev: unknown) => void, signal: AbortSignal): Promise<void>;
  /** Kind -> plural resource name and scope (discovery, cached). */
  resource(apiVersion: string, kind: string): Promise<ResourceInfo>;
  /** Does the server serve this group (any version)? Returns the preferred groupVersion. */
  servedGroup(group: string, resourcePlural: string): Promise<string | undefined>;
  /** URL path of an object (or of its collection when name is undefined). */
  pathFor(apiVersion: string, kind: string, namespace: string | undefined, name?: string): Promise<string>;
  close(): void;
}

const clients = new WeakMap<K8s, Promise<RawKube>>();

export function rawKube(k: K8s): Promise<RawKube> {
  let c = clients.get(k);
  if (!c) {
    c = makeRawKube(k);
    clients.set(k, c);
  }
  return c;
}

function qs(query: RequestOpts['query']): string {
  if (!query) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

// One keep-alive agent per cluster + credentials for the whole process: a drill connects to the same
// two clusters in every phase, and a new agent would mean new connections and TLS handshakes each time.
const agents = new Map<string, HttpAgent>();

function sharedAgent(base: URL, opts: RequestOptions): HttpAgent {
  const key = JSON.stringify([base.origin, opts.ca, opts.cert, opts.key, opts.rejectUnauthorized].map(String));
  let agent = agents.get(key);
  if (!agent) {
    // Keep-alive: a plan is ~70 requests in parallel; TLS handshakes would dominate a no-op run.
    agent =
      base.protocol === 'https:'
        ? new HttpsAgent({
            keepAlive: true,
            maxSockets: 32,
            ca: opts.ca,
            cert: opts.cert,
            key: opts.key,
            rejectUnauthorized: opts.rejectUnauthorized,
            secureContext: secureContextFor(opts),
          } as ConstructorParameters<typeof HttpsAgent>[0])
        : new HttpAgent({ keepAlive: true, maxSockets: 32 });
    agents.set(key, agent);
  }
  return agent;
}

async function makeRawKube(k: K8s): Promise<RawKube> {
  const base = new URL(k.server);
  const isHttps = base.protocol === 'https:';
  const opts: RequestOptions = {};
  await k.kc.applyToHTTPSOptions(opts);
  const agent = sharedAgent(base, opts);
  const headers = { ...(opts.headers as Record<string, string> | undefined) };
  const basePath = base.pathname.replace(/\/$/, '');

  function send(
    method: string,
    path: string,
    o: RequestOpts,
    onResponse: (res: import('node:http').IncomingMessage) => void,
    onError: (e: Error) => void,
  ): void {
    const body = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
    // A plan sends dozens of requests under one run signal: each adds an abort listener.
    if (o.signal) setMaxListeners(0, o.signal);
    const req = (isHttps ? httpsRequest : httpRequest)(
      {
        protocol: base.protocol,
        hostname: base.hostname,
        port: base.port,
        method,
        path: `${basePath}${path}${qs(o.query)}`,
        agent,
        headers: {
          ...headers,
          accept: 'application/json',
          ...(body ? { 'content-type': o.contentType ?? 'application/json', 'content-length': body.length } : {}),
        },
        ...(o.signal ? { signal: o.signal } : {}),
      },
      onResponse,
    );
    req.on('error', onError);
    if (body) req.write(body);
    req.end();
  }

  function request<T>(method: string, path: string, o: RequestOpts = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      send(
        method,
        path,
        o,
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              parsed = undefined;
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolve(parsed as T);
            const st = (parsed ?? {}) as { message?: string; reason?: string; details?: { causes?: StatusCause[] } };
            const err = new ApiError(
              status,
              st.reason ?? String(status),
              st.message ?? `HTTP ${status}: ${text.slice(0, 200)}`,
              st.details?.causes ?? [],
            );
            // A refused request names the missing grant and points at `hivectl iam-policy`, whichever
            // step made it (callers handle 404/409 themselves; nobody expects a 403).
            reject(status === 403 ? applyError(err, `${method} ${path}`, k.server) : err);
          });
        },
        reject,
      );
    });
  }

  function stream(
    path: string,
    query: RequestOpts['query'],
    onEvent: (ev: unknown) => void,
    signal: AbortSignal,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) return resolve();
      send(
        'GET',
        path,
        { query, signal },
        (res) => {
          if ((res.statusCode ?? 0) >= 300) {
            res.resume();
            return reject(
              new ApiError(res.statusCode ?? 0, 'WatchFailed', `watch ${path}: HTTP ${res.statusCode}`, []),
            );
          }
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buf += chunk;
            let i = buf.indexOf('\n');
            while (i >= 0) {
              const line = buf.slice(0, i).trim();
              buf = buf.slice(i + 1);
              if (line) {
                try {
                  onEvent(JSON.parse(line));
                } catch {
                  /* a torn line cannot happen with \n framing; ignore garbage */
                }
              }
              i = buf.indexOf('\n');
            }
          });
          res.on('end', () => resolve());
          res.on('error', (e) => (signal.aborted ? resolve() : reject(e)));
          res.on('aborted', () => resolve());
        },
        (e) => (signal.aborted ? resolve() : reject(e)),
      );
    });
  }

  const discovery = new Map<string, Promise<Map<string, ResourceInfo>>>();
  function resourcesOf(apiVersion: string): Promise<Map<string, ResourceInfo>> {
    let p = discovery.get(apiVersion);
    if (!p) {
      const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      p = request<{ resources: { name: string; kind: string; namespaced: boolean }[] }>('GET', path).then((list) => {
        const m = new Map<string, ResourceInfo>();
        for (const r of list.resources) {
          if (!r.name.includes('/')) m.set(r.kind, { plural: r.name, namespaced: r.namespaced });
        }
        return m;
      });
      p.catch(() => discovery.delete(apiVersion));
      discovery.set(apiVersion, p);
    }
    return p;
  }

  let groups: Promise<Map<string, string>> | undefined;
  async function servedGroup(group: string, plural: string): Promise<string | undefined> {
    groups ??= request<{
      groups: { name: string; preferredVersion?: { groupVersion: string }; versions: { groupVersion: string }[] }[];
    }>('GET', '/apis').then(
      (g) =>
        new Map(g.groups.map((x) => [x.name, x.preferredVersion?.groupVersion ?? x.versions[0]?.groupVersion ?? ''])),
    );
    const gv = (await groups).get(group);
    if (!gv) return undefined;
    const res = await resourcesOf(gv).catch(() => undefined);
    if (!res) return undefined;
    for (const r of res.values()) if (r.plural === plural) return gv;
    return undefined;
  }

  async function resource(apiVersion: string, kind: string): Promise<ResourceInfo> {
    let res: Map<string, ResourceInfo>;
    try {
      res = await resourcesOf(apiVersion);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        throw new StepError(`the cluster does not serve ${apiVersion} (needed for ${kind})`, {
          hint: 'install the CRD or operator that provides it, or remove the object from the templates',
        });
      }
      throw e;
    }
    const r = res.get(kind);
    if (!r) throw new StepError(`the cluster serves ${apiVersion} but not kind ${kind}`);
    return r;
  }

  async function pathFor(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name?: string,
  ): Promise<string> {
    const r = await resource(apiVersion, kind);
    const prefix = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const ns = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
    return `${prefix}${ns}/${r.plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
  }

  return {
    server: k.server,
    request,
    stream,
    resource,
    servedGroup,
    pathFor,
    // The agent is shared by every client of this cluster in the process: nothing to close per client.
    close: () => {},
  };
}

export const FIELD_MANAGER = 'hivectl';

/** Server-side apply (or its dry-run). `force` takes over fields other managers own. */
export async function serverSideApply(
  raw: RawKube,
  obj: KObject,
  o: { dryRun?: boolean; force?: boolean; signal?: AbortSignal | undefined } = {},
): Promise<KObject> {
  const path = await raw.pathFor(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name);
  return raw.request<KObject>('PATCH', path, {
    query: { fieldManager: FIELD_MANAGER, force: o.force ? true : undefined, dryRun: o.dryRun ? 'All' : undefined },
    body: obj,
    contentType: 'application/apply-patch+yaml',
    signal: o.signal,
  });
}

export async function getObject(
  raw: RawKube,
  ref: Pick<KObject, 'apiVersion' | 'kind' | 'metadata'>,
): Promise<KObject | undefined> {
  const path = await raw.pathFor(ref.apiVersion, ref.kind, ref.metadata.namespace, ref.metadata.name);
  try {
    return await raw.request<KObject>('GET', path);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return undefined;
    throw e;
  }
}

export async function listObjects(
  raw: RawKube,
  apiVersion: string,
  kind: string,
  o: { namespace?: string; labelSelector?: string } = {},
): Promise<KObject[]> {
  const path = await raw.pathFor(apiVersion, kind, o.namespace);
  const list = await raw.request<{ items: KObject[] }>('GET', path, { query: { labelSelector: o.labelSelector } });
  // List items carry no apiVersion/kind.
  return list.items.map((i) => ({ ...i, apiVersion, kind }));
}

/** Delete; a missing object counts as deleted. Background propagation: owned ReplicaSets/Pods follow. */
export async function deleteObject(
  raw: RawKube,
  ref: Pick<KObject, 'apiVersion' | 'kind' | 'metadata'>,
): Promise<boolean> {
  const path = await raw.pathFor(ref.apiVersion, ref.kind, ref.metadata.namespace, ref.metadata.name);
  try {
    await raw.request('DELETE', path, {
      body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' },
    });
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return false;
    throw e;
  }
}

export async function createObject(raw: RawKube, obj: KObject): Promise<KObject> {
  const path = await raw.pathFor(obj.apiVersion, obj.kind, obj.metadata.namespace);
  return raw.request<KObject>('POST', path, { body: obj, query: { fieldManager: FIELD_MANAGER } });
}

export async function replaceObject(raw: RawKube, obj: KObject): Promise<KObject> {
  const path = await raw.pathFor(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name);
  return raw.request<KObject>('PUT', path, { body: obj, query: { fieldManager: FIELD_MANAGER } });
}

/** Merge-patch (for annotations, HPA bounds): ownership goes to `manager`. */
export async function mergePatch(
  raw: RawKube,
  ref: Pick<KObject, 'apiVersion' | 'kind' | 'metadata'>,
  patch: unknown,
  manager = FIELD_MANAGER,
  subresource?: string,
): Promise<KObject> {
  const path = await raw.pathFor(ref.apiVersion, ref.kind, ref.metadata.namespace, ref.metadata.name);
  return raw.request<KObject>('PATCH', subresource ? `${path}/${subresource}` : path, {
    body: patch,
    contentType: 'application/merge-patch+json',
    query: { fieldManager: manager },
  });
}

/** Any failure of this client -> an error the user can act on. */
export function applyError(e: unknown, what: string, server: string): StepError {
  // A refusal that request() named by method and path: the caller's words say more.
  if (e instanceof StepError && e.cause instanceof ApiError && e.cause.status === 403)
    return applyError(e.cause, what, server);
  if (e instanceof StepError) return e;
  if (e instanceof ApiError) {
    if (e.status === 401)
      return new StepError(`${what}: the cluster rejected the credentials (401)`, {
        hint: 'refresh the kubeconfig credentials or pick another --context',
        cause: e,
      });
    if (e.status === 403)
      return new StepError(`${what}: permission denied: ${e.message}`, {
        hint: 'grant the missing RBAC verb (see `hivectl iam-policy`) or run with an identity that has it',
        cause: e,
      });
    return new StepError(`${what}: ${e.message}`, { cause: e });
  }
  const code = (e as { code?: string })?.code;
  if (code && /^E[A-Z]+$/.test(code)) {
    return new StepError(`${what}: cannot reach the Kubernetes API server at ${server} (${code})`, {
      hint: 'check that the cluster is up and --context/--kubeconfig point at it',
      cause: e,
    });
  }
  return new StepError(`${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

/** Optional CRDs the cluster serves, by discovery: the apiVersion to use for each, or absent. */
export async function discoverCapabilities(raw: RawKube): Promise<{
  externalSecrets?: string;
  certManager?: string;
  serviceMonitor?: string;
  keda?: string;
}> {
  const [es, cm, sm, keda] = await Promise.all([
    raw.servedGroup('external-secrets.io', 'externalsecrets'),
    raw.servedGroup('cert-manager.io', 'certificates'),
    raw.servedGroup('monitoring.coreos.com', 'servicemonitors'),
    raw.servedGroup('keda.sh', 'scaledobjects'),
  ]);
  return {
    ...(es ? { externalSecrets: es } : {}),
    ...(cm ? { certManager: cm } : {}),
    ...(sm ? { serviceMonitor: sm } : {}),
    ...(keda ? { keda } : {}),
  };
}
