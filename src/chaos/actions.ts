// Chaos actions: each one plans its targets (read-only), records its undo in the ledger, then
// injects the fault. Targets must have opted in (label chaos.hive.dev/enabled=true on the pod, its
// namespace or the node) unless includeUnlabelled; pod-kill respects the blast-radius cap.
import type { V1Pod } from '@kubernetes/client-node';
import type { K8s } from '../adapters/k8s.js';
import {
  applyObject,
  deletePod,
  evictPod,
  listNodes,
  listPods,
  listPodsOnNode,
  mergePatch,
  namespaceLabels,
  readObject,
  setNodeReady,
} from '../adapters/k8s-chaos.js';
import { StepError } from '../core/errors.js';
import {
  ANN_EXPIRES,
  ANN_RESTORE,
  dnsSafe,
  expiryAnnotations,
  type Fault,
  faultLabels,
  KWOK_NODE_ANNOTATION,
  LABEL_OPT_IN,
  LABEL_RUN,
  LABEL_STATE_NS,
  recordFault,
} from './faults.js';
import { type Action, resolveCount } from './schema.js';

export interface ActionEnv {
  k: K8s;
  /** hivectl's namespace: where the ledger lives. */
  stateNamespace: string;
  runId: string;
  expiresAt: Date;
  includeUnlabelled: boolean;
  maxUnavailable: number | string;
  signal: AbortSignal;
  /** Force a database failover (db-failover action); given by the step, which has the AWS target. */
  dbFailover?: (a: Extract<Action, { type: 'db-failover' }>) => Promise<string>;
  /** Runs a command action; resolves to its exit code. */
  runCommand?: (argv: string[]) => Promise<number>;
}

export const ONE_WAY_NOTE =
  'one-way: a database failover is not rolled back (the new writer stays; fail back with another failover if wanted)';

/**
 * db-failover: FailoverDBCluster for an Aurora cluster, else reboot-with-failover of a (Multi-AZ)
 * instance, each waited on. The action's ids win over hivectl.yaml's; a cluster wins over an
 * instance only when the action names neither. Returns the report's line.
 */
export async function forceDbFailover(
  a: Extract<Action, { type: 'db-failover' }>,
  o: {
    aws: { region?: string | undefined; endpointUrl?: string | undefined; profile?: string | undefined };
    defaults: { clusterId?: string | undefined; instanceId?: string | undefined };
    signal: AbortSignal;
    timeoutMs: number;
  },
): Promise<string> {
  const region = a.region ?? o.aws.region;
  if (!region) throw new StepError('db-failover: no AWS region', { hint: 'pass --region or set aws.region' });
  const clusterId = a.clusterId ?? (a.instanceId ? undefined : o.defaults.clusterId);
  const instanceId = a.instanceId ?? o.defaults.instanceId;
  const rf = await import('../adapters/rds-failover.js');
  if (clusterId) {
    const c = await rf.failoverCluster(o.aws, region, clusterId, o.signal, o.timeoutMs);
    return `FailoverDBCluster ${clusterId} (${region}): writer is now ${c.writer ?? 'unknown'}`;
  }
  if (!instanceId)
    throw new StepError('db-failover: no database to fail over', {
      hint: 'set database.clusterId or database.instanceId in hivectl.yaml, or clusterId/instanceId in the action',
    });
  const r = await rf.rebootWithFailover(o.aws, region, instanceId, o.signal, o.timeoutMs);
  return r.forced
    ? `RebootDBInstance ${instanceId} --force-failover (${region}): available again`
    : `RebootDBInstance ${instanceId} (${region}): not Multi-AZ, so a plain reboot; available again`;
}

export interface ActionOutcome {
  type: Action['type'];
  startedAt: string;
  endedAt: string;
  targets: string[];
  detail: string[];
  faults: Fault[];
}

function podReady(p: V1Pod): boolean {
  return (
    (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True') &&
    !p.metadata?.deletionTimestamp
  );
}

async function optedInPods(
  env: ActionEnv,
  namespace: string,
  selector: string,
): Promise<{ all: V1Pod[]; eligible: V1Pod[] }> {
  const all = await listPods(env.k, namespace, selector);
  if (env.includeUnlabelled) return { all, eligible: all };
  const nsIn = (await namespaceLabels(env.k, namespace))[LABEL_OPT_IN] === 'true';
  return { all, eligible: all.filter((p) => nsIn || p.metadata?.labels?.[LABEL_OPT_IN] === 'true') };
}

/** Parse `a=b,c=d` into matchLabels (the only selector form NetworkPolicy faults accept). */
export function matchLabels(selector: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of selector
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([A-Za-z0-9./_-]+)\s*==?\s*([A-Za-z0-9._-]*)$/.exec(part);
    if (!m) throw new StepError(`selector "${selector}": only key=value terms are supported for network faults`);
    out[m[1] as string] = m[2] as string;
  }
  return out;
}

