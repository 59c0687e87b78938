// What integration and e2e tests use to reach the sandbox that global-setup.ts brought up.
// Every test file makes its own names with uniqueName() so files can run in parallel and reruns
// don't collide with leftovers.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { mapPodWorkdir, type SandboxInfo } from '../../src/sandbox/index.js';

export type { SandboxInfo } from '../../src/sandbox/index.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));

/** The running sandbox (ports, kubeconfigs, env). Fails loudly outside the integration project. */
export function sandbox(): SandboxInfo {
  const info = inject('sandbox');
  if (!info)
    throw new Error('no sandbox: run this file in the vitest "integration" project (its globalSetup starts it)');
  return info;
}

/** A DNS-1123 label, unique per call and per run: `prefix-<time><random>`, at most 63 chars. */
export function uniqueName(prefix: string): string {
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const suffix = `${Date.now().toString(36).slice(-5)}${randomBytes(3).toString('hex')}`;
  return `${clean.slice(0, 63 - suffix.length - 1)}-${suffix}`;
}

export interface ProcResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a program to completion and capture its output (never throws on a non-zero exit). */
export function runProcess(
  cmd: string,
  args: readonly string[],
  opts: { env?: Record<string, string | undefined>; input?: string | Buffer; cwd?: string; timeoutMs?: number } = {},
): Promise<ProcResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], {
      cwd: opts.cwd ?? repo,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 170_000,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({
        code: code ?? (signal ? 128 : -1),
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      }),
    );
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

/**
 * Run the BUILT cli (`node bin/hivectl.js ...args`, built once by global-setup) with the sandbox's
 * environment (KUBECONFIG, AWS_ENDPOINT_URL, PGURL, ... and its kubectl first on PATH).
 */
export function runCli(
  args: readonly string[],
  opts: { env?: Record<string, string | undefined>; input?: string | Buffer; cwd?: string; timeoutMs?: number } = {},
): Promise<ProcResult> {
  return runProcess(process.execPath, [join(repo, 'bin', 'hivectl.js'), ...args], {
    ...opts,
    env: { ...sandbox().env, NO_COLOR: '1', ...opts.env },
  });
}

/** Start the built CLI without waiting for it (sandbox environment); `done` resolves with its exit and output. */
export function startCli(
  args: readonly string[],
  opts: { env?: Record<string, string | undefined>; cwd?: string } = {},
) {
  const child = spawn(process.execPath, [join(repo, 'bin', 'hivectl.js'), ...args], {
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    env: { ...process.env, ...sandbox().env, ...opts.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, out })),
  );
  return { child, done };
}

/** Poll `cond` every 200 ms until it holds; throws naming `what` after timeoutMs. */
export async function waitUntil(what: string, cond: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The sandbox's kubectl against the primary cluster (or `context`), admin identity. */
export function kubectl(
  args: readonly string[],
  opts: { context?: string; input?: string | Buffer; kubeconfig?: string } = {},
): Promise<ProcResult> {
  const s = sandbox();
  const kc = opts.kubeconfig ?? s.kubeconfig;
  const ctx = opts.kubeconfig ? [] : ['--context', opts.context ?? s.context];
  return runProcess(join(s.binDir, 'kubectl'), ['--kubeconfig', kc, ...ctx, ...args], {
    env: s.env,
    input: opts.input,
  });
}

/**
 * Creates namespaces on the primary cluster and waits for their `default` ServiceAccount: the
 * controller-manager adds it moments later (seconds after a fresh start), and a bare pod created
 * before it exists is refused.
 */
export async function createNamespaces(...names: string[]): Promise<void> {
  for (const ns of names) {
    const c = await kubectl(['create', 'namespace', ns]);
    if (c.code !== 0) throw new Error(`kubectl create namespace ${ns}: ${c.stderr}`);
  }
  for (const ns of names) {
    const w = await kubectl(['wait', '-n', ns, '--for=create', 'serviceaccount/default', '--timeout=60s']);
    if (w.code !== 0) throw new Error(`namespace ${ns}: no default ServiceAccount: ${w.stderr}`);
  }
}

/**
 * Writes a kubeconfig holding only a ServiceAccount's token and the primary cluster's CA (no client
 * certificate, so no admin fallback): how a test acts as a least-privileged identity.
 */
export async function serviceAccountKubeconfig(o: {
  namespace: string;
  serviceAccount: string;
  file: string;
  contextName: string;
}): Promise<void> {
  const s = sandbox();
  const t = await kubectl(['create', 'token', o.serviceAccount, '-n', o.namespace, '--duration=1h']);
  if (t.code !== 0) throw new Error(`kubectl create token ${o.namespace}/${o.serviceAccount}: ${t.stderr}`);
  const admin = JSON.parse((await kubectl(['config', 'view', '--raw', '-o', 'json'])).stdout);
  const ctx = admin.contexts.find((c: { name: string }) => c.name === s.context).context;
  const cluster = admin.clusters.find((c: { name: string }) => c.name === ctx.cluster).cluster;
  const caData =
    cluster['certificate-authority-data'] ?? readFileSync(cluster['certificate-authority']).toString('base64');
  writeFileSync(
    o.file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: cluster.server, 'certificate-authority-data': caData } }],
      users: [{ name: 'u', user: { token: t.stdout.trim() } }],
      contexts: [{ name: o.contextName, context: { cluster: 'c', user: 'u' } }],
      'current-context': o.contextName,
    }),
  );
}

/** psql against the sandbox's PostgreSQL (URL defaults to the `postgres` database). */
export async function psql(sql: string, url = sandbox().pgUrl): Promise<string> {
  const r = await runProcess('psql', [url, '-v', 'ON_ERROR_STOP=1', '-XAtq', '-c', sql], { env: sandbox().env });
  if (r.code !== 0) throw new Error(`psql failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}

/** Create a fresh, empty database named `name`; returns its URL. */
export async function createDatabase(name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name.replace(/-/g, '_'))) throw new Error(`bad database name ${name}`);
  const db = name.replace(/-/g, '_');
  await psql(`CREATE DATABASE "${db}"`);
  const u = new URL(sandbox().pgUrl);
  u.pathname = `/${db}`;
  return u.toString();
}

/**
 * The local directory that `kubectl exec` into pod NAMESPACE/POD runs in (its "workspace"): creates
 * a KWOK Exec object named like the pod, mapping it to <stateDir>/exec/NAMESPACE/POD. Call it before
 * exec'ing into (or restoring into) the pod; pods without a mapping share <stateDir>/exec/_shared.
 */
export function podWorkdir(namespace: string, pod: string, context?: string): Promise<string> {
  return mapPodWorkdir(namespace, pod, { root: sandbox().root, context });
}
