// The chaos experiment document (YAML, validated by zod): a steady-state hypothesis made of probes,
// a method made of actions, optional rollbacks, a duration and abort conditions. Built-in
// experiments (`hivectl chaos pod-kill` ...) are built as the same document.
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export { parseYaml };

const duration = z.union([z.number().nonnegative(), z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)$/, 'e.g. 30s, 2m')]);
const selector = z.string().min(1).describe('label selector, e.g. app=agent-worker');
const count = z.union([z.number().int().min(1), z.string().regex(/^\d+%$/, 'a count or a percentage such as 50%')]);

export const probeSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('ready-replicas'),
      name: z.string().optional(),
      namespace: z.string(),
      deployment: z.string(),
      min: z.number().int().min(0),
    })
    .strict(),
  z
    .object({
      type: z.literal('queue-depth'),
      name: z.string().optional(),
      /** Redis list key; default: redis.queueKey from hivectl.yaml. */
      key: z.string().optional(),
      max: z.number().int().min(0),
    })
    .strict(),
  z
    .object({
      type: z.literal('pod-restarts'),
      name: z.string().optional(),
      namespace: z.string(),
      selector: selector.optional(),
      max: z.number().int().min(0),
    })
    .strict(),
  z
    .object({
      type: z.literal('command'),
      name: z.string().optional(),
      command: z.array(z.string()).min(1),
      /** Expected exit code (default 0). */
      exitCode: z.number().int().default(0),
    })
    .strict(),
  z
    .object({
      type: z.literal('prometheus'),
      name: z.string().optional(),
      /** PromQL, evaluated as an instant query; it must return exactly one sample (or a scalar). */
      query: z.string().trim().min(1, 'a PromQL expression, e.g. sum(up{job="hive-api"})'),
      /** The sample must be >= min and/or <= max. */
      min: z.number().optional(),
      max: z.number().optional(),
    })
    .strict()
    .refine((p) => p.min !== undefined || p.max !== undefined, {
      message: 'give min, max or both (the bounds the query result must stay within)',
      path: ['min'],
    })
    .refine((p) => p.min === undefined || p.max === undefined || p.min <= p.max, {
      message: 'min must not be greater than max',
      path: ['max'],
    }),
]);
export type Probe = z.output<typeof probeSchema>;

export const actionSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('pod-kill'),
      namespace: z.string(),
      selector,
      /** How many matching pods to kill (count or share). */
      count: count.default(1),
    })
    .strict(),
  z
    .object({
      type: z.literal('node-failure'),
      /** A node name, or a selector over nodes; the first eligible node is failed. */
      node: z.string().optional(),
      selector: selector.optional(),
      /** kwok: stop the node's heartbeats (sandbox); cordon: cordon and evict its pods. */
      mode: z.enum(['kwok', 'cordon']).default('cordon'),
    })
    .strict(),
  z
    .object({
      type: z.literal('network-partition'),
      namespace: z.string(),
      /** Pods on one side of the partition. */
      from: selector,
      /** Pods on the other side (same namespace); default: every pod of the namespace. */
      to: selector.optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('dependency-outage'),
      namespace: z.string(),
      selector: selector.optional(),
      dependency: z.enum(['postgres', 'redis']),
      /** Override the port denied (default 5432 / 6379). */
      port: z.number().int().min(1).max(65535).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('db-failover'),
      /** RDS instance (reboot with failover) or Aurora cluster (FailoverDBCluster); default from hivectl.yaml. */
      instanceId: z.string().optional(),
      clusterId: z.string().optional(),
      region: z.string().optional(),
    })
    .strict(),
  z.object({ type: z.literal('wait'), duration }).strict(),
  /** Run a command (e.g. a load generator, or a fault injected by another tool); no undo of its own. */
  z.object({ type: z.literal('command'), command: z.array(z.string()).min(1) }).strict(),
]);
export type Action = z.output<typeof actionSchema>;

