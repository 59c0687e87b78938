// Prometheus HTTP API: instant queries for chaos probes. One GET /api/v1/query per probe tick, with
// a timeout and the run's AbortSignal; every failure becomes a PrometheusError whose message says
// what went wrong in a sentence a probe can report (unreachable, unauthorized, bad query, timeout).
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { onAbort } from '../core/abort.js';

// node:http with keep-alive, not fetch: a probe ticks every second for the whole experiment, and
// fetch's first call alone compiles undici (tens of ms of CPU) and opens a new connection per tick.
const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

class Timeout extends Error {}

/**
 * One GET, ended by the caller's signal or after timeoutMs (a timer and one listener: a probe ticks
 * every second, and AbortSignal.timeout + AbortSignal.any cost more than the request itself).
 */
function get(
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const https = u.protocol === 'https:';
    const req = (https ? httpsRequest : httpRequest)(
      u,
      { headers, agent: https ? agents.https : agents.http },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('end', () => {
          done();
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
      },
    );
    const timer = setTimeout(() => req.destroy(new Timeout()), timeoutMs);
    const unlink = onAbort(signal, () => req.destroy(new Error('aborted')));
    function done() {
      clearTimeout(timer);
      unlink();
    }
    function fail(e: Error) {
      done();
      reject(e);
    }
    req.on('error', fail);
    req.end();
  });
}

export interface PrometheusTarget {
  /** Base URL, e.g. http://prometheus.monitoring:9090 (a path prefix is kept). */
  url: string;
  bearerToken?: string | undefined;
  timeoutMs: number;
}

/** One series of an instant query's answer (a scalar answer is one sample with no labels). */
export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

export class PrometheusError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PrometheusError';
  }
}

export interface PrometheusConfig {
  url?: string | undefined;
  bearerTokenEnv: string;
  bearerTokenFile?: string | undefined;
  timeoutMs: number;
}

/**
 * The target from hivectl.yaml's prometheus block, or undefined when no URL is set. The bearer token
 * comes from the file (a projected ServiceAccount token, a mounted secret) or else the env variable.
 */
export function resolvePrometheus(
  c: PrometheusConfig,
  env: Record<string, string | undefined> = process.env,
): PrometheusTarget | undefined {
  if (!c.url) return undefined;
  let bearerToken: string | undefined;
  if (c.bearerTokenFile) {
    try {
      bearerToken = readFileSync(c.bearerTokenFile, 'utf8').trim();
    } catch (e) {
      throw new PrometheusError(
        `cannot read prometheus.bearerTokenFile ${c.bearerTokenFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
  } else bearerToken = env[c.bearerTokenEnv] || undefined;
  return { url: c.url, bearerToken, timeoutMs: c.timeoutMs };
}

function queryUrl(base: string, query: string): string {
  const u = new URL(base);
  u.pathname = `${u.pathname.replace(/\/$/, '')}/api/v1/query`;
  u.searchParams.set('query', query);
  return u.toString();
}

function causeCode(e: unknown): string | undefined {
  const x = e as { code?: string; errors?: { code?: string }[] };
  return x?.code ?? x?.errors?.[0]?.code;
}

type QueryAnswer =
  | { status: 'success'; data: { resultType: string; result: unknown } }
  | { status: 'error'; errorType?: string; error?: string };

/** Evaluate an instant query now. Throws PrometheusError (never a raw fetch error). */
export async function instantQuery(t: PrometheusTarget, query: string, signal?: AbortSignal): Promise<PromSample[]> {
  let res: { status: number; ok: boolean };
  let body: QueryAnswer | undefined;
  try {
    const r = await get(
      queryUrl(t.url, query),
      { accept: 'application/json', ...(t.bearerToken ? { authorization: `Bearer ${t.bearerToken}` } : {}) },
      signal,
      t.timeoutMs,
    );
    res = { status: r.status, ok: r.status >= 200 && r.status < 300 };
    const text = r.text;
    try {
      body = JSON.parse(text) as QueryAnswer;
    } catch {
      body = undefined;
    }
  } catch (e) {
    if (signal?.aborted) throw new PrometheusError('query interrupted', { cause: e });
    if (e instanceof Timeout)
      throw new PrometheusError(`no answer from Prometheus at ${t.url} within ${t.timeoutMs} ms`);
    const code = causeCode(e);
    throw new PrometheusError(
      `cannot reach Prometheus at ${t.url}${code ? ` (${code})` : `: ${(e as Error).message}`}`,
      {
        cause: e,
      },
    );
  }
  if (res.status === 401 || res.status === 403)
    throw new PrometheusError(
      `Prometheus at ${t.url} refused the query (HTTP ${res.status}): check the bearer token (prometheus.bearerTokenEnv / bearerTokenFile)`,
    );
  if (body?.status === 'error')
    throw new PrometheusError(
      `Prometheus rejected the query (${body.errorType ?? `HTTP ${res.status}`}): ${body.error ?? ''}`,
    );
  if (!res.ok || body?.status !== 'success')
    throw new PrometheusError(`Prometheus at ${t.url} answered HTTP ${res.status} without a query result`);
  const { resultType, result } = body.data;
  switch (resultType) {
    case 'vector':
      return (result as { metric?: Record<string, string>; value: [number, string] }[]).map((s) => ({
        metric: s.metric ?? {},
        value: Number.parseFloat(s.value[1]),
      }));
    case 'scalar':
      return [{ metric: {}, value: Number.parseFloat((result as [number, string])[1]) }];
    default:
      throw new PrometheusError(
        `the query returned a ${resultType}, not an instant vector or scalar (drop the range selector [..])`,
      );
  }
}
