// Step: delete objects this instance owns that are no longer rendered.
import { rawKube } from '../../adapters/k8s-apply.js';
import type { Ctx, Step } from '../../core/step.js';
import { deleteCandidates, findPrunable, type PruneCandidate, prunableKinds } from './prune.js';
import type { StackHandle } from './stack-source.js';

export function pruneCandidates(h: StackHandle) {
  let memoP: Promise<PruneCandidate[]> | undefined;
  return {
    get(ctx: Ctx): Promise<PruneCandidate[]> {
      memoP ??= (async () => {
        const src = await h.source(ctx);
        const raw = await rawKube(await ctx.adapters.k8s(h.context));
        return findPrunable(
          raw,
          src.instance,
          src.objects,
          prunableKinds(src.capabilities),
          src.skipped.filter((x) => x.keepLive),
        );
      })();
      memoP.catch(() => {
        memoP = undefined;
      });
      return memoP;
    },
    reset() {
      memoP = undefined;
    },
  };
}

export function pruneStep(
  h: StackHandle,
  candidates: ReturnType<typeof pruneCandidates>,
): Step<{ delete: PruneCandidate[] }, { deleted: string[] }> {
  return {
    id: 'prune',
    title: 'Prune objects hivectl owns that are no longer rendered',
    destructive: true,
    async plan(ctx) {
      const list = await candidates.get(ctx);
      return {
        summary: list.length ? `delete ${list.length} object(s) no longer in the templates` : 'nothing to prune',
        changes: list.map((c) => ({ action: 'delete' as const, target: c.ref, detail: 'no longer rendered' })),
        payload: { delete: list },
        noop: list.length === 0,
      };
    },
    async apply(ctx, payload) {
      const raw = await rawKube(await ctx.adapters.k8s(h.context));
      const deleted = await deleteCandidates(raw, payload.delete);
      candidates.reset();
      return { deleted };
    },
  };
}