/** The NetworkPolicy a network-partition or dependency-outage action creates. Pure. */
export function faultPolicy(
  a: Extract<Action, { type: 'network-partition' | 'dependency-outage' }>,
  runId: string,
  expiresAt: Date,
  stateNamespace?: string,
): Record<string, unknown> & { metadata: { name: string; namespace: string } } {
  const name =
    `hivectl-chaos-${a.type === 'network-partition' ? 'partition' : `deny-${a.dependency}`}-${dnsSafe(runId)}`
      .slice(0, 63)
      .replace(/-+$/, '');
  const metadata = {
    name,
    namespace: a.namespace,
    labels: faultLabels(runId, stateNamespace),
    annotations: { ...expiryAnnotations(expiresAt), 'chaos.hive.dev/action': a.type },
  };
  if (a.type === 'network-partition') {
    const podSelector = { matchLabels: matchLabels(a.from) };
    // Without `to`: isolate the pods entirely. With `to`: allow every peer except the other side.
    const peers = a.to
      ? [
          {
            podSelector: {
              matchExpressions: Object.entries(matchLabels(a.to)).map(([key, v]) => ({
                key,
                operator: 'NotIn',
                values: [v],
              })),
            },
          },
        ]
      : [];
    return {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata,
      spec: {
        podSelector,
        policyTypes: ['Ingress', 'Egress'],
        ingress: peers.length ? [{ from: peers }] : [],
        egress: peers.length ? [{ to: peers }] : [],
      },
    };
  }
  const port = a.port ?? (a.dependency === 'postgres' ? 5432 : 6379);
  // NetworkPolicies only allow: deny one TCP port by allowing every other port range.
  const ranges: Array<Record<string, unknown>> = [];
  if (port > 1) ranges.push({ protocol: 'TCP', port: 1, endPort: port - 1 });
  if (port < 65535) ranges.push({ protocol: 'TCP', port: port + 1, endPort: 65535 });
  ranges.push({ protocol: 'UDP', port: 1, endPort: 65535 });
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata,
    spec: {
      podSelector: a.selector ? { matchLabels: matchLabels(a.selector) } : {},
      policyTypes: ['Egress'],
      egress: [{ ports: ranges }],
    },
  };
}

/** Read-only: what the action would hit. */
export async function planAction(env: ActionEnv, a: Action): Promise<{ targets: string[]; note?: string }> {
  switch (a.type) {
    case 'pod-kill': {
      const { all, eligible } = await optedInPods(env, a.namespace, a.selector);
      const cap = resolveCount(env.maxUnavailable, all.length);
      const down = all.filter((p) => !podReady(p)).length;
      const n = Math.max(0, Math.min(resolveCount(a.count, eligible.length), cap - down));
      const pick = eligible.filter(podReady).slice(0, n);
      const note =
        eligible.length === 0
          ? `no pod matching ${a.selector} in ${a.namespace} opted in (${LABEL_OPT_IN}=true); use --include-unlabelled`
          : n < resolveCount(a.count, eligible.length)
            ? `capped by max-unavailable ${env.maxUnavailable} (${down} already unavailable of ${all.length})`
            : undefined;
      return { targets: pick.map((p) => `${a.namespace}/${p.metadata?.name}`), ...(note ? { note } : {}) };
    }
    case 'node-failure': {
      const nodes = a.node
        ? (await listNodes(env.k)).filter((n) => n.metadata?.name === a.node)
        : await listNodes(env.k, a.selector);
      const eligible = nodes.filter(
        (n) =>
          (env.includeUnlabelled || n.metadata?.labels?.[LABEL_OPT_IN] === 'true') &&
          (a.mode !== 'kwok' ||
            n.metadata?.annotations?.[KWOK_NODE_ANNOTATION] !== undefined ||
            n.metadata?.labels?.[LABEL_RUN] !== undefined),
      );
      const pick = eligible.slice(0, 1).map((n) => n.metadata?.name ?? '');
      return {
        targets: pick,
        ...(pick.length === 0
          ? { note: `no node ${a.node ?? a.selector ?? ''} opted in (${LABEL_OPT_IN}=true); use --include-unlabelled` }
          : {}),
      };
    }
    case 'network-partition':
    case 'dependency-outage': {
      const p = faultPolicy(a, env.runId, env.expiresAt, env.stateNamespace);
      return { targets: [`NetworkPolicy ${p.metadata.namespace}/${p.metadata.name}`] };
    }
    case 'db-failover':
      return {
        targets: [
          a.clusterId
            ? `RDS cluster ${a.clusterId}`
            : a.instanceId
              ? `RDS instance ${a.instanceId}`
              : 'RDS database of hivectl.yaml (database.clusterId, else database.instanceId)',
        ],
      };
    case 'wait':
      return { targets: [] };
    case 'command':
      return { targets: [a.command.join(' ')] };
  }
}

