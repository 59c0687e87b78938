// Prometheus probes (schema, judging an instant query's answer, configuration) and probes that read
// a watched object: pure logic, with in-memory stand-ins for the servers.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { K8s } from '../../src/adapters/k8s.js';
import { PrometheusError, type PromSample, resolvePrometheus } from '../../src/adapters/prometheus.js';
import { judgePrometheus, type ProbeEnv, requirePrometheus, runProbe } from '../../src/chaos/probes.js';
import { type Probe, parseExperiment, probeName } from '../../src/chaos/schema.js';
import { configSchema } from '../../src/core/config-schema.js';
import { UsageError } from '../../src/core/errors.js';

const exp = (probes: unknown[], abortWhen: unknown[] = []) =>
  parseExperiment({
    metadata: { name: 'p' },
    spec: { hypothesis: { probes }, abortWhen, method: [{ type: 'command', command: ['true'] }] },
  });

type PromProbe = Extract<Probe, { type: 'prometheus' }>;
const prom = (min?: number, max?: number): PromProbe => ({ type: 'prometheus', query: 'q', min, max });
const sample = (value: number, metric: Record<string, string> = {}): PromSample => ({ metric, value });

function env(over: Partial<ProbeEnv> = {}): ProbeEnv {
  return {
    k: {} as K8s,
    queueKey: 'q',
    signal: new AbortController().signal,
    runCommand: async () => 0,
    queueLength: async () => 0,
    ...over,
  };
}

describe('prometheus probe schema', () => {
  it('accepts a query with bounds and names it after them', () => {
    const e = exp([{ type: 'prometheus', query: 'sum(up{job="api"})', min: 1 }]);
    const p = e.spec.hypothesis.probes[0] as Probe;
    expect(p).toEqual({ type: 'prometheus', query: 'sum(up{job="api"})', min: 1 });
    expect(probeName(p)).toBe('prometheus sum(up{job="api"}) >= 1');
    expect(probeName(prom(0, 5))).toBe('prometheus q in [0, 5]');
    expect(probeName(prom(undefined, 5))).toBe('prometheus q <= 5');
  });

  it('names the path of every problem', () => {
    expect(() => exp([{ type: 'prometheus', query: 'up' }])).toThrow(
      /spec\.hypothesis\.probes\.0\.min: give min, max or both/,
    );
    expect(() => exp([], [{ type: 'prometheus', query: 'up', min: 3, max: 1 }])).toThrow(
      /spec\.abortWhen\.0\.max: min must not be greater than max/,
    );
    expect(() => exp([{ type: 'prometheus', query: '  ', max: 1 }])).toThrow(/spec\.hypothesis\.probes\.0\.query/);
    expect(() => exp([{ type: 'prometheus', query: 'up', max: '1' }])).toThrow(/spec\.hypothesis\.probes\.0\.max/);
    expect(() => exp([{ type: 'prometheus', query: 'up', max: 1, url: 'x' }])).toThrow(/url/);
  });
});

describe('judging an instant query', () => {
  it('passes a single sample within the bounds, inclusive', () => {
    expect(judgePrometheus(prom(1), [sample(1)])).toEqual({ ok: true, value: 1 });
    expect(judgePrometheus(prom(0, 10), [sample(10, { job: 'x' })])).toEqual({ ok: true, value: 10 });
  });

  it('fails a sample outside the bounds, with the value seen', () => {
    expect(judgePrometheus(prom(1), [sample(0.5)])).toEqual({ ok: false, value: 0.5 });
    expect(judgePrometheus(prom(undefined, 100), [sample(101)])).toEqual({ ok: false, value: 101 });
  });

  it('fails, saying why, when there is no sample, several series, or NaN', () => {
    const none = judgePrometheus(prom(1), []);
    expect(none.ok).toBe(false);
    expect(none.detail).toMatch(/no sample/);
    const many = judgePrometheus(prom(1), [sample(1, { pod: 'a' }), sample(2, { pod: 'b' })]);
    expect(many.ok).toBe(false);
    expect(many.detail).toMatch(/2 series \(\{pod="a"\}, \{pod="b"\}\).*aggregate/);
    const nan = judgePrometheus(prom(0), [sample(Number.NaN)]);
    expect(nan).toMatchObject({ ok: false, value: 'NaN' });
  });

  it('a query that cannot run is a failed probe with the error as its detail, not a crash', async () => {
    const r = await runProbe(
      env({
        promQuery: async () => {
          throw new PrometheusError('cannot reach Prometheus at http://127.0.0.1:1 (ECONNREFUSED)');
        },
      }),
      prom(1),
    );
    expect(r).toMatchObject({ ok: false, type: 'prometheus', detail: expect.stringMatching(/ECONNREFUSED/) });
    const unconfigured = await runProbe(env(), prom(1));
    expect(unconfigured).toMatchObject({ ok: false, detail: expect.stringMatching(/prometheus\.url/) });
  });
});

