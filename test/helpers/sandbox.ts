// What integration and e2e tests use to reach the sandbox that global-setup.ts brought up.
// Every test file makes its own names with uniqueName() so files can run in parallel and reruns
// don't collide with leftovers.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
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
