// What the bootstrap steps share within one run: the objects to apply (rendered, or a stored
// revision) and the memoised server-side plan, so that plan() of several steps costs one dry-run pass.
import type { Ctx } from '../../core/step.js';
import type { Capabilities, KubernetesObject, SkippedObject } from '../../render/types.js';
import type { ObjectPlanResult } from './apply-plan.js';

export interface StackSource {
  instance: string;
  env: string;
  objects: KubernetesObject[];
  skipped: SkippedObject[];
  capabilities: Capabilities;
  /** Revision note, e.g. `bootstrap --env prod` or `rollback to 3`. */
  description: string;
  /** Record a revision even when nothing changed (an explicit rollback is history worth keeping). */
  alwaysRecord?: boolean;
}

export interface StackHandle {
  source(ctx: Ctx): Promise<StackSource>;
  plan(ctx: Ctx): Promise<ObjectPlanResult>;
  /** Forget the memoised plan (after apply, a re-plan must see the new state). */
  reset(): void;
  forceConflicts: boolean;
  /** Kube context (default: the target's). */
  context?: string | undefined;
}

export function memo<T>(make: (ctx: Ctx) => Promise<T>): { get(ctx: Ctx): Promise<T>; reset(): void } {
  let p: Promise<T> | undefined;
  return {
    get(ctx) {
      p ??= make(ctx);
      p.catch(() => {
        p = undefined;
      });
      return p;
    },
    reset() {
      p = undefined;
    },
  };
}
