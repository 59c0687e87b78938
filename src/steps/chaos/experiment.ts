// The steps of a chaos experiment: steady state before, open the fault ledger, each action (undo
// journalled before the fault), observe for the duration (hypothesis + abort conditions + kill
// switch), roll the faults back per the rollback strategy, steady state after.
import type { K8s } from '../../adapters/k8s.js';
import { type ActionOutcome, applyAction, forceDbFailover, planAction } from '../../chaos/actions.js';
import {
  cleanupFaults,
  type Fault,
  ledgerName,
  openLedger,
  readLedger,
  revertFault,
  setLedgerStatus,
} from '../../chaos/faults.js';
import {
  type DeploymentView,
  isWatchable,
  type ProbeEnv,
  type ProbeResult,
  requirePrometheus,
  runProbes,
} from '../../chaos/probes.js';
import { type Action, allProbes, type Experiment, type Probe } from '../../chaos/schema.js';
import { parseDurationMs } from '../../core/duration.js';
import { StepError } from '../../core/errors.js';
import type { Ctx, Step } from '../../core/step.js';

export interface ChaosOptions {
  /** Kube context of the cluster under test (default: the target's). */
  context?: string | undefined;
}

export const LEDGER_STEP = 'chaos-ledger';
export const OBSERVE_STEP = 'chaos-observe';
export const BEFORE_STEP = 'chaos-steady-before';
export const AFTER_STEP = 'chaos-steady-after';
export const CLEANUP_STEP = 'chaos-rollback';

export interface LedgerResult {
  namespace: string;
  configMap: string;
  expiresAt: string;
  expiredCleaned: string[];
}

export interface ObserveResult {
  samples: Array<{ at: string; probes: ProbeResult[] }>;
  deviated: boolean;
  durationMs: number;
}

export interface SteadyResult {
  probes: ProbeResult[];
  ok: boolean;
  /** After: how long it took to return to steady state (ms), when it did. */
  recoveredInMs?: number;
}

async function k8sOf(ctx: Ctx, o: ChaosOptions): Promise<K8s> {
  return ctx.adapters.k8s(o.context);
}

/** A step's probe environment; close() ends the Redis connection its queue-depth probes share. */
type StepProbeEnv = ProbeEnv & { close(): Promise<void> };

