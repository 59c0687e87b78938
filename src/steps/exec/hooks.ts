// App-consistency hooks: commands run (sh -c) in a pod before and after the capture, e.g. to pause and
// resume the agent queue. The pre hook's rollback runs the post hooks, so a failed backup never leaves
// the queue paused.
import type { Ctx, Step } from '../../core/step.js';

function hookPod(ctx: Ctx): { namespace: string; pod: string } | undefined {
  const p = ctx.config.backup.hooks.pod;
  if (!p) return undefined;
  const [a, b] = p.split('/');
  return b ? { namespace: a!, pod: b } : { namespace: ctx.config.platform.namespaces.api, pod: a! };
}

async function runHooks(ctx: Ctx, cmds: string[]): Promise<string[]> {
  const at = hookPod(ctx);
  if (!at || cmds.length === 0) return [];
  const ex = await ctx.adapters.k8sExec();
  const out: string[] = [];
  for (const c of cmds) {
    const r = await ex.exec({ ...at, command: ['sh', '-c', c], signal: ctx.signal });
    out.push((r.stdout ?? '').trim());
  }
  return out;
}

export function hookStep(which: 'pre' | 'post'): Step<{ commands: string[] }, { ran: number }> {
  return {
    id: `hooks-${which}`,
    title: which === 'pre' ? 'Run pre-backup hooks' : 'Run post-backup hooks',
    async plan(ctx) {
      const cmds = ctx.config.backup.hooks[which];
      const at = hookPod(ctx);
      if (!at || cmds.length === 0)
        return { summary: 'no hooks configured', changes: [], payload: { commands: [] }, noop: true };
      return {
        summary: `${cmds.length} command(s) in ${at.namespace}/${at.pod}`,
        changes: cmds.map((c) => ({ action: 'run' as const, target: `pod ${at.namespace}/${at.pod}`, detail: c })),
        payload: { commands: cmds },
      };
    },
    async apply(ctx, p) {
      await runHooks(ctx, p.commands);
      return { ran: p.commands.length };
    },
    ...(which === 'pre'
      ? {
          async rollback(ctx: Ctx) {
            await runHooks(ctx, ctx.config.backup.hooks.post);
          },
        }
      : {}),
  };
}
