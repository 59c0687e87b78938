// Kubernetes client core: connection from kubeconfig/context (or in-cluster), typed API clients,
// and translation of API/transport failures into errors a user can act on.
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext } from 'node:tls';
import * as k8s from '@kubernetes/client-node';
import { ExitCode, HivectlError, StepError } from '../core/errors.js';

export interface K8sConnectOptions {
  kubeconfig?: string | undefined;
  context?: string | undefined;
}

export interface K8s {
  kc: k8s.KubeConfig;
  /** The context actually in use and its cluster server URL (printed before any change). */
  contextName: string;
  server: string;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  coordination: k8s.CoordinationV1Api;
  objects: k8s.KubernetesObjectApi;
}

export async function connectK8s(opts: K8sConnectOptions): Promise<K8s> {
  const kc = new k8s.KubeConfig();
  try {
    if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
    else kc.loadFromDefault();
  } catch (e) {
    throw new HivectlError(
      ExitCode.usage,
      `cannot read kubeconfig ${opts.kubeconfig ?? '(default)'}: ${(e as Error).message}`,
      {
        hint: 'pass --kubeconfig FILE or set KUBECONFIG to a readable kubeconfig',
      },
    );
  }
  if (opts.context) {
    if (!kc.getContextObject(opts.context)) {
      throw new HivectlError(ExitCode.usage, `kube context "${opts.context}" is not in the kubeconfig`, {
        hint: `pick one of: ${
          kc
            .getContexts()
            .map((c) => c.name)
            .join(', ') || '(none)'
        }`,
      });
    }
    kc.setCurrentContext(opts.context);
  }
  inlineCredentialFiles(kc);
  shareAgents(kc);
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new HivectlError(ExitCode.usage, 'the kubeconfig has no current cluster', {
      hint: 'pass --kubeconfig FILE and --context NAME, or run `eval "$(hivectl sandbox env)"` for the local sandbox',
    });
  }
  return {
    kc,
    contextName: kc.getCurrentContext(),
    server: cluster.server,
    core: kc.makeApiClient(k8s.CoreV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    coordination: kc.makeApiClient(k8s.CoordinationV1Api),
    objects: k8s.KubernetesObjectApi.makeApiClient(kc),
  };
}

/**
 * The client re-reads certificate-authority/client-certificate/client-key files on every request;
 * read them once. Unreadable files are left as they are so the client reports them as before.
 */
function inlineCredentialFiles(kc: k8s.KubeConfig): void {
  const read = (f: string | undefined): string | undefined => {
    try {
      return f ? readFileSync(f).toString('base64') : undefined;
    } catch {
      return undefined;
    }
  };
  kc.clusters = kc.clusters.map((c) => {
    const caData = c.caData ?? read(c.caFile);
    return caData && !c.caData ? { ...c, caData, caFile: undefined } : c;
  }) as k8s.Cluster[];
  kc.users = kc.users.map((u) => {
    const certData = u.certData ?? read(u.certFile);
    const keyData = u.keyData ?? read(u.keyFile);
    return {
      ...u,
      ...(certData && !u.certData ? { certData, certFile: undefined } : {}),
      ...(keyData && !u.keyData ? { keyData, keyFile: undefined } : {}),
    };
  }) as k8s.User[];
}

// One keep-alive agent per cluster + credentials, shared by every KubeConfig in the process.
const agents = new Map<string, unknown>();

/**
 * The client builds a new https.Agent for every request (a fresh TLS context, a new connection and
 * handshake each time, no keep-alive): most of hivectl's own CPU in a drill. Reuse one keep-alive
 * agent per cluster and TLS options instead, so calls share connections and TLS sessions.
 */
function shareAgents(kc: k8s.KubeConfig): void {
  type MakeAgent = (cluster: k8s.Cluster | null, o: Record<string, unknown>) => unknown;
  const self = kc as unknown as { createAgent: MakeAgent };
  const make = self.createAgent.bind(kc);
  self.createAgent = (cluster, o) => {
    const opts = Object.entries(o).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('base64') : v]);
    const key = JSON.stringify([cluster?.server, cluster?.proxyUrl, cluster?.skipTLSVerify, opts]);
    let a = agents.get(key);
    if (!a) {
      a = make(cluster, { ...o, keepAlive: true, secureContext: secureContextFor(o) });
      agents.set(key, a);
    }
    return a;
  };
}

/** HTTP status of a Kubernetes API error, or undefined for a transport failure. */
export function k8sStatus(e: unknown): number | undefined {
  return e instanceof k8s.ApiException ? e.code : undefined;
}

/** The apiserver's own message (Status.message) from an ApiException. */
export function k8sMessage(e: unknown): string {
  if (e instanceof k8s.ApiException) {
    const body = e.body as unknown;
    try {
      const parsed = typeof body === 'string' ? JSON.parse(body) : body;
      if (parsed && typeof parsed === 'object' && 'message' in parsed)
        return String((parsed as { message: unknown }).message);
    } catch {
      /* not JSON: fall through */
    }
    return `HTTP ${e.code}`;
  }
  return e instanceof Error ? e.message : String(e);
}

/** Turn any Kubernetes client failure into a HivectlError whose message says what to do. */
export function k8sError(e: unknown, what: string, server?: string): HivectlError {
  if (e instanceof HivectlError) return e;
  const status = k8sStatus(e);
  if (status === 401) {
    return new StepError(`${what}: the cluster rejected the credentials (401)`, {
      hint: 'refresh the kubeconfig credentials or pick another --context',
      cause: e,
    });
  }
  if (status === 403) {
    return new StepError(`${what}: permission denied: ${k8sMessage(e)}`, {
      hint: 'grant the missing RBAC verb (see `hivectl iam-policy`) or run with an identity that has it',
      cause: e,
    });
  }
  if (status !== undefined) return new StepError(`${what}: ${k8sMessage(e)}`, { cause: e });
  const code =
    (e as { code?: string; cause?: { code?: string } })?.code ?? (e as { cause?: { code?: string } })?.cause?.code;
  if (
    code === 'ECONNREFUSED' ||
    code === 'ENOTFOUND' ||
    code === 'EHOSTUNREACH' ||
    code === 'ETIMEDOUT' ||
    code === 'ECONNRESET'
  ) {
    return new StepError(`${what}: cannot reach the Kubernetes API server${server ? ` at ${server}` : ''} (${code})`, {
      hint: 'check that the cluster is up and --context/--kubeconfig point at it (`hivectl doctor`)',
      cause: e,
    });
  }
  return new StepError(`${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

const contexts = new Map<string, SecureContext>();

/**
 * Without an explicit secureContext every new TLS connection re-parses the CA, certificate and key
 * (~5 ms CPU each; every watch is a new connection). Build it once per set of credentials.
 */
export function secureContextFor(o: { ca?: unknown; cert?: unknown; key?: unknown }): SecureContext {
  const key = JSON.stringify([o.ca, o.cert, o.key].map((v) => (Buffer.isBuffer(v) ? v.toString('base64') : String(v))));
  let c = contexts.get(key);
  if (!c) {
    c = createSecureContext({
      ca: o.ca as string | Buffer | undefined,
      cert: o.cert as string | Buffer | undefined,
      key: o.key as string | Buffer | undefined,
    });
    contexts.set(key, c);
  }
  return c;
}
