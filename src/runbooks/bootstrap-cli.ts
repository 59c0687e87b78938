// The actions behind `hivectl bootstrap` (src/commands/bootstrap.ts): render, diff, run, history, rollback.
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { loadCommandEnv, runRunbookCommand } from '../core/command.js';
import { ExitCode, UsageError } from '../core/errors.js';
import { textTable } from '../core/table.js';
import type { StackEnv } from '../render/types.js';
import { bootstrapRollbackRunbook, bootstrapRunbook, readSecretValues } from './bootstrap.js';

function envOf(opts: Record<string, unknown>, fallback: StackEnv): StackEnv {
  const e = (opts.env as string | undefined) ?? fallback;
  if (!['dev', 'staging', 'prod'].includes(e)) throw new UsageError(`--env ${e}: use dev, staging or prod`);
  return e as StackEnv;
}

function secretEnvNames(env = process.env): string[] {
  return Object.keys(env)
    .filter((k) => k.startsWith('HIVECTL_SECRET_') && k.length > 'HIVECTL_SECRET_'.length)
    .sort();
}

/** A URL's password replaced, for printing. */
function maskUrl(u: string): string {
  return u.replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)([^\s@/]+)(@)/gi, '$1***$3');
}

export async function bootstrapCommand(cmd: Command, opts: Record<string, unknown>): Promise<void> {
  if (opts.exitCode && !opts.diff) throw new UsageError('--exit-code goes with --diff');
  if (opts.render && opts.diff) throw new UsageError('--render and --diff: pick one');
  const env = await loadCommandEnv(cmd);
  const stackEnv = envOf(opts, env.config.platform.env);
  const inputs = {
    env: stackEnv,
    forceConflicts: Boolean(opts.forceConflicts),
    prune: opts.prune !== false,
    ...(opts.secretFile ? { secretFile: String(opts.secretFile) } : {}),
    secretEnv: secretEnvNames(),
  };
  const secrets = readSecretValues(inputs);
  for (const v of Object.values(secrets)) (env.io as { redactor?: { add(v: string): void } }).redactor?.add(v);

  if (opts.render) {
    const { renderStackDetailed } = await import('../render/stack.js');
    // Manifests for GitOps: application secret values never leave hivectl (use an ExternalSecret there).
    const r = renderStackDetailed(env.config, { env: stackEnv });
    const objects = r.objects.map((o) => {
      if (o.kind !== 'Secret') return o;
      const c = structuredClone(o) as typeof o & { stringData?: Record<string, string> };
      if (c.stringData?.url) c.stringData.url = maskUrl(c.stringData.url);
      return c;
    });
    for (const s of r.skipped)
      env.io.info(`skipped ${s.kind} ${s.namespace ? `${s.namespace}/` : ''}${s.name}: ${s.reason}`);
    if (env.mode.output === 'json') {
      process.stdout.write(`${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}\n`);
    } else {
      process.stdout.write(objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n'));
    }
    return;
  }

  if (opts.diff) {
    const { rawKube, discoverCapabilities } = await import('../adapters/k8s-apply.js');
    const { renderStackDetailed } = await import('../render/stack.js');
    const { planObjects, renderDiffs, FieldConflictError } = await import('../steps/k8s/apply-plan.js');
    const { findPrunable, prunableKinds } = await import('../steps/k8s/prune.js');
    const k8s = await env.adapters.k8s();
    const raw = await rawKube(k8s);
    const capabilities = await discoverCapabilities(raw);
    const r = renderStackDetailed(env.config, { env: stackEnv, capabilities, secrets });
    const [plan, prune] = await Promise.all([
      planObjects(k8s, r.objects, { forceConflicts: inputs.forceConflicts }),
      inputs.prune
        ? findPrunable(
            raw,
            r.instance,
            r.objects,
            prunableKinds(capabilities),
            r.skipped.filter((x) => x.keepLive),
          )
        : Promise.resolve([]),
    ]);
    if (plan.conflicts.length && !inputs.forceConflicts) throw new FieldConflictError(plan.conflicts);
    let text = renderDiffs(plan);
    for (const p of prune) text += `--- live/${p.ref}\n+++ /dev/null\n(prune: no longer rendered)\n`;
    process.stdout.write(text);
    const n = (a: string) => plan.objects.filter((o) => o.action === a).length;
    const changes = n('create') + n('update') + prune.length;
    env.io.info(
      `${r.objects.length} objects: ${n('create')} to create, ${n('update')} to update, ${prune.length} to prune, ${n('none')} unchanged; ${r.skipped.length} skipped`,
    );
    for (const s of r.skipped) env.io.debug(`skipped ${s.kind} ${s.name}: ${s.reason}`);
    process.exitCode = changes > 0 && opts.exitCode ? ExitCode.gateFailed : ExitCode.ok;
    return;
  }

  await runRunbookCommand(
    cmd,
    () => bootstrapRunbook(inputs, secrets),
    (outcome) => summarize(outcome.results),
  );
}

function summarize(results: Record<string, unknown>) {
  const applied = results['apply-objects'] as { applied: { action: string }[] } | undefined;
  const pruned = results.prune as { deleted: string[] } | undefined;
  const rev = results['record-revision'] as { revision: number | null } | undefined;
  const created = applied?.applied.filter((a) => a.action === 'create').length ?? 0;
  const updated = applied?.applied.filter((a) => a.action === 'update').length ?? 0;
  return {
    changes: created + updated + (pruned?.deleted.length ?? 0),
    created,
    updated,
    pruned: pruned?.deleted.length ?? 0,
    ...(rev?.revision ? { revision: rev.revision } : {}),
  };
}

export async function bootstrapHistory(cmd: Command): Promise<void> {
  const env = await loadCommandEnv(cmd);
  const { rawKube } = await import('../adapters/k8s-apply.js');
  const { listRevisions } = await import('../steps/k8s/revisions.js');
  const { stackInstance } = await import('../render/stack.js');
  const raw = await rawKube(await env.adapters.k8s());
  const revs = await listRevisions(raw, env.config.cluster.namespace, stackInstance(env.config));
  env.io.result(revs, () => {
    if (!revs.length) return 'no bootstrap revisions recorded yet\n';
    const rows = [['REVISION', 'APPLIED', 'ENV', 'CHANGES', 'OBJECTS', 'STATUS', 'DESCRIPTION']];
    for (const r of revs)
      rows.push([
        String(r.revision),
        r.appliedAt,
        r.env,
        String(r.changes),
        String(r.objects),
        r.status,
        r.description,
      ]);
    return textTable(rows);
  });
}

export async function bootstrapRollback(cmd: Command, opts: { to?: string; forceConflicts: boolean }): Promise<void> {
  let to: number | undefined;
  if (opts.to !== undefined) {
    to = Number(opts.to);
    if (!Number.isInteger(to) || to < 1)
      throw new UsageError(`--to ${opts.to}: use a revision number (see \`hivectl bootstrap history\`)`);
  }
  await runRunbookCommand(
    cmd,
    () => bootstrapRollbackRunbook({ ...(to ? { to } : {}), forceConflicts: opts.forceConflicts }),
    (outcome) => summarize(outcome.results),
  );
}
