// Fault bookkeeping: every fault hivectl injects is recorded in a ledger (a ConfigMap in hivectl's
// namespace, one per run) BEFORE it is applied, and the fault itself carries the run's label and an
// expiry annotation. So a run killed at any point (Ctrl-C, SIGKILL, a crash) can be cleaned up by
// `hivectl chaos cleanup` from the ledger, and from the labels even if the ledger is gone.

import type { K8s } from '../adapters/k8s.js';
import {
  applyObject,
  deleteObject,
  listNodes,
  listObjects,
  mergePatch,
  type ObjectRef,
  readObject,
} from '../adapters/k8s-chaos.js';

export const LABEL_RUN = 'chaos.hive.dev/experiment';
export const LABEL_LEDGER = 'chaos.hive.dev/ledger';
/** The hivectl state namespace whose ledger owns a fault: a sweep by label never touches another's. */
export const LABEL_STATE_NS = 'chaos.hive.dev/state-namespace';
export const LABEL_OPT_IN = 'chaos.hive.dev/enabled';
export const ANN_EXPIRES = 'chaos.hive.dev/expires-at';
/** On a failed node: JSON of what to put back (annotations, unschedulable). */
export const ANN_RESTORE = 'chaos.hive.dev/restore';
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';

export type Fault =
  | { kind: 'object'; ref: ObjectRef }
  | { kind: 'node'; node: string; restoreAnnotations: Record<string, string>; uncordon: boolean };

export type LedgerStatus = 'running' | 'aborted' | 'finished';

export interface Ledger {
  runId: string;
  experiment: string;
  status: LedgerStatus;
  expiresAt: string;
  faults: Fault[];
}

/** Kubernetes names and label values: lower-case alphanumerics and '-', at most 63 chars. */
export function dnsSafe(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 50) || 'run'
  );
}

export function ledgerName(runId: string): string {
  return `hivectl-chaos-${dnsSafe(runId)}`;
}

export function faultLabels(runId: string, stateNamespace?: string): Record<string, string> {
  return {
    [LABEL_RUN]: dnsSafe(runId),
    'app.kubernetes.io/managed-by': 'hivectl',
    ...(stateNamespace ? { [LABEL_STATE_NS]: stateNamespace } : {}),
  };
}

export function expiryAnnotations(expiresAt: Date): Record<string, string> {
  return { [ANN_EXPIRES]: expiresAt.toISOString() };
}

function ledgerRef(namespace: string, runId: string): ObjectRef {
  return { apiVersion: 'v1', kind: 'ConfigMap', namespace, name: ledgerName(runId) };
}

function toLedger(cm: Record<string, unknown> | undefined): Ledger | undefined {
  if (!cm) return undefined;
  const data = (cm.data ?? {}) as Record<string, string>;
  return {
    runId: data.runId ?? '',
    experiment: data.experiment ?? '',
    status: (data.status as LedgerStatus) ?? 'running',
    expiresAt: data.expiresAt ?? '',
    faults: JSON.parse(data.faults ?? '[]') as Fault[],
  };
}

export async function ensureNamespace(k: K8s, namespace: string): Promise<void> {
  if (await readObject(k, { apiVersion: 'v1', kind: 'Namespace', name: namespace })) return;
  await applyObject(k, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
}

export async function openLedger(
  k: K8s,
  namespace: string,
  runId: string,
  experiment: string,
  expiresAt: Date,
): Promise<Ledger> {
  await ensureNamespace(k, namespace);
  const existing = toLedger(await readObject(k, ledgerRef(namespace, runId)));
  if (existing) return existing;
  const l: Ledger = { runId, experiment, status: 'running', expiresAt: expiresAt.toISOString(), faults: [] };
  await applyObject(k, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: ledgerName(runId),
      namespace,
      labels: { ...faultLabels(runId, namespace), [LABEL_LEDGER]: 'true' },
      annotations: expiryAnnotations(expiresAt),
    },
    data: { runId, experiment, status: l.status, expiresAt: l.expiresAt, faults: '[]' },
  } as never);
  return l;
}

