// Step: record the applied set as a new bootstrap revision (a typed Secret in hivectl's namespace).
import { rawKube } from '../../adapters/k8s-apply.js';
import type { Step } from '../../core/step.js';
import type { ApplyResult } from './apply-objects.js';
import type { pruneCandidates } from './prune-objects.js';
import { listRevisions, saveRevision } from './revisions.js';
import type { StackHandle } from './stack-source.js';

export function recordRevisionStep(
  h: StackHandle,
  candidates: ReturnType<typeof pruneCandidates>,
): Step<{ changes: number }, { revision: number | null }> {
  return {
    id: 'record-revision',
    title: 'Record the bootstrap revision',
    async plan(ctx) {
      const src = await h.source(ctx);
      const p = await h.plan(ctx);
      const prune = await candidates.get(ctx);
      const changes = p.objects.filter((o) => o.action !== 'none').length + prune.length;
      const raw = await rawKube(await ctx.adapters.k8s(h.context));
      const revs = await listRevisions(raw, ctx.config.cluster.namespace, src.instance).catch(() => []);
      // An unchanged cluster that already has a revision needs no new one.
      const noop = changes === 0 && revs.length > 0 && !src.alwaysRecord;
      const next = (revs.at(-1)?.revision ?? 0) + 1;
      return {
        summary: noop ? `revision ${revs.at(-1)?.revision} is current` : `record revision ${next}`,
        changes: noop
          ? []
          : [
              {
                action: 'create',
                target: `Secret ${ctx.config.cluster.namespace}/hivectl-bootstrap-${src.instance}-rev-${next}`,
              },
            ],
        payload: { changes },
        noop,
      };
    },
    async apply(ctx, payload) {
      const src = await h.source(ctx);
      const applied = ctx.results.get('apply-objects') as ApplyResult | undefined;
      const raw = await rawKube(await ctx.adapters.k8s(h.context));
      const revision = await saveRevision(raw, ctx.config.cluster.namespace, src.instance, {
        objects: src.objects,
        env: src.env,
        changes: applied ? applied.applied.length : payload.changes,
        description: src.description,
      });
      ctx.io.info(`recorded bootstrap revision ${revision}`);
      return { revision };
    },
  };
}
