// Runbook: bootstrap the Agent Hive stack for one environment.
//   1. backup buckets (primary + DR): versioning, encryption, public access block, lifecycle, replication
//   2. server-side apply of the rendered stack (field manager hivectl), prerequisites first, tiers in parallel
//   3. wait for the rollout by watching; a timeout rolls step 2 back to the previous revision
//   4. prune objects hivectl owns that the templates no longer render
//   5. record the applied set as a revision (`hivectl bootstrap history|rollback`)
// `bootstrap-rollback` is the same list of steps over a stored revision instead of the templates.
import { readFileSync } from 'node:fs';
import type { CommandEnv } from '../core/command.js';
import { UsageError } from '../core/errors.js';
import type { Ctx, Runbook } from '../core/step.js';
import { type StackEnv, stackInstance } from '../render/index.js';
import { backupBucketsStep } from '../steps/aws/buckets.js';
import { applicable, applyObjectsStep } from '../steps/k8s/apply-objects.js';
import { pruneCandidates, pruneStep } from '../steps/k8s/prune-objects.js';
import { recordRevisionStep } from '../steps/k8s/record-revision.js';
import { memo, type StackHandle, type StackSource } from '../steps/k8s/stack-source.js';
import { waitRolloutStep } from '../steps/k8s/wait-rollout.js';
import { type RunbookDefinition, registerRunbook } from './index.js';

export interface BootstrapInputs {
  env: StackEnv;
  forceConflicts: boolean;
  prune: boolean;
  /** Where secret values came from (never the values): a file path and/or env variable names. */
  secretFile?: string;
  secretEnv?: string[];
}

