// Renders the Agent Hive stack for one environment: templates/ + values/<env>.yaml + hivectl.yaml.
// Pure: reads template files, never a cluster. Optional CRD kinds appear only when `capabilities`
// says the cluster serves them; everything else is reported as skipped, with the reason.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HivectlConfig } from '../core/config.js';
import { loadTemplates, substitute } from './template.js';
import {
  type Capabilities,
  type KubernetesObject,
  LABEL_ENV,
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  LABEL_PART_OF,
  type SkippedObject,
  type StackEnv,
} from './types.js';
import { buildValues, loadEnvValues } from './values.js';

export interface RenderStackOptions {
  env: StackEnv;
  /** Optional CRDs the cluster serves (bootstrap finds them by discovery). Default: none. */
  capabilities?: Capabilities;
  /** Application secret values (from --secret-file / HIVECTL_SECRET_*). Never printed. */
  secrets?: Record<string, string>;
  /** Override the templates directory (tests). */
  templatesDir?: string;
}

export interface RenderedStack {
  env: StackEnv;
  instance: string;
  objects: KubernetesObject[];
  skipped: SkippedObject[];
}

/** Apply order: prerequisites first, as Helm's install order does (see docs/commands/bootstrap.md). */
export const KIND_TIERS: readonly (readonly string[])[] = [
  ['CustomResourceDefinition', 'Namespace', 'PriorityClass'],
  ['ResourceQuota', 'LimitRange'],
  ['ServiceAccount', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'],
  ['ConfigMap', 'Secret', 'ExternalSecret', 'Certificate'],
  ['NetworkPolicy'],
  ['Service'],
  ['Deployment', 'StatefulSet'],
  ['PodDisruptionBudget', 'HorizontalPodAutoscaler', 'ScaledObject', 'ServiceMonitor'],
];

export function kindTier(kind: string): number {
  const i = KIND_TIERS.findIndex((t) => t.includes(kind));
  return i < 0 ? KIND_TIERS.length : i;
}

/**
 * What must exist before what: namespaces and priority classes before anything in them; quotas,
 * limit ranges, service accounts and the rest of a namespace's furniture before pods are created
 * (admission refuses pods without them, and ReplicaSets then back off); workloads and what refers to
 * them by name (PDBs, autoscalers) last. Kinds within a phase do not depend on each other, so a phase
 * is applied in parallel: 3 round trips instead of one per tier.
 */
export const APPLY_PHASES: readonly (readonly number[])[] = [[0], [1, 2, 3, 4, 5], [6, 7, 8]];

export function applyPhasesOf<T extends Pick<KubernetesObject, 'kind'>>(objects: T[]): T[][] {
  return APPLY_PHASES.map((tiers) => objects.filter((o) => tiers.includes(kindTier(o.kind)))).filter(
    (p) => p.length > 0,
  );
}

/** Objects grouped by tier, in apply order; within a tier they are independent (applied in parallel). */
export function tiersOf<T extends Pick<KubernetesObject, 'kind'>>(objects: T[]): T[][] {
  const tiers: T[][] = [];
  for (const o of objects) {
    const t = kindTier(o.kind);
    const tier = tiers[t] ?? [];
    tier.push(o);
    tiers[t] = tier;
  }
  return tiers.filter((t) => t && t.length > 0);
}

export function templatesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const cand = join(dir, 'templates');
    if (existsSync(join(cand, 'stack'))) return cand;
    dir = dirname(dir);
  }
  throw new Error('templates/ not found next to the hivectl installation');
}

const CONDITION_REASON: Record<string, string> = {
  externalSecrets: 'the External Secrets Operator CRD (externalsecrets.external-secrets.io) is not served',
  '!externalSecrets': 'an ExternalSecret provides it (External Secrets Operator is installed)',
  certManager: 'the cert-manager CRD (certificates.cert-manager.io) is not served',
  serviceMonitor: 'the Prometheus Operator CRD (servicemonitors.monitoring.coreos.com) is not served',
  keda: 'the KEDA CRD (scaledobjects.keda.sh) is not served; the agents use an HPA',
  '!keda': 'KEDA is installed; a ScaledObject scales the agents instead',
  appSecret: 'no secret values were given (--secret-file or HIVECTL_SECRET_*)',
};

function holds(cond: string, caps: Capabilities, hasSecrets: boolean): boolean {
  const neg = cond.startsWith('!');
  const name = neg ? cond.slice(1) : cond;
  const v = name === 'appSecret' ? hasSecrets : Boolean(caps[name as keyof Capabilities]);
  return neg ? !v : v;
}

export function renderStackDetailed(config: HivectlConfig, opts: RenderStackOptions): RenderedStack {
  const dir = opts.templatesDir ?? templatesDir();
  const caps = opts.capabilities ?? {};
  const secrets = opts.secrets ?? {};
  const hasSecrets = Object.keys(secrets).length > 0;
  const values = buildValues(config, loadEnvValues(dir, opts.env), { env: opts.env, capabilities: caps, secrets });
  const instance = values.instance as string;
  const common = {
    [LABEL_MANAGED_BY]: 'hivectl',
    [LABEL_PART_OF]: 'agent-hive',
    [LABEL_INSTANCE]: instance,
    [LABEL_ENV]: opts.env,
  };
  const objects: KubernetesObject[] = [];
  const skipped: SkippedObject[] = [];
  for (const doc of loadTemplates(join(dir, 'stack'))) {
    const failed = doc.when.find((c) => !holds(c, caps, hasSecrets));
    if (failed) {
      // Render the metadata only, to name what was skipped.
      const meta = substitute(doc.body.metadata, values, doc.file) as { name: string; namespace?: string };
      skipped.push({
        kind: String(doc.body.kind),
        name: meta.name,
        ...(meta.namespace ? { namespace: meta.namespace } : {}),
        reason: CONDITION_REASON[failed] ?? `condition ${failed} is false`,
        // A run without --secret-file must not delete the secrets an earlier run created.
        ...(failed === 'appSecret' ? { keepLive: true } : {}),
      });
      continue;
    }
    const o = substitute(doc.body, values, doc.file) as KubernetesObject;
    o.metadata.labels = { ...(o.metadata.labels ?? {}), ...common };
    const tmpl = (o.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.template;
    if (tmpl?.metadata) tmpl.metadata.labels = { ...(tmpl.metadata.labels ?? {}), ...common };
    objects.push(o);
  }
  // Stable sort by tier keeps template order within a tier.
  objects.sort((a, b) => kindTier(a.kind) - kindTier(b.kind));
  return { env: opts.env, instance, objects, skipped };
}

/** The stack's objects in apply order. Stable name: used by scan, failover and drill. */
export async function renderStack(
  config: HivectlConfig,
  opts: { env: StackEnv } & Partial<RenderStackOptions>,
): Promise<KubernetesObject[]> {
  return renderStackDetailed(config, opts).objects;
}

/** The instance label value for a config (what prune and revisions are scoped to). */
export function stackInstance(config: HivectlConfig): string {
  return config.platform.namespaces.api;
}
