// Chaos probes against the sandbox's real Prometheus: a probe that holds, one that deviates while the
// experiment runs (a metric this file serves and Prometheus scrapes), an unreachable Prometheus, a
// query with several series, no prometheus.url at all; and a Deployment change that only the watch on
// it can see (the probe interval is an hour).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { sandboxConfigYaml } from '../../src/sandbox/index.js';
import { createNamespaces, kubectl, runCli, sandbox, uniqueName, waitUntil } from '../helpers/sandbox.js';

const dir = mkdtempSync(join(tmpdir(), 'hivectl-chaos-prom-'));
const env = { HIVECTL_STATE_DIR: join(dir, 'state') };
const stateNs = uniqueName('chp-state');
const appNs = uniqueName('chp-app');
const testLabel = uniqueName('chp');
const flag = join(dir, 'degraded');
const targetFile = () => join(sandbox().prometheusTargetsDir, `${testLabel}.json`);
let server: Server;

/** A hivectl.yaml for this file (own state namespace); `prometheus` replaces the sandbox's block. */
function config(name: string, prometheus?: Record<string, unknown> | null): string {
  const doc = parse(sandboxConfigYaml(sandbox())) as Record<string, Record<string, unknown>>;
  doc.cluster = { ...doc.cluster, namespace: stateNs };
  if (prometheus === null) delete doc.prometheus;
  else if (prometheus) doc.prometheus = prometheus;
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
}

function experiment(name: string, spec: Record<string, unknown>): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    stringify({
      metadata: { name },
      spec: { duration: '2s', interval: '500ms', method: [{ type: 'command', command: ['true'] }], ...spec },
    }),
  );
  return file;
}

// Without HIVECTL_PROMETHEUS_URL from the sandbox's env: each config says where Prometheus is.
const cli = (cfg: string, args: string[]) =>
  runCli(['--config', cfg, ...args], { env: { ...env, HIVECTL_PROMETHEUS_URL: '' } });

async function query(q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const u = new URL('/api/v1/query', sandbox().prometheusUrl);
  u.searchParams.set('query', q);
  const r = (await (await fetch(u)).json()) as { data: { result: [] } };
  return r.data.result;
}

const until = waitUntil;

