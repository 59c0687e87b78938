// Steps a drill adds around the other runbooks: a preflight of every server the drill touches, and a
// scratch database to restore into (created, then dropped), so a drill never overwrites live data.
import { StepError } from '../../core/errors.js';
import type { Ctx, Step } from '../../core/step.js';

export interface DrillPreflightResult {
  checks: Array<{ name: string; ok: boolean; detail: string }>;
}

async function queueLength(ctx: Ctx): Promise<number | undefined> {
  if (!ctx.config.redis.url) return undefined;
  const { connectRedis } = await import('../../adapters/redis.js');
  const r = await connectRedis(ctx.config.redis.url, { timeoutMs: 10_000 });
  try {
    return await r.llen(ctx.config.redis.queueKey);
  } finally {
    await r.quit().catch(() => {});
  }
}

export function drillPreflightStep(): Step<null, DrillPreflightResult> {
  return {
    id: 'drill-preflight',
    title: 'Preflight: primary cluster, database and queue answer',
    async plan() {
      return {
        summary: 'read-only checks',
        changes: [{ action: 'read', target: 'cluster, PostgreSQL, Redis' }],
        payload: null,
      };
    },
    async apply(ctx) {
      const checks: DrillPreflightResult['checks'] = [];
      const kc = await import('../../adapters/k8s-chaos.js');
      const k = await ctx.adapters.k8s();
      const r = await kc.reachable(k);
      checks.push({ name: 'primary cluster reachable', ok: r.ok, detail: r.ok ? k.server : (r.error ?? '') });
      for (const w of [ctx.config.platform.api, ctx.config.platform.agents]) {
        const ns =
          w === ctx.config.platform.api ? ctx.config.platform.namespaces.api : ctx.config.platform.namespaces.agents;
        const d = r.ok ? await kc.getDeployment(k, ns, w.deployment) : undefined;
        checks.push({
          name: `${ns}/${w.deployment} deployed`,
          ok: Boolean(d),
          detail: d ? `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0} ready` : 'missing',
        });
      }
      if (ctx.config.database.url) {
        try {
          await (await ctx.adapters.pg()).query(ctx.config.database.url, 'select 1', ctx.signal);
          checks.push({ name: 'database answers', ok: true, detail: 'select 1' });
        } catch (e) {
          checks.push({ name: 'database answers', ok: false, detail: (e as Error).message });
        }
      }
      try {
        const n = await queueLength(ctx);
        if (n !== undefined)
          checks.push({
            name: 'task queue answers',
            ok: Number.isFinite(n),
            detail: `${ctx.config.redis.queueKey} depth ${n}`,
          });
      } catch (e) {
        checks.push({ name: 'task queue answers', ok: false, detail: (e as Error).message });
      }
      const bad = checks.filter((c) => !c.ok);
      if (bad.length)
        throw new StepError(`drill preflight failed: ${bad.map((c) => `${c.name}: ${c.detail}`).join('; ')}`, {
          hint: 'nothing was changed; fix these (or run `hivectl drill --sandbox` for a local sandbox)',
        });
      return { checks };
    },
  };
}

/** URL of database `name` on the same server as `url`. Pure. */
export function databaseUrl(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export function scratchDbStep(name: string): Step<{ name: string }, { name: string; url: string }> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new StepError(`bad scratch database name ${name}`);
  return {
    id: 'scratch-db',
    title: `Create scratch database ${name} to restore into`,
    async plan() {
      return {
        summary: `CREATE DATABASE ${name}`,
        changes: [{ action: 'create', target: `database ${name}` }],
        payload: { name },
      };
    },
    async apply(ctx, p) {
      const url = ctx.config.database.url;
      if (!url) throw new StepError('no database.url: the drill restores into a scratch database on that server');
      const pg = await ctx.adapters.pg();
      const exists = await pg.query(url, `select 1 from pg_database where datname = '${p.name}'`, ctx.signal);
      if (exists.length === 0) await pg.query(url, `CREATE DATABASE "${p.name}"`, ctx.signal);
      return { name: p.name, url: databaseUrl(url, p.name) };
    },
    async rollback(ctx, r) {
      const url = ctx.config.database.url;
      if (url) await (await ctx.adapters.pg()).query(url, `DROP DATABASE IF EXISTS "${r.name}"`, ctx.signal);
    },
  };
}

export function dropScratchDbStep(name: string): Step<{ name: string }, { dropped: string }> {
  return {
    id: 'drop-scratch-db',
    title: `Drop scratch database ${name}`,
    async plan() {
      return {
        summary: `DROP DATABASE ${name}`,
        changes: [{ action: 'delete', target: `database ${name}` }],
        payload: { name },
      };
    },
    async apply(ctx, p) {
      const url = ctx.config.database.url;
      if (url)
        await (await ctx.adapters.pg()).query(url, `DROP DATABASE IF EXISTS "${p.name}" WITH (FORCE)`, ctx.signal);
      return { dropped: p.name };
    },
  };
}

// ---- `drill --sandbox` setup: what a real environment already has, created on the local sandbox ----

