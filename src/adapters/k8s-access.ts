// Read-only probes of a cluster for `hivectl doctor`: the kubeconfig in use, the server's version
// (/version) and what the current identity may do (SelfSubjectAccessReview). Every call has a short
// deadline so that an unreachable cluster fails fast instead of hanging.
// Which verbs to review comes from the one permission table, src/iam/permissions.ts (the same one
// `hivectl iam-policy` turns into RBAC). @kubernetes/client-node is imported inside functions only.
import { ALL_PERMISSIONS, type K8sRule, PERMISSIONS } from '../iam/permissions.js';
import type { K8s } from './k8s.js';

/**
 * The Kubernetes rules of these commands, each tagged with its command. Named commands are looked up in
 * the same table `hivectl iam-policy --commands` accepts (so `drill` works in both); the default, every
 * command, leaves out `drill`, whose rules are only the union of others and would just repeat them.
 */
export function k8sRulesFor(commands?: readonly string[]): Array<K8sRule & { command: string }> {
  const wanted = commands ? new Set(commands) : undefined;
  const unknown = commands?.filter((c) => !ALL_PERMISSIONS.some((p) => p.command === c)) ?? [];
  if (unknown.length > 0) {
    throw new Error(
      `unknown command(s) ${unknown.join(', ')}; known: ${ALL_PERMISSIONS.map((p) => p.command).join(', ')}`,
    );
  }
  return (wanted ? ALL_PERMISSIONS.filter((p) => wanted.has(p.command)) : PERMISSIONS).flatMap((p) =>
    p.k8s.map((r) => ({ ...r, command: p.command })),
  );
}

export interface AccessReviewItem {
  namespace?: string;
  group: string;
  resource: string;
  subresource?: string;
  verb: string;
}

export interface AccessReviewResult extends AccessReviewItem {
  allowed: boolean;
  reason?: string;
}

/** Every (namespace, resource, verb) the rules expand to for these namespaces, once each. */
export function expandPermissions(
  namespaces: { state: string; platform: readonly string[] },
  rules: ReadonlyArray<K8sRule & { command?: string }> = k8sRulesFor(),
): Array<AccessReviewItem & { commands: string[] }> {
  const out = new Map<string, AccessReviewItem & { commands: string[] }>();
  for (const r of rules) {
    const nss: Array<string | undefined> =
      r.scope === 'cluster' ? [undefined] : r.scope === 'state' ? [namespaces.state] : [...namespaces.platform];
    for (const group of r.apiGroups) {
      for (const res of r.resources) {
        const [resource, subresource] = res.split('/') as [string, string | undefined];
        for (const ns of nss) {
          for (const verb of r.verbs) {
            const key = `${ns ?? ''}|${group}|${res}|${verb}`;
            const prev = out.get(key);
            if (prev) {
              if (r.command && !prev.commands.includes(r.command)) prev.commands.push(r.command);
              continue;
            }
            out.set(key, {
              ...(ns ? { namespace: ns } : {}),
              group,
              resource,
              ...(subresource ? { subresource } : {}),
              verb,
              commands: r.command ? [r.command] : [],
            });
          }
        }
      }
    }
  }
  return [...out.values()];
}

export interface KubeconfigInfo {
  /** File(s) the config came from, or `in-cluster` / `(default)`. */
  source: string;
  context: string;
  cluster: string;
  server: string;
  user: string;
  namespace?: string;
}

/** Deadline for one request: aborts the fetch underneath, so no socket outlives the check. */
interface AgentLike {
  options?: Record<string, unknown>;
  destroy(): void;
}
interface RequestCtx {
  setSignal(s: AbortSignal): void;
  getAgent(): unknown;
  setAgent(a: unknown): void;
}

/**
 * Deadline for a batch of requests: aborts the fetches underneath, so no socket outlives the check.
 * With `shareAgent`, every request reuses one keep-alive agent (the client makes a new agent, and so
 * a new TLS handshake, per request); call close() when done.
 */
async function deadline(
  timeoutMs: number,
  shareAgent = false,
): Promise<{
  signal: AbortSignal;
  options: { middleware: unknown[]; middlewareMergeStrategy: 'append' };
  close(): void;
}> {
  const signal = AbortSignal.timeout(timeoutMs);
  const https = shareAgent ? await import('node:https') : undefined;
  const http = shareAgent ? await import('node:http') : undefined;
  let shared: AgentLike | undefined;
  // The object-parameter API hands middleware to the Observable layer (which calls .toPromise() on
  // what pre/post return) while the promise API wraps it with from(): a promise that also has
  // toPromise() suits both.
  const both = <T>(v: T) => Object.assign(Promise.resolve(v), { toPromise: () => Promise.resolve(v) });
  const middleware = [
    {
      pre: (ctx: RequestCtx) => {
        ctx.setSignal(signal);
        if (https && http) {
          const own = ctx.getAgent() as AgentLike | undefined;
          if (!shared && own) {
            const opts = { ...(own.options ?? {}), keepAlive: true, maxSockets: 16 };
            shared = own instanceof https.Agent ? new https.Agent(opts) : new http.Agent(opts);
          }
          if (shared) ctx.setAgent(shared);
          if (own && own !== shared) own.destroy();
        }
        return both(ctx);
      },
      post: (rc: unknown) => both(rc),
    },
  ];
  return {
    signal,
    options: { middleware, middlewareMergeStrategy: 'append' },
    close: () => shared?.destroy(),
  };
}