/** Record the undo, then inject the fault. */
export async function applyAction(env: ActionEnv, a: Action, targets: string[]): Promise<ActionOutcome> {
  const startedAt = new Date().toISOString();
  const detail: string[] = [];
  const faults: Fault[] = [];
  const record = async (f: Fault) => {
    await recordFault(env.k, env.stateNamespace, env.runId, f);
    faults.push(f);
  };
  switch (a.type) {
    case 'pod-kill': {
      for (const t of targets) {
        const [ns, name] = t.split('/') as [string, string];
        // A killed pod is replaced by its controller: nothing to undo.
        detail.push(`${(await deletePod(env.k, ns, name, 0)) ? 'killed' : 'already gone'} pod ${t}`);
      }
      break;
    }
    case 'node-failure': {
      for (const node of targets) {
        const n = await readObject(env.k, { apiVersion: 'v1', kind: 'Node', name: node });
        if (!n) continue;
        const md = (n.metadata ?? {}) as { annotations?: Record<string, string>; labels?: Record<string, string> };
        if (md.labels?.[LABEL_RUN]) {
          detail.push(`node ${node} already failed by run ${md.labels[LABEL_RUN]}`);
          continue;
        }
        const wasUnschedulable = Boolean((n.spec as { unschedulable?: boolean } | undefined)?.unschedulable);
        const restoreAnnotations: Record<string, string> = {};
        if (a.mode === 'kwok')
          restoreAnnotations[KWOK_NODE_ANNOTATION] = md.annotations?.[KWOK_NODE_ANNOTATION] ?? 'fake';
        const uncordon = a.mode === 'cordon' && !wasUnschedulable;
        await record({ kind: 'node', node, restoreAnnotations, uncordon });
        await mergePatch(
          env.k,
          { apiVersion: 'v1', kind: 'Node', name: node },
          {
            metadata: {
              labels: { [LABEL_RUN]: dnsSafe(env.runId), [LABEL_STATE_NS]: env.stateNamespace },
              annotations: {
                [ANN_RESTORE]: JSON.stringify({ annotations: restoreAnnotations, uncordon }),
                [ANN_EXPIRES]: env.expiresAt.toISOString(),
                ...(a.mode === 'kwok' ? { [KWOK_NODE_ANNOTATION]: null } : {}),
              },
            },
            ...(a.mode === 'cordon' ? { spec: { unschedulable: true } } : {}),
          },
        );
        if (a.mode === 'kwok') {
          // Unmanaged, KWOK stops writing the node's status (but keeps renewing its Lease), so report
          // NotReady as a failing kubelet would; the node-lifecycle controller taints it and marks its
          // pods NotReady. Putting the annotation back lets KWOK report Ready again.
          await setNodeReady(env.k, node, false, 'HivectlChaos', `node failure injected by hivectl run ${env.runId}`);
          detail.push(`stopped KWOK managing node ${node} and reported it NotReady`);
        } else {
          detail.push(`cordoned node ${node}`);
          for (const p of await listPodsOnNode(env.k, node)) {
            const ns = p.metadata?.namespace ?? '';
            if (ns === 'kube-system' || p.metadata?.ownerReferences?.some((o) => o.kind === 'DaemonSet')) continue;
            const r = await evictPod(env.k, ns, p.metadata?.name ?? '');
            detail.push(`${r} pod ${ns}/${p.metadata?.name}`);
          }
        }
      }
      break;
    }
    case 'network-partition':
    case 'dependency-outage': {
      const p = faultPolicy(a, env.runId, env.expiresAt, env.stateNamespace);
      await record({
        kind: 'object',
        ref: {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          name: p.metadata.name,
          namespace: p.metadata.namespace,
        },
      });
      await applyObject(env.k, p as never);
      detail.push(`created NetworkPolicy ${p.metadata.namespace}/${p.metadata.name}`);
      break;
    }
    case 'db-failover': {
      if (!env.dbFailover)
        throw new StepError('db-failover needs an AWS target (aws.region and database.instanceId or clusterId)');
      detail.push(await env.dbFailover(a));
      // Nothing is recorded in the ledger: there is no undo, only a second failover, which would
      // be a new experiment. Say so, so the report's "nothing to undo" is not read as "restored".
      detail.push(ONE_WAY_NOTE);
      break;
    }
    case 'wait':
      break;
    case 'command': {
      if (!env.runCommand) throw new StepError('command actions need a command runner');
      const code = await env.runCommand(a.command);
      if (code !== 0) throw new StepError(`action command ${a.command.join(' ')} exited ${code}`);
      detail.push(`ran ${a.command.join(' ')}`);
      break;
    }
  }
  return { type: a.type, startedAt, endedAt: new Date().toISOString(), targets, detail, faults };
}
