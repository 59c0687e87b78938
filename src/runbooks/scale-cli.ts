// The actions behind `hivectl scale` (src/commands/scale.ts).
import type { Command } from 'commander';
import { loadCommandEnv, runRunbookCommand } from '../core/command.js';
import { parseDurationMs } from '../core/duration.js';
import { UsageError } from '../core/errors.js';
import { scaleAgentsRunbook, scalePolicyRunbook, scaleResumeRunbook } from './scale.js';

function int(v: string | undefined, what: string, min = 0): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${what} ${v}: use a whole number >= ${min}`);
  return n;
}

export async function scaleAgents(cmd: Command, o: { replicas?: string; pauseAutoscaler: boolean }): Promise<void> {
  const replicas = int(o.replicas, '--replicas');
  if (replicas === undefined)
    throw new UsageError('--replicas is required', { hint: 'e.g. hivectl scale agents --replicas 5' });
  await runRunbookCommand(cmd, () => scaleAgentsRunbook({ replicas, pauseAutoscaler: o.pauseAutoscaler }));
}

export async function scaleResume(cmd: Command): Promise<void> {
  await runRunbookCommand(cmd, () => scaleResumeRunbook());
}

export async function scalePolicy(
  cmd: Command,
  o: { min?: string; max?: string; perAgent?: string; scaleDownWindow?: string },
): Promise<void> {
  await runRunbookCommand(cmd, (env) => {
    const s = env.config.scaling;
    const min = int(o.min, '--min') ?? s.min;
    const max = int(o.max, '--max', 1) ?? s.max;
    const perAgent = int(o.perAgent, '--per-agent', 1) ?? s.perAgent;
    if (min > max) throw new UsageError(`--min ${min} is greater than --max ${max}`, { hint: 'pass --min <= --max' });
    const windowS = Math.round(parseDurationMs(o.scaleDownWindow ?? s.scaleDownWindow, '--scale-down-window') / 1000);
    return scalePolicyRunbook({ min, max, perAgent, scaleDownWindowSeconds: windowS });
  });
}

async function queueDepth(
  url: string | undefined,
  key: string,
): Promise<{ key: string; depth: number | null; error?: string }> {
  if (!url) return { key, depth: null, error: 'redis.url is not configured' };
  const { connectRedis } = await import('../adapters/redis.js');
  try {
    const r = await connectRedis(url);
    try {
      return { key, depth: await r.llen(key) };
    } finally {
      await r.quit();
    }
  } catch (e) {
    return { key, depth: null, error: (e as Error).message };
  }
}

export async function scaleStatus(cmd: Command): Promise<void> {
  const env = await loadCommandEnv(cmd);
  const { rawKube } = await import('../adapters/k8s-apply.js');
  const { readAgents, statusOf, agentsTarget } = await import('../steps/k8s/scale.js');
  const t = agentsTarget({ config: env.config } as Parameters<typeof agentsTarget>[0]);
  const raw = await rawKube(await env.adapters.k8s());
  const [st, queue] = await Promise.all([
    readAgents(raw, t),
    queueDepth(env.config.redis.url, env.config.redis.queueKey),
  ]);
  const s = statusOf(st, t, queue);
  env.io.result(s, () => {
    const a = s.autoscaler;
    const lines = [
      `agents     ${s.namespace}/${s.deployment}: ${s.replicas.ready}/${s.replicas.desired} ready`,
      `queue      ${s.queue.key}: ${s.queue.depth ?? `unknown (${s.queue.error})`}`,
      `busy/idle  ${s.agents.busy} busy, ${s.agents.idle} idle, ${s.agents.unknown} not reporting`,
      a
        ? `autoscaler ${a.kind} ${a.name}: ${a.min}..${a.max}, ${a.perAgent ?? '?'} per agent${a.paused ? ', PAUSED' : ''}`
        : 'autoscaler none',
      ...(a?.conditions ?? []).map(
        (c) => `           ${c.type}=${c.status} ${c.reason ?? ''}${c.message ? `: ${c.message}` : ''}`,
      ),
    ];
    return `${lines.join('\n')}\n`;
  });
}

export async function scaleAuto(cmd: Command, o: { once: boolean; watch: boolean; interval: string }): Promise<void> {
  if (o.once === o.watch) throw new UsageError('pass exactly one of --once and --watch');
  const env = await loadCommandEnv(cmd);
  const intervalMs = parseDurationMs(o.interval, '--interval');
  const { rawKube } = await import('../adapters/k8s-apply.js');
  const { autoscaleOnce, agentsTarget } = await import('../steps/k8s/scale.js');
  const t = agentsTarget({ config: env.config } as Parameters<typeof agentsTarget>[0]);
  const raw = await rawKube(await env.adapters.k8s());
  const s = env.config.scaling;
  const fallback = { min: s.min, max: s.max, perAgent: s.perAgent };
  const windowMs = parseDurationMs(s.scaleDownWindow, 'scaling.scaleDownWindow');
  const key = env.config.redis.queueKey;
  const pass = async () => {
    const q = await queueDepth(env.config.redis.url, key);
    if (q.depth === null)
      throw new UsageError(`cannot read the queue depth: ${q.error}`, {
        hint: 'set redis.url in hivectl.yaml (or REDIS_URL)',
      });
    return autoscaleOnce(raw, t, { depth: q.depth, fallback, windowMs, dryRun: env.mode.dryRun });
  };
  if (o.once) {
    const d = await pass();
    env.io.result(
      d,
      () =>
        `queue ${d.depth} -> recommended ${d.recommended}; ${d.reason}${d.scaled ? ` (scaled ${d.current} -> ${d.replicas})` : ''}\n`,
    );
    return;
  }
  // --watch: a control loop until Ctrl-C; each decision is one line (NDJSON with -o json).
  const ctl = new AbortController();
  const stop = () => ctl.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  while (!ctl.signal.aborted) {
    try {
      const d = await pass();
      if (env.mode.output === 'json') process.stdout.write(`${JSON.stringify(d)}\n`);
      else
        env.io.info(
          `queue ${d.depth} -> ${d.recommended}; ${d.reason}${d.scaled ? ` (scaled ${d.current} -> ${d.replicas})` : ''}`,
        );
    } catch (e) {
      env.io.warn(`scale auto: ${(e as Error).message}`);
    }
    await new Promise<void>((r) => {
      const timer = setTimeout(r, intervalMs);
      ctl.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          r();
        },
        { once: true },
      );
    });
  }
}