function timeoutError(e: unknown, what: string, server: string, timeoutMs: number): Error {
  const name = (e as { name?: string })?.name;
  if (name === 'AbortError' || name === 'TimeoutError' || /aborted/i.test(String((e as Error)?.message))) {
    const err = new Error(`${what}: no answer from ${server} within ${Math.round(timeoutMs / 1000)}s`);
    (err as { code?: string }).code = 'ETIMEDOUT';
    return err;
  }
  return e as Error;
}

/** Load the kubeconfig (throws a UsageError saying what to fix) and describe what it points at. */
export async function describeKubeconfig(
  opts: { kubeconfig?: string | undefined; context?: string | undefined },
  env: Record<string, string | undefined>,
): Promise<{ k8s: K8s; info: KubeconfigInfo }> {
  const { connectK8s } = await import('./k8s.js');
  const { existsSync } = await import('node:fs');
  const { homedir } = await import('node:os');
  // With nothing to load, the client quietly falls back to http://localhost:8080: say so instead.
  if (
    !opts.kubeconfig &&
    !env.KUBECONFIG &&
    !env.KUBERNETES_SERVICE_HOST &&
    !existsSync(`${env.HOME ?? homedir()}/.kube/config`)
  ) {
    const { UsageError } = await import('../core/errors.js');
    throw new UsageError('no kubeconfig found (no --kubeconfig, KUBECONFIG or ~/.kube/config, not in a pod)', {
      hint: 'pass --kubeconfig FILE, set KUBECONFIG, or run `eval "$(hivectl sandbox env)"` for the local sandbox',
    });
  }
  const k = await connectK8s(opts);
  const ctx = k.kc.getContextObject(k.contextName);
  const source = opts.kubeconfig
    ? opts.kubeconfig
    : env.KUBECONFIG
      ? `KUBECONFIG=${env.KUBECONFIG}`
      : env.KUBERNETES_SERVICE_HOST
        ? 'in-cluster'
        : '~/.kube/config';
  return {
    k8s: k,
    info: {
      source,
      context: k.contextName,
      cluster: ctx?.cluster ?? '',
      server: k.server,
      user: ctx?.user ?? '',
      ...(ctx?.namespace ? { namespace: ctx.namespace } : {}),
    },
  };
}

/** The API server's version (GET /version), within timeoutMs. */
export async function serverVersion(k: K8s, timeoutMs = 4000): Promise<{ gitVersion: string; platform: string }> {
  const m = await import('@kubernetes/client-node');
  const api = k.kc.makeApiClient(m.VersionApi);
  const d = await deadline(timeoutMs);
  try {
    // biome-ignore lint/suspicious/noExplicitAny: the generated options type is not exported by name
    const v = await api.getCode(d.options as any);
    return { gitVersion: v.gitVersion, platform: v.platform };
  } catch (e) {
    throw timeoutError(e, 'GET /version', k.server, timeoutMs);
  }
}

/**
 * Ask the API server, with SelfSubjectAccessReviews, whether the current identity may do each item.
 * Runs a few at a time; the whole batch shares one deadline.
 */
export async function reviewAccess<T extends AccessReviewItem>(
  k: K8s,
  items: readonly T[],
  timeoutMs = 8000,
  concurrency = 16,
): Promise<Array<T & { allowed: boolean; reason?: string }>> {
  const m = await import('@kubernetes/client-node');
  const api = k.kc.makeApiClient(m.AuthorizationV1Api);
  const d = await deadline(timeoutMs, true);
  const results: Array<T & { allowed: boolean; reason?: string }> = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      const it = items[i] as T;
      try {
        const r = await api.createSelfSubjectAccessReview(
          {
            body: {
              apiVersion: 'authorization.k8s.io/v1',
              kind: 'SelfSubjectAccessReview',
              spec: {
                resourceAttributes: {
                  verb: it.verb,
                  group: it.group,
                  resource: it.resource,
                  ...(it.subresource ? { subresource: it.subresource } : {}),
                  ...(it.namespace ? { namespace: it.namespace } : {}),
                },
              },
            },
          },
          // biome-ignore lint/suspicious/noExplicitAny: see serverVersion
          d.options as any,
        );
        results[i] = {
          ...it,
          allowed: r.status?.allowed === true,
          ...(r.status?.reason ? { reason: r.status.reason } : {}),
        };
      } catch (e) {
        throw timeoutError(e, 'SelfSubjectAccessReview', k.server, timeoutMs);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  } finally {
    d.close();
  }
  return results;
}