describe('prometheus configuration', () => {
  it('defaults: no URL, token from HIVECTL_PROMETHEUS_TOKEN, 10 s timeout', () => {
    const c = configSchema.parse({});
    expect(c.prometheus).toEqual({ bearerTokenEnv: 'HIVECTL_PROMETHEUS_TOKEN', timeout: '10s' });
    expect(() => configSchema.parse({ prometheus: { url: 'not a url' } })).toThrow();
  });

  it('refuses a prometheus probe when no URL is configured (exit 2, one sentence naming prometheus.url)', () => {
    const probes = exp([{ type: 'prometheus', query: 'up', min: 1 }]).spec.hypothesis.probes;
    let err: unknown;
    try {
      requirePrometheus(probes, undefined);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    expect((err as Error).message).toMatch(/set prometheus\.url/);
    expect(() => requirePrometheus(probes, 'http://prom:9090')).not.toThrow();
    expect(() => requirePrometheus([], undefined)).not.toThrow();
  });

  it('takes the bearer token from the file, else from the env variable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hivectl-prom-'));
    const file = join(dir, 'token');
    writeFileSync(file, 'from-file\n');
    const base = { url: 'http://prom:9090', bearerTokenEnv: 'PROM_T', timeoutMs: 1000 };
    expect(resolvePrometheus({ ...base }, { PROM_T: 'from-env' })?.bearerToken).toBe('from-env');
    expect(resolvePrometheus({ ...base, bearerTokenFile: file }, { PROM_T: 'from-env' })?.bearerToken).toBe(
      'from-file',
    );
    expect(resolvePrometheus({ ...base }, {})?.bearerToken).toBeUndefined();
    expect(resolvePrometheus({ ...base, url: undefined }, {})).toBeUndefined();
    expect(() => resolvePrometheus({ ...base, bearerTokenFile: join(dir, 'missing') }, {})).toThrow(/ENOENT/);
  });
});

describe('ready-replicas from a watched Deployment', () => {
  const probe: Probe = { type: 'ready-replicas', namespace: 'ns', deployment: 'api', min: 2 };

  it('reads the watched object from memory', async () => {
    const e = env({
      watchedDeployment: () => ({ synced: true, object: { metadata: { name: 'api' }, status: { readyReplicas: 3 } } }),
    });
    expect(await runProbe(e, probe)).toMatchObject({ ok: true, value: 3 });
    const gone = env({ watchedDeployment: () => ({ synced: true, object: undefined }) });
    expect(await runProbe(gone, probe)).toMatchObject({ ok: false, detail: 'deployment ns/api not found' });
  });

  it('a watch out of sync is never read: the probe GETs the Deployment instead', async () => {
    let gets = 0;
    const e = env({
      readDeployment: async () => {
        gets++;
        return { metadata: { name: 'api' }, status: { readyReplicas: 1 } };
      },
      watchedDeployment: () => ({
        synced: false,
        object: { metadata: { name: 'api' }, status: { readyReplicas: 3 } },
        error: 'watch: HTTP 403',
      }),
    });
    expect(await runProbe(e, probe)).toMatchObject({ ok: false, value: 1 });
    expect(gets).toBe(1);
  });
});