beforeAll(async () => {
  // An application metric: 1 while the flag file exists. Prometheus scrapes it through file_sd.
  server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(`# TYPE hive_chaos_degraded gauge\nhive_chaos_degraded ${existsSync(flag) ? 1 : 0}\n`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  writeFileSync(targetFile(), JSON.stringify([{ targets: [`127.0.0.1:${port}`], labels: { test: testLabel } }]));
  await createNamespaces(appNs);
  const d = await kubectl(['create', 'deployment', 'web', '-n', appNs, '--image=nginx', '--replicas=2']);
  expect(d.code, d.stderr).toBe(0);
  await until(
    'the scrape of this file’s metric',
    async () => (await query(`hive_chaos_degraded{test="${testLabel}"}`)).length === 1,
  );
  const w = await kubectl(['rollout', 'status', '-n', appNs, 'deployment/web', '--timeout=60s']);
  expect(w.code, w.stderr).toBe(0);
});

afterAll(async () => {
  rmSync(targetFile(), { force: true });
  await new Promise((r) => server?.close(r));
  await kubectl(['delete', 'namespace', appNs, '--wait=false']);
});

describe('chaos: prometheus probes', () => {
  it('a probe that holds passes, and the report shows the value seen', async () => {
    const exp = experiment('prom-holds', {
      hypothesis: {
        probes: [
          { type: 'prometheus', name: 'prometheus up', query: 'up{job="prometheus"}', min: 1 },
          { type: 'prometheus', query: 'vector(1)', min: 1, max: 1 },
        ],
      },
    });
    const r = await cli(config('holds'), ['chaos', 'run', exp, '-y', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout).results;
    expect(rep.deviated).toBe(false);
    expect(rep.before).toEqual([
      expect.objectContaining({ name: 'prometheus up', ok: true, value: 1 }),
      expect.objectContaining({ name: 'prometheus vector(1) in [1, 1]', ok: true, value: 1 }),
    ]);
    expect(rep.during.samples).toBeGreaterThan(0);
  });

  it('a probe whose metric deviates during the run exits 3, and holds again after the rollback', async () => {
    rmSync(flag, { force: true });
    const exp = experiment('prom-deviates', {
      duration: '6s',
      hypothesis: {
        probes: [
          { type: 'prometheus', name: 'not degraded', query: `max(hive_chaos_degraded{test="${testLabel}"})`, max: 0 },
        ],
      },
      method: [{ type: 'command', command: ['touch', flag] }],
      rollbacks: [{ type: 'command', command: ['rm', '-f', flag] }],
    });
    const r = await cli(config('deviates'), ['chaos', 'run', exp, '-y', '-o', 'json']);
    expect(r.code, r.stderr).toBe(3);
    const rep = JSON.parse(r.stdout).results;
    expect(rep.deviated).toBe(true);
    expect(rep.during.failedSamples).toBeGreaterThan(0);
    expect(rep.during.worst[0]).toMatchObject({ name: 'not degraded', ok: false, value: 1 });
    expect(rep.after[0]).toMatchObject({ ok: true, value: 0 });
  });

  /** `chaos run` of a one-probe hypothesis against the Prometheus at `port`: refused before any fault (exit 1). */
  async function refusedProbe(name: string, port: number, timeout: string): Promise<string> {
    const exp = experiment(`prom-${name}`, {
      hypothesis: { probes: [{ type: 'prometheus', query: 'vector(1)', min: 1 }] },
    });
    const r = await cli(config(name, { url: `http://127.0.0.1:${port}`, timeout }), ['chaos', 'run', exp, '-y']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/not in its steady state before the experiment/);
    return r.stderr;
  }

  it('an unreachable Prometheus is a failed probe that says so (nothing injected, exit 1)', async () => {
    // A port that nothing listens on.
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    expect(await refusedProbe('unreachable', port, '3s')).toContain(
      `cannot reach Prometheus at http://127.0.0.1:${port} (ECONNREFUSED)`,
    );
  });

  it('a Prometheus that accepts the connection but never answers fails the probe after prometheus.timeout', async () => {
    const silent = createServer(() => {
      /* never respond */
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    try {
      expect(await refusedProbe('silent', port, '1s')).toContain(
        `no answer from Prometheus at http://127.0.0.1:${port} within 1000 ms`,
      );
    } finally {
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  });

  it('a query with several series is a failed probe naming them', async () => {
    const exp = experiment('prom-many', {
      hypothesis: {
        probes: [{ type: 'prometheus', query: 'label_replace(vector(1), "side", "a", "", "") or vector(2)', min: 0 }],
      },
    });
    const r = await cli(config('many'), ['chaos', 'run', exp, '-y']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/the query returned 2 series \(.*side="a".*\): aggregate it/);
  });

  it('a prometheus probe without prometheus.url is refused before anything runs (exit 2)', async () => {
    const exp = experiment('prom-unset', {
      abortWhen: [{ type: 'prometheus', query: 'vector(1)', min: 1 }],
    });
    const r = await cli(config('unset', null), ['chaos', 'run', exp, '-y']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/set prometheus\.url/);
  });
});

describe('chaos: watched Deployments', () => {
  it('a Deployment losing its ready replicas between probe ticks still deviates (the watch sees it)', async () => {
    // The probe interval is an hour, so polling would read the Deployment only at the start and the end of the
    // observation, when it is healthy: a command started by the method scales it to 0 and back to 2 in
    // between, and only the watch on it sees that (polling alone reported this run as a pass).
    const kc = ['--kubeconfig', sandbox().kubeconfig, '--context', sandbox().context, '-n', appNs];
    const kubectlBin = join(sandbox().binDir, 'kubectl');
    const scale = (n: number) => [kubectlBin, ...kc, 'scale', 'deployment/web', `--replicas=${n}`].join(' ');
    const exp = experiment('watch-deviates', {
      duration: '8s',
      interval: '1h',
      hypothesis: { probes: [{ type: 'ready-replicas', namespace: appNs, deployment: 'web', min: 2 }] },
      method: [
        {
          type: 'command',
          command: ['sh', '-c', `(sleep 2; ${scale(0)}; sleep 2; ${scale(2)}) >/dev/null 2>&1 &`],
        },
      ],
      rollbacks: [{ type: 'command', command: [kubectlBin, ...kc, 'scale', 'deployment/web', '--replicas=2'] }],
    });
    const r = await cli(config('watch'), ['chaos', 'run', exp, '-y', '-o', 'json']);
    expect(r.code, r.stderr).toBe(3);
    const rep = JSON.parse(r.stdout).results;
    expect(rep.deviated).toBe(true);
    expect(rep.during.worst[0].ok).toBe(false);
    expect(rep.during.worst[0].value).toBeLessThan(2);
    expect(rep.after[0]).toMatchObject({ ok: true, value: 2 });
  });
});