async function probeEnv(ctx: Ctx, o: ChaosOptions): Promise<StepProbeEnv> {
  const exec = await import('../../adapters/exec.js');
  const prom = ctx.config.prometheus;
  let promTarget: import('../../adapters/prometheus.js').PrometheusTarget | undefined;
  // One Redis connection for all of a step's queue-depth reads (one a second while observing), not a
  // connection each; dropped on any error so the next read reconnects.
  let redis: { url: string; conn: Promise<import('../../adapters/redis.js').Redis> } | undefined;
  const dropRedis = async () => {
    const r = redis;
    redis = undefined;
    if (r) await (await r.conn.catch(() => undefined))?.quit().catch(() => {});
  };
  return {
    close: dropRedis,
    promQuery: prom.url
      ? async (query, signal) => {
          const m = await import('../../adapters/prometheus.js');
          if (!promTarget) {
            promTarget = m.resolvePrometheus({
              url: prom.url,
              bearerTokenEnv: prom.bearerTokenEnv,
              bearerTokenFile: prom.bearerTokenFile,
              timeoutMs: parseDurationMs(prom.timeout, 'prometheus.timeout'),
            });
            ctx.registerSecret(promTarget?.bearerToken);
          }
          if (!promTarget) throw new Error('no Prometheus configured: set prometheus.url');
          return m.instantQuery(promTarget, query, signal);
        }
      : undefined,
    k: await k8sOf(ctx, o),
    redisUrl: ctx.config.redis.url,
    queueKey: ctx.config.redis.queueKey,
    signal: ctx.signal,
    runCommand: async (argv, signal) =>
      (await exec.run(argv[0] as string, argv.slice(1), { signal, reject: false, timeoutMs: 30_000 })).exitCode,
    queueLength: async (url, key) => {
      if (redis?.url !== url) {
        await dropRedis();
        const { connectRedis } = await import('../../adapters/redis.js');
        redis = { url, conn: connectRedis(url, { timeoutMs: 10_000 }) };
      }
      try {
        return await (await redis.conn).llen(key);
      } catch (e) {
        await dropRedis();
        throw e;
      }
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function failed(ps: ProbeResult[]): string {
  return ps
    .filter((p) => !p.ok)
    .map((p) => `${p.name} (saw ${p.value ?? p.detail ?? '?'})`)
    .join('; ');
}

export function steadyBeforeStep(exp: Experiment, o: ChaosOptions): Step<Probe[], SteadyResult> {
  return {
    id: BEFORE_STEP,
    title: 'Steady state before: probe the hypothesis',
    async plan(ctx) {
      const probes = exp.spec.hypothesis.probes;
      requirePrometheus(allProbes(exp), ctx.config.prometheus.url);
      return {
        summary: `${probes.length} probe(s)`,
        changes: probes.map((p) => ({ action: 'read' as const, target: p.type, detail: JSON.stringify(p) })),
        payload: probes,
      };
    },
    async apply(ctx, probes) {
      const penv = await probeEnv(ctx, o);
      const r = await runProbes(penv, probes).finally(penv.close);
      if (r.some((p) => !p.ok))
        throw new StepError(`the system is not in its steady state before the experiment: ${failed(r)}`, {
          hint: 'fix the system (or the hypothesis) first: no fault was injected',
        });
      return { probes: r, ok: true };
    },
  };
}

export function ledgerStep(exp: Experiment, o: ChaosOptions): Step<{ ttlMs: number }, LedgerResult> {
  return {
    id: LEDGER_STEP,
    title: 'Open the fault ledger (undo records for every fault)',
    async plan(ctx) {
      return {
        summary: `ConfigMap ${ctx.target.namespace}/${ledgerName(ctx.runId)}`,
        changes: [{ action: 'create', target: `v1 ConfigMap ${ctx.target.namespace}/${ledgerName(ctx.runId)}` }],
        payload: { ttlMs: parseDurationMs(exp.spec.ttl, 'spec.ttl') },
      };
    },
    async apply(ctx, p) {
      const k = await k8sOf(ctx, o);
      // Faults that outlived their expiry (a run killed long ago) go before new ones come.
      const expired = await cleanupFaults(k, ctx.target.namespace, { expiredOnly: true });
      const prior = ctx.results.get(LEDGER_STEP) as LedgerResult | undefined;
      const expiresAt = prior ? new Date(prior.expiresAt) : new Date(Date.now() + p.ttlMs);
      await openLedger(k, ctx.target.namespace, ctx.runId, exp.metadata.name, expiresAt);
      ctx.note(LEDGER_STEP, { ledger: ledgerName(ctx.runId), expiresAt: expiresAt.toISOString() });
      return {
        namespace: ctx.target.namespace,
        configMap: ledgerName(ctx.runId),
        expiresAt: expiresAt.toISOString(),
        expiredCleaned: expired.runs,
      };
    },
    async rollback(ctx) {
      const k = await k8sOf(ctx, o);
      const r = await cleanupFaults(k, ctx.target.namespace, { runIds: [ctx.runId] });
      if (r.errors.length)
        throw new StepError(`chaos cleanup left faults behind: ${r.errors.join('; ')}`, {
          hint: 'run `hivectl chaos cleanup` once the cluster answers',
        });
    },
  };
}

async function checkNotAborted(ctx: Ctx, k: K8s): Promise<void> {
  const l = await readLedger(k, ctx.target.namespace, ctx.runId);
  // A ledger removed under a running experiment means `chaos abort`/`cleanup` took its faults away.
  if (!l || l.status === 'aborted')
    throw new StepError('experiment aborted by `hivectl chaos abort`', { hint: 'its faults are being rolled back' });
}

export function actionStep(
  exp: Experiment,
  o: ChaosOptions,
  a: Action,
  index: number,
): Step<{ targets: string[] }, ActionOutcome> {
  const id = `chaos-action-${index + 1}-${a.type}`;
  const env = async (ctx: Ctx) => {
    const led = ctx.results.get(LEDGER_STEP) as LedgerResult | undefined;
    return {
      k: await k8sOf(ctx, o),
      stateNamespace: ctx.target.namespace,
      runId: ctx.runId,
      expiresAt: led ? new Date(led.expiresAt) : new Date(Date.now() + parseDurationMs(exp.spec.ttl)),
      includeUnlabelled: exp.spec.includeUnlabelled,
      maxUnavailable: exp.spec.maxUnavailable,
      signal: ctx.signal,
      runCommand: async (argv: string[]) => {
        const exec = await import('../../adapters/exec.js');
        return (await exec.run(argv[0] as string, argv.slice(1), { signal: ctx.signal, reject: false })).exitCode;
      },
      dbFailover: (d: Extract<Action, { type: 'db-failover' }>) =>
        forceDbFailover(d, {
          aws: { region: ctx.target.region, endpointUrl: ctx.target.endpointUrl, profile: ctx.target.profile },
          defaults: ctx.config.database,
          signal: ctx.signal,
          timeoutMs: ctx.mode.timeoutMs,
        }),
    };
  };
  return {
    id,
    title: `Inject: ${a.type}`,
    destructive: a.type !== 'wait' && a.type !== 'command',
    async plan(ctx) {
      const p = await planAction(await env(ctx), a);
      return {
        summary:
          p.note ?? (p.targets.length ? p.targets.join(', ') : a.type === 'wait' ? `wait ${a.duration}` : 'no target'),
        changes: p.targets.map((t) => ({
          action: a.type === 'pod-kill' ? ('delete' as const) : ('update' as const),
          target: t,
          detail: a.type,
        })),
        payload: { targets: p.targets },
      };
    },
    async apply(ctx, p) {
      const e = await env(ctx);
      await checkNotAborted(ctx, e.k);
      // Targets are re-planned at apply time: pods killed by an earlier action have new names.
      const targets = a.type === 'pod-kill' || a.type === 'node-failure' ? (await planAction(e, a)).targets : p.targets;
      if (a.type === 'wait') await sleep(parseDurationMs(a.duration), ctx.signal);
      const out = await applyAction(e, a, targets);
      ctx.note(id, { action: a.type, targets, faults: out.faults.length });
      return out;
    },
    async rollback(ctx, r) {
      const k = await k8sOf(ctx, o);
      for (const f of [...r.faults].reverse() as Fault[]) await revertFault(k, f);
    },
  };
}

export function observeStep(
  exp: Experiment,
  o: ChaosOptions,
): Step<{ durationMs: number; intervalMs: number }, ObserveResult> {
  return {
    id: OBSERVE_STEP,
    title: `Observe the hypothesis for ${exp.spec.duration}`,
    async plan(ctx) {
      requirePrometheus(allProbes(exp), ctx.config.prometheus.url);
      const durationMs = parseDurationMs(exp.spec.duration, 'spec.duration');
      const intervalMs = Math.max(200, parseDurationMs(exp.spec.interval, 'spec.interval'));
      return {
        summary: `probe every ${exp.spec.interval} for ${exp.spec.duration}; ${exp.spec.abortWhen.length} abort condition(s)`,
        changes: [{ action: 'read', target: 'steady-state hypothesis, abort conditions, kill switch' }],
        payload: { durationMs, intervalMs },
      };
    },
    async apply(ctx, p) {
      const penv = await probeEnv(ctx, o);
      const watch = await observeByWatch(ctx, penv, exp);
      try {
        return await observeLoop(ctx, penv, exp, p, watch);
      } finally {
        await Promise.all([watch.close(), penv.close()]);
      }
    },
  };
}

interface Observation {
  /** The kill switch fired: the ledger was marked aborted or removed. */
  killed(): boolean;
  /** The watch on the ledger is in sync (else the loop reads the ledger itself every interval). */
  ledgerSynced(): boolean;
  /** Something watched changed since the last call (and clears the flag). */
  takeDirty(): boolean;
  /** Resolves after ms, or at once when something watched changes or the run is interrupted. */
  wait(ms: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * One watch per Deployment a ready-replicas probe names and one on this run's ledger ConfigMap (the
 * kill switch). Probes then read Deployments from memory, and `chaos abort` is noticed as soon as
 * the apiserver reports it, instead of a GET of each every interval.
 */
async function observeByWatch(ctx: Ctx, penv: ProbeEnv, exp: Experiment): Promise<Observation> {
  const { watchObject } = await import('../../adapters/k8s-watch.js');
  const key = (ns: string, n: string) => `${ns}/${n}`;
  const deployments = new Map<string, import('../../adapters/k8s-watch.js').ObjectWatch<DeploymentView>>();
  for (const q of allProbes(exp)) {
    if (!isWatchable(q) || deployments.has(key(q.namespace, q.deployment))) continue;
    const path = `/apis/apps/v1/namespaces/${encodeURIComponent(q.namespace)}/deployments`;
    deployments.set(key(q.namespace, q.deployment), watchObject(penv.k, path, q.deployment, { signal: ctx.signal }));
  }
  const ledger = watchObject<{ metadata?: { name?: string }; data?: Record<string, string> }>(
    penv.k,
    `/api/v1/namespaces/${encodeURIComponent(ctx.target.namespace)}/configmaps`,
    ledgerName(ctx.runId),
    { signal: ctx.signal },
  );
  let killed = false;
  let dirty = false;
  let wake = () => {};
  const onLedger = (st: { synced: boolean; object?: { data?: Record<string, string> } | undefined }) => {
    // A ledger removed under a running experiment means `chaos abort`/`cleanup` took its faults away.
    if (st.synced && (!st.object || st.object.data?.status === 'aborted')) {
      killed = true;
      wake();
    }
  };
  ledger.onChange(onLedger);
  for (const w of deployments.values())
    w.onChange(() => {
      dirty = true;
      wake();
    });
  // The first list of each answered or failed (a failed one is read by GETs instead); the cap is for
  // an apiserver that does not answer at all.
  const settle = new Promise<void>((r) => setTimeout(r, 10_000).unref());
  await Promise.race([Promise.all([ledger.ready, ...[...deployments.values()].map((w) => w.ready)]), settle]);
  onLedger(ledger.current());
  penv.watchedDeployment = (ns, n) => deployments.get(key(ns, n))?.current();
  return {
    killed: () => killed,
    ledgerSynced: () => ledger.current().synced,
    takeDirty() {
      const d = dirty;
      dirty = false;
      return d;
    },
    wait(ms) {
      if (killed || dirty || ctx.signal.aborted) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const t = setTimeout(done, Math.max(0, ms));
        function done() {
          clearTimeout(t);
          wake = () => {};
          ctx.signal.removeEventListener('abort', done);
          resolve();
        }
        wake = done;
        ctx.signal.addEventListener('abort', done, { once: true });
      });
    },
    async close() {
      await Promise.all([ledger.close(), ...[...deployments.values()].map((w) => w.close())]);
    },
  };
}

/**
 * Watched probes are judged on every change of their object (a dip between two ticks is not missed)
 * and at each tick; the others (queue depth, pod restarts, commands, Prometheus) every interval.
 */
async function observeLoop(
  ctx: Ctx,
  penv: ProbeEnv,
  exp: Experiment,
  p: { durationMs: number; intervalMs: number },
  obs: Observation,
): Promise<ObserveResult> {
  const hyp = exp.spec.hypothesis.probes;
  const abortWhen = exp.spec.abortWhen;
  const polled = (ps: Probe[]) => ps.filter((q) => !isWatchable(q));
  const watched = (ps: Probe[]) => ps.filter((q) => isWatchable(q));
  // Results in the experiment's order: the latest polled result of each, then the watched ones.
  const merge = (ps: Probe[], pollRes: ProbeResult[], watchRes: ProbeResult[]) => {
    let i = 0;
    let j = 0;
    return ps.map((q) => (isWatchable(q) ? (watchRes[j++] as ProbeResult) : (pollRes[i++] as ProbeResult)));
  };
  const interrupted = () => new StepError('experiment interrupted');
  const killedError = () =>
    new StepError('experiment aborted by `hivectl chaos abort`', { hint: 'its faults are being rolled back' });
  const start = Date.now();
  const samples: ObserveResult['samples'] = [];
  let deviated = false;
  let hypPolled: ProbeResult[] = [];
  let abortPolled: ProbeResult[] = [];
  let nextPoll = start;
  for (;;) {
    if (ctx.signal.aborted) throw interrupted();
    if (obs.killed()) throw killedError();
    const dirty = obs.takeDirty();
    const tick = Date.now() >= nextPoll;
    if (tick) {
      // Without a watch on the ledger (refused, or being re-established), read it as before: a GET a tick.
      if (!obs.ledgerSynced()) await checkNotAborted(ctx, penv.k);
      [hypPolled, abortPolled] = await Promise.all([runProbes(penv, polled(hyp)), runProbes(penv, polled(abortWhen))]);
      nextPoll = Date.now() + p.intervalMs;
    }
    if (tick || dirty) {
      const [hw, aw] = await Promise.all([runProbes(penv, watched(hyp)), runProbes(penv, watched(abortWhen))]);
      const probes = merge(hyp, hypPolled, hw);
      const aborts = merge(abortWhen, abortPolled, aw);
      samples.push({ at: new Date().toISOString(), probes });
      if (probes.some((x) => !x.ok)) deviated = true;
      if (aborts.some((x) => !x.ok))
        throw new StepError(`abort condition hit: ${failed(aborts)}`, { hint: 'the faults are rolled back' });
    }
    if (obs.killed()) throw killedError();
    const left = p.durationMs - (Date.now() - start);
    if (left <= 0) break;
    await obs.wait(Math.min(nextPoll - Date.now(), left));
  }
  return { samples, deviated, durationMs: Date.now() - start };
}

export interface RollbackResult {
  strategy: Experiment['spec']['rollbackStrategy'];
  rolledBack: boolean;
  reverted: string[];
  commands: Array<{ command: string[]; exitCode: number }>;
}

export function rollbackFaultsStep(exp: Experiment, o: ChaosOptions): Step<null, RollbackResult> {
  return {
    id: CLEANUP_STEP,
    title: `Roll back the faults (strategy: ${exp.spec.rollbackStrategy})`,
    async plan() {
      return {
        summary: `rollback strategy ${exp.spec.rollbackStrategy}`,
        changes: [{ action: 'delete', target: 'every fault in the ledger', detail: exp.spec.rollbackStrategy }],
        payload: null,
      };
    },
    async apply(ctx) {
      const k = await k8sOf(ctx, o);
      const obs = ctx.results.get(OBSERVE_STEP) as ObserveResult | undefined;
      const s = exp.spec.rollbackStrategy;
      const doIt = s === 'always' || (s === 'deviated' && Boolean(obs?.deviated));
      const out: RollbackResult = { strategy: s, rolledBack: doIt, reverted: [], commands: [] };
      if (!doIt) {
        await setLedgerStatus(k, ctx.target.namespace, ctx.runId, 'finished');
        return out;
      }
      const r = await cleanupFaults(k, ctx.target.namespace, { runIds: [ctx.runId] });
      out.reverted = r.reverted;
      if (r.errors.length) throw new StepError(`could not roll back every fault: ${r.errors.join('; ')}`);
      if (exp.spec.rollbacks.length) {
        const exec = await import('../../adapters/exec.js');
        for (const rb of exp.spec.rollbacks) {
          const res = await exec.run(rb.command[0] as string, rb.command.slice(1), {
            signal: ctx.signal,
            reject: false,
          });
          out.commands.push({ command: rb.command, exitCode: res.exitCode });
        }
      }
      return out;
    },
  };
}

export function steadyAfterStep(exp: Experiment, o: ChaosOptions): Step<Probe[], SteadyResult> {
  return {
    id: AFTER_STEP,
    title: 'Steady state after: probe the hypothesis until it holds (or the timeout)',
    async plan() {
      const probes = exp.spec.hypothesis.probes;
      return {
        summary: `${probes.length} probe(s)`,
        changes: probes.map((p) => ({ action: 'read' as const, target: p.type })),
        payload: probes,
      };
    },
    async apply(ctx, probes) {
      const penv = await probeEnv(ctx, o);
      const start = Date.now();
      // Recovery is part of the hypothesis: give the system the wait timeout to get back.
      const deadline = start + Math.min(ctx.mode.timeoutMs, 120_000);
      try {
        for (;;) {
          const r = await runProbes(penv, probes);
          if (r.every((p) => p.ok)) return { probes: r, ok: true, recoveredInMs: Date.now() - start };
          if (Date.now() > deadline || ctx.signal.aborted) return { probes: r, ok: false };
          await sleep(500, ctx.signal);
        }
      } finally {
        await penv.close();
      }
    },
  };
}
