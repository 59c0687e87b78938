// `hivectl scale agents|resume|policy|status|auto`. Light at top level: the work is in
// src/runbooks/scale-cli.ts, imported inside the actions.
import type { Command } from 'commander';

export function register(program: Command): void {
  const scale = program.command('scale').description('scale the agent workers: by hand, by policy, or on queue depth');
  scale
    .command('agents')
    .description('set the agents replica count (scale subresource; idle agents are removed first)')
    .requiredOption('--replicas <n>', 'replica count')
    .option('--pause-autoscaler', 'pause the HPA (min = max) or KEDA ScaledObject that owns the count', false)
    .action(async (o: { replicas?: string; pauseAutoscaler: boolean }, cmd: Command) => {
      const m = await import('../runbooks/scale-cli.js');
      await m.scaleAgents(cmd, o);
    });
  scale
    .command('resume')
    .description('hand the agents back to their autoscaler after --pause-autoscaler')
    .action(async (_o: unknown, cmd: Command) => {
      const m = await import('../runbooks/scale-cli.js');
      await m.scaleResume(cmd);
    });
  scale
    .command('policy')
    .description('write the autoscaling policy: bounds, tasks per agent, scale-down stabilization window')
    .option('--min <n>', 'fewest agents (default: scaling.min)')
    .option('--max <n>', 'most agents; must fit the namespace quota (default: scaling.max)')
    .option('--per-agent <n>', 'queued tasks per agent (default: scaling.perAgent)')
    .option(
      '--scale-down-window <duration>',
      'scale-down stabilization window, e.g. 5m (default: scaling.scaleDownWindow)',
    )
    .action(async (o: Record<string, string | undefined>, cmd: Command) => {
      const m = await import('../runbooks/scale-cli.js');
      await m.scalePolicy(cmd, o);
    });
  scale
    .command('status')
    .description('replicas (desired, ready), queue depth, autoscaler and its conditions, busy vs idle agents')
    .action(async (_o: unknown, cmd: Command) => {
      const m = await import('../runbooks/scale-cli.js');
      await m.scaleStatus(cmd);
    });
  scale
    .command('auto')
    .description('scale on queue depth without KEDA: clamp(ceil(depth / per-agent), min, max), stabilized')
    .option('--once', 'one decision, then exit', false)
    .option('--watch', 'decide every --interval until interrupted', false)
    .option('--interval <duration>', 'with --watch: time between decisions', '15s')
    .action(async (o: { once: boolean; watch: boolean; interval: string }, cmd: Command) => {
      const m = await import('../runbooks/scale-cli.js');
      await m.scaleAuto(cmd, o);
    });
}