export async function readLedger(k: K8s, namespace: string, runId: string): Promise<Ledger | undefined> {
  return toLedger(await readObject(k, ledgerRef(namespace, runId)));
}

export async function listLedgers(k: K8s, namespace: string): Promise<Ledger[]> {
  const cms = await listObjects(k, 'v1', 'ConfigMap', namespace, `${LABEL_LEDGER}=true`);
  return cms.map((c) => toLedger(c) as Ledger);
}

function sameFault(a: Fault, b: Fault): boolean {
  if (a.kind === 'object' && b.kind === 'object')
    return (
      a.ref.kind === b.ref.kind && a.ref.name === b.ref.name && (a.ref.namespace ?? '') === (b.ref.namespace ?? '')
    );
  if (a.kind === 'node' && b.kind === 'node') return a.node === b.node;
  return false;
}

/** Record a fault's undo in the ledger. Call before applying the fault. */
export async function recordFault(k: K8s, namespace: string, runId: string, fault: Fault): Promise<void> {
  const l = await readLedger(k, namespace, runId);
  if (!l) throw new Error(`chaos ledger ${namespace}/${ledgerName(runId)} is missing`);
  if (l.faults.some((f) => sameFault(f, fault))) return;
  l.faults.push(fault);
  await mergePatch(k, ledgerRef(namespace, runId), { data: { faults: JSON.stringify(l.faults) } });
}

export async function setLedgerStatus(k: K8s, namespace: string, runId: string, status: LedgerStatus): Promise<void> {
  await mergePatch(k, ledgerRef(namespace, runId), { data: { status } });
}

/** Undo one fault (idempotent: undoing twice is harmless). */
export async function revertFault(k: K8s, f: Fault): Promise<string> {
  if (f.kind === 'object') {
    const gone = await deleteObject(k, f.ref);
    return `${gone ? 'deleted' : 'already gone:'} ${f.ref.kind} ${f.ref.namespace ? `${f.ref.namespace}/` : ''}${f.ref.name}`;
  }
  const node = await readObject(k, { apiVersion: 'v1', kind: 'Node', name: f.node });
  if (!node) return `node ${f.node} is gone`;
  const annotations: Record<string, string | null> = {
    ...f.restoreAnnotations,
    [ANN_RESTORE]: null,
    [ANN_EXPIRES]: null,
  };
  await mergePatch(
    k,
    { apiVersion: 'v1', kind: 'Node', name: f.node },
    {
      metadata: { annotations, labels: { [LABEL_RUN]: null, [LABEL_STATE_NS]: null } },
      ...(f.uncordon ? { spec: { unschedulable: null } } : {}),
    },
  );
  return `restored node ${f.node}${f.uncordon ? ' (uncordoned)' : ''}`;
}

/** Kinds hivectl creates as faults; swept by label when a ledger is gone. */
const FAULT_KINDS: Array<[string, string]> = [['networking.k8s.io/v1', 'NetworkPolicy']];

export interface CleanupReport {
  runs: string[];
  reverted: string[];
  errors: string[];
}

/**
 * Remove every fault of the given runs (all runs when runIds is undefined): the ledgers' faults, then
 * a sweep by label for anything a ledger missed (e.g. a ledger deleted by hand), then the ledgers.
 * With expiredOnly, only runs whose expiry has passed.
 */