export const rollbackSchema = z.object({ type: z.literal('command'), command: z.array(z.string()).min(1) }).strict();

export const experimentSchema = z
  .object({
    apiVersion: z.literal('hive.dev/v1').default('hive.dev/v1'),
    kind: z.literal('ChaosExperiment').default('ChaosExperiment'),
    metadata: z
      .object({ name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/), description: z.string().optional() })
      .strict(),
    spec: z
      .object({
        /** How long the faults stay in place while the hypothesis is watched. */
        duration: duration.default('30s'),
        /** Probe interval while the experiment runs. */
        interval: duration.default('1s'),
        hypothesis: z
          .object({ probes: z.array(probeSchema).default([]) })
          .strict()
          .prefault({}),
        method: z.array(actionSchema).min(1),
        rollbacks: z.array(rollbackSchema).default([]),
        /** Any of these failing while the experiment runs stops it and rolls the faults back. */
        abortWhen: z.array(probeSchema).default([]),
        /** Time after which `chaos cleanup --expired` (and every new run) removes a fault left behind. */
        ttl: duration.default('15m'),
        /** Share or count of a target's pods that may be down at once. */
        maxUnavailable: count.default('50%'),
        includeUnlabelled: z.boolean().default(false),
        rollbackStrategy: z.enum(['always', 'deviated', 'never']).default('always'),
        /** Allowed time windows (UTC, "HH:MM-HH:MM"); empty = any time. */
        windows: z.array(z.string().regex(/^\d{2}:\d{2}-\d{2}:\d{2}$/)).default([]),
      })
      .strict(),
  })
  .strict();
export type Experiment = z.output<typeof experimentSchema>;
export type ExperimentInput = z.input<typeof experimentSchema>;

export function probeName(p: Probe): string {
  if (p.name) return p.name;
  switch (p.type) {
    case 'ready-replicas':
      return `${p.namespace}/${p.deployment} ready >= ${p.min}`;
    case 'queue-depth':
      return `queue ${p.key ?? '(default)'} depth <= ${p.max}`;
    case 'pod-restarts':
      return `${p.namespace} ${p.selector ?? 'all pods'} restarts <= ${p.max}`;
    case 'command':
      return `command ${p.command.join(' ')}`;
    case 'prometheus':
      return `prometheus ${p.query} ${boundsText(p.min, p.max)}`;
  }
}

function boundsText(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `in [${min}, ${max}]`;
  return min !== undefined ? `>= ${min}` : `<= ${max}`;
}

/** Every probe of an experiment: the hypothesis and the abort conditions. */
export function allProbes(exp: Experiment): Probe[] {
  return [...exp.spec.hypothesis.probes, ...exp.spec.abortWhen];
}

/** Validate a parsed YAML document; throws with `path: message` lines. */
export function parseExperiment(doc: unknown): Experiment {
  const r = experimentSchema.safeParse(doc);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  throw Object.assign(new Error(`invalid experiment:\n  ${lines.join('\n  ')}`), { issues: lines });
}

/** Whether now (UTC) falls inside one of the windows; no windows = always. */
export function inWindow(windows: string[], now = new Date()): boolean {
  if (windows.length === 0) return true;
  const mins = now.getUTCHours() * 60 + now.getUTCMinutes();
  return windows.some((w) => {
    const [a, b] = w.split('-') as [string, string];
    const toM = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));
    const s = toM(a);
    const e = toM(b);
    return s <= e ? mins >= s && mins < e : mins >= s || mins < e;
  });
}

/** Resolve a count (3, or "50%") against a total, at least 1 when the total is non-zero. */
export function resolveCount(c: number | string, total: number): number {
  if (typeof c === 'number') return Math.min(c, total);
  const pct = Number(c.slice(0, -1));
  return total === 0 ? 0 : Math.max(1, Math.floor((total * pct) / 100));
}