/** Secret values from a KEY=VALUE / JSON / YAML file and HIVECTL_SECRET_<KEY> variables. */
export function readSecretValues(
  i: Pick<BootstrapInputs, 'secretFile' | 'secretEnv'>,
  env: Record<string, string | undefined> = process.env,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (i.secretFile) {
    let text: string;
    try {
      text = readFileSync(i.secretFile, 'utf8');
    } catch (e) {
      throw new UsageError(`--secret-file ${i.secretFile}: ${(e as Error).message}`, {
        hint: 'pass a readable file of KEY=VALUE lines (or JSON)',
      });
    }
    const trimmed = text.trim();
    if (trimmed.startsWith('{')) {
      for (const [k, v] of Object.entries(JSON.parse(trimmed) as Record<string, unknown>)) out[k] = String(v);
    } else {
      for (const line of text.split('\n')) {
        const l = line.trim();
        if (!l || l.startsWith('#')) continue;
        const eq = l.indexOf('=');
        if (eq <= 0)
          throw new UsageError(`--secret-file ${i.secretFile}: a line is not KEY=VALUE`, {
            hint: 'use KEY=VALUE lines, # for comments',
          });
        out[l.slice(0, eq).trim()] = l
          .slice(eq + 1)
          .trim()
          .replace(/^(['"])(.*)\1$/, '$2');
      }
    }
  }
  for (const name of i.secretEnv ?? []) {
    const v = env[name];
    if (v !== undefined) out[name.replace(/^HIVECTL_SECRET_/, '')] = v;
  }
  return out;
}

function handleFor(source: (ctx: Ctx) => Promise<StackSource>, forceConflicts: boolean): StackHandle {
  const src = memo(source);
  const plan = memo(async (ctx) => {
    const { planObjects } = await import('../steps/k8s/apply-plan.js');
    const s = await src.get(ctx);
    const t0 = performance.now();
    const p = await planObjects(await ctx.adapters.k8s(), applicable(s.objects), {
      forceConflicts,
      signal: ctx.signal,
    });
    ctx.io.debug(`server-side dry-run plan of ${s.objects.length} objects: ${Math.round(performance.now() - t0)} ms`);
    return p;
  });
  return { source: src.get, plan: plan.get, reset: plan.reset, forceConflicts };
}

function stackItems(h: StackHandle, withBuckets: boolean) {
  const candidates = pruneCandidates(h);
  const apply = applyObjectsStep(h);
  const planApply = apply.plan.bind(apply);
  // The runner plans steps one after the other: start prune's listing while the dry-run runs.
  apply.plan = (ctx) => {
    candidates.get(ctx).catch(() => undefined);
    return planApply(ctx);
  };
  return [
    ...(withBuckets ? [backupBucketsStep()] : []),
    apply,
    waitRolloutStep({
      targets: async (ctx) =>
        applicable((await h.source(ctx)).objects)
          .filter((o) => o.kind === 'Deployment')
          .map((o) => ({ namespace: o.metadata.namespace ?? '', name: o.metadata.name })),
    }),
    pruneStep(h, candidates),
    recordRevisionStep(h, candidates),
  ];
}

export function bootstrapRunbook(i: BootstrapInputs, secrets: Record<string, string>): Runbook {
  const h = handleFor(async (ctx) => {
    for (const v of Object.values(secrets)) ctx.registerSecret(v);
    const { rawKube, discoverCapabilities } = await import('../adapters/k8s-apply.js');
    const t0 = performance.now();
    const discovery = discoverCapabilities(await rawKube(await ctx.adapters.k8s()));
    discovery.catch(() => undefined);
    // Load the renderer and the planner while discovery is on the wire.
    const [{ renderStackDetailed }] = await Promise.all([
      import('../render/stack.js'),
      import('../steps/k8s/apply-plan.js'),
    ]);
    const capabilities = await discovery;
    const t1 = performance.now();
    const r = renderStackDetailed(ctx.config, { env: i.env, capabilities, secrets });
    ctx.io.debug(`discovery (and loading) ${Math.round(t1 - t0)} ms, render ${Math.round(performance.now() - t1)} ms`);
    return { ...r, capabilities, description: `bootstrap --env ${i.env}` };
  }, i.forceConflicts);
  const items = stackItems(h, true);
  return {
    name: 'bootstrap',
    title: `Bootstrap Agent Hive (${i.env})`,
    inputs: { ...i },
    mutating: true,
    items: i.prune ? items : items.filter((s) => s.id !== 'prune'),
  };
}

export interface BootstrapRollbackInputs {
  /** Revision to go back to; default: the one before the current. */
  to?: number;
  forceConflicts: boolean;
}

export function bootstrapRollbackRunbook(i: BootstrapRollbackInputs): Runbook {
  const h = handleFor(async (ctx) => {
    const { rawKube, discoverCapabilities } = await import('../adapters/k8s-apply.js');
    const { listRevisions, loadRevision } = await import('../steps/k8s/revisions.js');
    const raw = await rawKube(await ctx.adapters.k8s());
    const instance = stackInstance(ctx.config);
    const ns = ctx.config.cluster.namespace;
    const revs = await listRevisions(raw, ns, instance);
    const to = i.to ?? revs.filter((r) => r.status === 'deployed').at(-2)?.revision;
    if (to === undefined) {
      throw new UsageError('there is no earlier bootstrap revision to roll back to', {
        hint: 'see `hivectl bootstrap history`',
      });
    }
    const objects = await loadRevision(raw, ns, instance, to);
    if (!objects) {
      throw new UsageError(`bootstrap revision ${to} does not exist`, {
        hint: `pick one of ${revs.map((r) => r.revision).join(', ') || '(none)'} (see \`hivectl bootstrap history\`)`,
      });
    }
    const info = revs.find((r) => r.revision === to);
    const capabilities = await discoverCapabilities(raw);
    return {
      instance,
      env: info?.env ?? ctx.config.platform.env,
      objects,
      skipped: [],
      capabilities,
      description: `rollback to ${to}`,
      alwaysRecord: true,
    };
  }, i.forceConflicts);
  return {
    name: 'bootstrap-rollback',
    title: `Roll the Agent Hive stack back${i.to ? ` to revision ${i.to}` : ''}`,
    inputs: { ...i },
    mutating: true,
    items: stackItems(h, false),
  };
}

export const runbooks: RunbookDefinition[] = [
  {
    name: 'bootstrap',
    title: 'Install or update the Agent Hive stack (server-side apply, rollout, prune, revision)',
    description:
      'buckets -> apply (dry-run plan, tiers in parallel) -> wait for rollout (watch) -> prune -> record revision',
    build(inputs: Record<string, unknown>, _env: CommandEnv) {
      const i = inputs as unknown as BootstrapInputs;
      // Rebuilt by `hivectl resume`: secret values are never journalled, so they are read again.
      return bootstrapRunbook(i, readSecretValues(i));
    },
    example: { env: 'prod', forceConflicts: false, prune: true },
  },
  {
    name: 'bootstrap-rollback',
    title: 'Roll the Agent Hive stack back to a recorded revision',
    description: 'load revision -> apply -> wait for rollout -> prune -> record revision',
    build(inputs: Record<string, unknown>) {
      return bootstrapRollbackRunbook(inputs as unknown as BootstrapRollbackInputs);
    },
    example: { to: 1, forceConflicts: false },
  },
];

for (const r of runbooks) registerRunbook(r);