export async function cleanupFaults(
  k: K8s,
  namespace: string,
  opts: { runIds?: string[]; expiredOnly?: boolean; now?: Date } = {},
): Promise<CleanupReport> {
  const now = opts.now ?? new Date();
  const rep: CleanupReport = { runs: [], reverted: [], errors: [] };
  const wanted = opts.runIds?.map(dnsSafe);
  // Faults of another hivectl state namespace (another team's, another test's) are theirs to clean up;
  // faults from before the label existed are swept as before.
  const mine = (labels: Record<string, string> | undefined) => (labels?.[LABEL_STATE_NS] ?? namespace) === namespace;
  const match = (runLabel: string | undefined, expiresAt: string | undefined) => {
    if (wanted && !wanted.includes(runLabel ?? '')) return false;
    if (opts.expiredOnly && !(expiresAt && Date.parse(expiresAt) <= now.getTime())) return false;
    return true;
  };
  const ledgers = await listLedgers(k, namespace);
  for (const l of ledgers) {
    if (!match(dnsSafe(l.runId), l.expiresAt)) continue;
    rep.runs.push(l.runId);
    for (const f of [...l.faults].reverse()) {
      try {
        rep.reverted.push(await revertFault(k, f));
      } catch (e) {
        rep.errors.push((e as Error).message);
      }
    }
  }
  // Sweep by label: objects and nodes carrying a run label.
  for (const [apiVersion, kind] of FAULT_KINDS) {
    for (const o of await listObjects(k, apiVersion, kind, undefined, LABEL_RUN)) {
      const md = (o.metadata ?? {}) as {
        name: string;
        namespace?: string;
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
      };
      if (!mine(md.labels) || !match(md.labels?.[LABEL_RUN], md.annotations?.[ANN_EXPIRES])) continue;
      try {
        rep.reverted.push(
          await revertFault(k, { kind: 'object', ref: { apiVersion, kind, name: md.name, namespace: md.namespace } }),
        );
      } catch (e) {
        rep.errors.push((e as Error).message);
      }
    }
  }
  for (const n of await listNodes(k, LABEL_RUN)) {
    const md = n.metadata ?? {};
    if (!mine(md.labels) || !match(md.labels?.[LABEL_RUN], md.annotations?.[ANN_EXPIRES])) continue;
    const restore = JSON.parse(md.annotations?.[ANN_RESTORE] ?? '{}') as {
      annotations?: Record<string, string>;
      uncordon?: boolean;
    };
    try {
      rep.reverted.push(
        await revertFault(k, {
          kind: 'node',
          node: md.name ?? '',
          restoreAnnotations: restore.annotations ?? {},
          uncordon: restore.uncordon ?? false,
        }),
      );
    } catch (e) {
      rep.errors.push((e as Error).message);
    }
  }
  if (rep.errors.length === 0) {
    for (const l of ledgers) {
      if (match(dnsSafe(l.runId), l.expiresAt)) await deleteObject(k, ledgerRef(namespace, l.runId));
    }
  }
  return rep;
}

/** The kill switch: mark running experiments aborted (they watch their ledger and stop). */
export async function markAborted(k: K8s, namespace: string, runIds?: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const l of await listLedgers(k, namespace)) {
    if (l.status !== 'running') continue;
    if (runIds && !runIds.map(dnsSafe).includes(dnsSafe(l.runId))) continue;
    await setLedgerStatus(k, namespace, l.runId, 'aborted');
    out.push(l.runId);
  }
  return out;
}

/**
 * After cleaning up runs that were killed (SIGKILL), their run lock (Lease `hivectl-lock`) is still
 * held by a dead holder. Release it when its holder is one of those runs and it stopped renewing.
 */
export async function releaseDeadRunLock(
  k: K8s,
  namespace: string,
  runIds: string[],
  now = Date.now(),
): Promise<string | undefined> {
  const ref = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace, name: 'hivectl-lock' };
  const lease = await readObject(k, ref);
  const spec = (lease?.spec ?? {}) as { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number };
  const holder = spec.holderIdentity ?? '';
  const run = runIds.find((r) => holder.endsWith(`/${r}`));
  if (!lease || !run) return undefined;
  const renewed = spec.renewTime ? Date.parse(spec.renewTime) : 0;
  if (now - renewed < (spec.leaseDurationSeconds ?? 30) * 1000) return undefined;
  await deleteObject(k, ref);
  return holder;
}
