// The values the templates see: templates/values/base.yaml, overridden by the environment's file,
// overridden by hivectl.yaml. Derived values (quotas, HPA bounds, endpoints) are computed here, once.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { HivectlConfig } from '../core/config.js';
import { parseDurationMs } from '../core/duration.js';
import { formatCpu, formatMemory, parseCpuMillis, parseMemoryBytes } from './quantity.js';
import type { Capabilities, StackEnv } from './types.js';

type Tree = Record<string, unknown>;

function isTree(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepMerge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isTree(b) && isTree(v) ? deepMerge(b, v) : v;
  }
  return out;
}

export function loadEnvValues(templatesDir: string, env: StackEnv): Tree {
  const read = (f: string): Tree => (parse(readFileSync(join(templatesDir, 'values', f), 'utf8')) as Tree) ?? {};
  return deepMerge(read('base.yaml'), read(`${env}.yaml`));
}

interface Resources {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

/** Quota that holds `pods` pods of `r`: the hard limits scale with the pod count. */
function quotaFor(pods: number, r: Resources) {
  return {
    pods: String(pods),
    requestsCpu: formatCpu(parseCpuMillis(r.requests.cpu) * pods),
    requestsMemory: formatMemory(parseMemoryBytes(r.requests.memory) * pods),
    limitsCpu: formatCpu(parseCpuMillis(r.limits.cpu) * pods),
    limitsMemory: formatMemory(parseMemoryBytes(r.limits.memory) * pods),
  };
}

/** Surge pods a rolling update of `replicas` may add (maxSurge 25%, at least 1). */
export function surgeFor(replicas: number): number {
  return Math.max(1, Math.ceil(replicas * 0.25));
}

function parseEndpoint(url: string | undefined, defHost: string, defPort: number) {
  if (!url) return { host: defHost, port: defPort, path: '', user: '' };
  try {
    const u = new URL(url);
    return {
      host: u.hostname || defHost,
      port: u.port ? Number(u.port) : defPort,
      path: u.pathname.replace(/^\//, ''),
      user: u.username,
    };
  } catch {
    return { host: defHost, port: defPort, path: '', user: '' };
  }
}

export interface ValuesOptions {
  env: StackEnv;
  capabilities?: Capabilities | undefined;
  secrets?: Record<string, string> | undefined;
}

export function buildValues(config: HivectlConfig, envValues: Tree, opts: ValuesOptions): Tree {
  const p = config.platform;
  const ev = envValues as {
    api: Tree & {
      resources: Resources;
      autoscaling: { maxFactor: number; cpuUtilization: number; memoryUtilization: number };
      pdb: { maxUnavailable: unknown };
    };
    agents: Tree & { resources: Resources; pdb: { maxUnavailable: unknown } };
    database: { host: string; port: number; name: string };
    podSecurity: Tree;
  } & Tree;
  const apiRes: Resources = (p.api.resources as Resources | undefined) ?? ev.api.resources;
  const agentRes: Resources = (p.agents.resources as Resources | undefined) ?? ev.agents.resources;
  const hpaMin = Math.max(1, p.api.replicas);
  const hpaMax = Math.max(hpaMin, Math.ceil(hpaMin * ev.api.autoscaling.maxFactor));
  const s = config.scaling;
  const windowSeconds = Math.round(parseDurationMs(s.scaleDownWindow, 'scaling.scaleDownWindow') / 1000);

  const db = parseEndpoint(config.database.url, ev.database.host, ev.database.port);
  const database = db.path || ev.database.name;
  const dbUrl = config.database.url ?? `postgres://${db.host}:${db.port}/${database}`;
  const redis = parseEndpoint(config.redis.url, 'redis.database.svc', 6379);

  return {
    ...ev,
    env: opts.env,
    instance: p.namespaces.api,
    ns: { ...p.namespaces },
    pss: ev.podSecurity,
    priority: { api: `${p.namespaces.api}-priority`, agents: `${p.namespaces.agents}-priority` },
    api: {
      ...ev.api,
      name: p.api.deployment,
      image: p.api.image,
      replicas: p.api.replicas,
      resources: apiRes,
      hpaMin,
      hpaMax,
      cpuUtilization: ev.api.autoscaling.cpuUtilization,
      memoryUtilization: ev.api.autoscaling.memoryUtilization,
      pdbMaxUnavailable: ev.api.pdb.maxUnavailable,
    },
    agents: {
      ...ev.agents,
      name: p.agents.deployment,
      image: p.agents.image,
      // Start inside the autoscaler's bounds.
      replicas: Math.min(Math.max(p.agents.replicas, s.min), s.max),
      resources: agentRes,
      pdbMaxUnavailable: ev.agents.pdb.maxUnavailable,
      workspaceDir: config.backup.workspaceDir,
    },
    quota: {
      api: quotaFor(hpaMax + surgeFor(hpaMax), apiRes),
      // Room for scaling.max agents plus a rolling update's surge.
      agents: quotaFor(s.max + surgeFor(s.max), agentRes),
    },
    scaling: {
      min: s.min,
      max: s.max,
      perAgent: s.perAgent,
      perAgentString: String(s.perAgent),
      scaleDownWindowSeconds: windowSeconds,
      behavior: {
        scaleUp: {
          stabilizationWindowSeconds: 0,
          selectPolicy: 'Max',
          policies: [
            { type: 'Pods', value: 10, periodSeconds: 15 },
            { type: 'Percent', value: 100, periodSeconds: 15 },
          ],
        },
        scaleDown: {
          stabilizationWindowSeconds: windowSeconds,
          selectPolicy: 'Max',
          policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }],
        },
      },
    },
    redis: {
      host: redis.host,
      port: redis.port,
      address: `${redis.host}:${redis.port}`,
      queueKey: config.redis.queueKey,
      // Label values cannot hold ':' and friends.
      queueLabel: config.redis.queueKey.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, ''),
    },
    db: {
      secretName: config.database.endpointSecret,
      host: db.host,
      port: String(db.port),
      portNumber: db.port,
      database,
      url: dbUrl,
    },
    caps: { ...(opts.capabilities ?? {}) },
    appSecret: { data: { ...(opts.secrets ?? {}) } },
  };
}