export function ensureSandboxRdsStep(o: {
  instanceId: string;
  replicaId: string;
}): Step<null, { instance: string; replica: string }> {
  return {
    id: 'sandbox-rds',
    title: `RDS (moto): primary ${o.instanceId} and its cross-region read replica ${o.replicaId}`,
    async plan(ctx) {
      return {
        summary: `${o.instanceId} in ${ctx.target.region}, replica ${o.replicaId} in ${ctx.target.drRegion}`,
        changes: [
          { action: 'create', target: `RDS ${ctx.target.region} ${o.instanceId}` },
          { action: 'create', target: `RDS ${ctx.target.drRegion} ${o.replicaId}` },
        ],
        payload: null,
      };
    },
    async apply(ctx) {
      if (!ctx.target.region || !ctx.target.drRegion) throw new StepError('the sandbox config has no regions');
      const rf = await import('../../adapters/rds-failover.js');
      const t = { region: ctx.target.region, endpointUrl: ctx.target.endpointUrl, profile: ctx.target.profile };
      const r = await rf.ensureInstanceWithReplica(
        t,
        ctx.target.region,
        o.instanceId,
        ctx.target.drRegion,
        o.replicaId,
      );
      return { instance: `${r.instance.id} ${r.instance.status}`, replica: `${r.replica.id} ${r.replica.status}` };
    },
  };
}

export function seedDataStep(o: {
  rows: number;
  tasks: number;
}): Step<null, { table: string; rows: number; queue: string; tasks: number }> {
  return {
    id: 'seed-data',
    title: `Seed data: ${o.rows} rows in PostgreSQL, ${o.tasks} tasks in the Redis queue`,
    async plan(ctx) {
      return {
        summary: `table hivectl_drill_orders, queue ${ctx.config.redis.queueKey}`,
        changes: [
          { action: 'create', target: 'table hivectl_drill_orders' },
          { action: 'update', target: `redis list ${ctx.config.redis.queueKey}` },
        ],
        payload: null,
      };
    },
    async apply(ctx) {
      const url = ctx.config.database.url;
      if (!url) throw new StepError('no database.url to seed');
      const pg = await ctx.adapters.pg();
      await pg.query(
        url,
        `CREATE TABLE IF NOT EXISTS hivectl_drill_orders (id bigint PRIMARY KEY, customer text NOT NULL, amount numeric(12,2) NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
         INSERT INTO hivectl_drill_orders (id, customer, amount)
           SELECT g, 'customer-' || (g % 97), (g * 7 % 1000) / 10.0 FROM generate_series(1, ${o.rows}) g
           ON CONFLICT (id) DO NOTHING`,
        ctx.signal,
      );
      if (ctx.config.redis.url) {
        const { connectRedis } = await import('../../adapters/redis.js');
        const r = await connectRedis(ctx.config.redis.url, { timeoutMs: 10_000 });
        try {
          await r.del(ctx.config.redis.queueKey);
          await r.rpush(
            ctx.config.redis.queueKey,
            ...Array.from({ length: o.tasks }, (_, i) => JSON.stringify({ id: `drill-${i}`, kind: 'summarise' })),
          );
        } finally {
          await r.quit().catch(() => {});
        }
      }
      return {
        table: 'hivectl_drill_orders',
        rows: o.rows,
        queue: ctx.config.redis.queueKey,
        tasks: ctx.config.redis.url ? o.tasks : 0,
      };
    },
  };
}

/** Opt the agents namespace into chaos, so the drill's experiment needs no --include-unlabelled. */
export function chaosOptInStep(): Step<null, { namespace: string }> {
  return {
    id: 'chaos-opt-in',
    title: 'Label the agents namespace chaos.hive.dev/enabled=true',
    async plan(ctx) {
      return {
        summary: ctx.config.platform.namespaces.agents,
        changes: [{ action: 'update', target: `v1 Namespace ${ctx.config.platform.namespaces.agents}` }],
        payload: null,
      };
    },
    async apply(ctx) {
      const kc = await import('../../adapters/k8s-chaos.js');
      const ns = ctx.config.platform.namespaces.agents;
      await kc.mergePatch(
        await ctx.adapters.k8s(),
        { apiVersion: 'v1', kind: 'Namespace', name: ns },
        { metadata: { labels: { 'chaos.hive.dev/enabled': 'true' } } },
      );
      return { namespace: ns };
    },
  };
}

/** DR as a pilot light: bootstrapped, scaled to 0 until a failover brings it up. */
export function pilotLightStep(): Step<null, { scaled: string[] }> {
  return {
    id: 'dr-pilot-light',
    title: 'Scale the DR workloads to 0 (pilot light)',
    async plan(ctx) {
      return {
        summary: `${ctx.config.cluster.drContext}: API and agents -> 0`,
        changes: [{ action: 'update', target: 'DR Deployments', detail: 'replicas -> 0' }],
        payload: null,
      };
    },
    async apply(ctx) {
      const kc = await import('../../adapters/k8s-chaos.js');
      const k = await ctx.adapters.k8s(ctx.config.cluster.drContext);
      const p = ctx.config.platform;
      const scaled: string[] = [];
      for (const [ns, name] of [
        [p.namespaces.api, p.api.deployment],
        [p.namespaces.agents, p.agents.deployment],
      ] as const) {
        if (await kc.getDeployment(k, ns, name)) {
          await kc.scaleDeployment(k, ns, name, 0);
          scaled.push(`${ns}/${name}`);
        }
      }
      return { scaled };
    },
  };
}

export function ensureNamespacesStep(contexts: Array<string | undefined>): Step<null, { namespace: string }> {
  return {
    id: 'state-namespace',
    title: "hivectl's namespace exists on every cluster",
    async plan(ctx) {
      return {
        summary: ctx.target.namespace,
        changes: [{ action: 'create', target: `v1 Namespace ${ctx.target.namespace}` }],
        payload: null,
      };
    },
    async apply(ctx) {
      const { ensureNamespace } = await import('../../chaos/faults.js');
      for (const c of contexts) await ensureNamespace(await ctx.adapters.k8s(c), ctx.target.namespace);
      return { namespace: ctx.target.namespace };
    },
  };
}
