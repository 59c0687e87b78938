// Where the sandbox keeps things, and which versions it builds. Binaries are keyed by version so a
// version bump rebuilds just that component; state/ holds what runs (and is what `down --purge` removes).
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const VERSIONS = {
  kubernetes: '1.37.2',
  etcd: '3.6.16',
  kwok: '0.8.0',
  moto: '5.2.5',
  postgres: '15',
} as const;

/** Names of the two KWOK clusters and the kube contexts kwokctl gives them (`kwok-<name>`). */
export const CLUSTERS = { primary: 'hive', dr: 'hive-dr' } as const;
export const contextOf = (cluster: string) => `kwok-${cluster}`;

export const REGIONS = { primary: 'us-east-1', dr: 'us-west-2' } as const;

export interface Layout {
  root: string;
  binDir: string;
  k8sBin: string;
  etcdBin: string;
  kwokBin: string;
  motoVenv: string;
  buildDir: string;
  stateDir: string;
  stateFile: string;
  kubeconfig: string;
  limitedKubeconfig: string;
  envFile: string;
  kwokWorkdir: string;
  kwokctlConfig: string;
  logsDir: string;
  execDir: string;
  redisDir: string;
  /** Prometheus: its config, file_sd targets dir and TSDB data. */
  prometheusDir: string;
  /** PostgreSQL's data dir. As root it lives outside the cache: initdb runs as the postgres user,
   * who cannot enter root's home. */
  pgDir: string;
  pgBinDir: string;
}

export function sandboxRoot(env: Record<string, string | undefined> = process.env): string {
  return env.HIVECTL_SANDBOX_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'hivectl', 'sandbox');
}

export function layout(root: string, isRoot = process.getuid?.() === 0): Layout {
  const binDir = join(root, 'bin');
  const stateDir = join(root, 'state');
  const hash = createHash('sha256').update(stateDir).digest('hex').slice(0, 10);
  return {
    root,
    binDir,
    k8sBin: join(binDir, `k8s-v${VERSIONS.kubernetes}`),
    etcdBin: join(binDir, `etcd-v${VERSIONS.etcd}`),
    kwokBin: join(binDir, `kwok-v${VERSIONS.kwok}`),
    motoVenv: join(binDir, `moto-${VERSIONS.moto}`),
    buildDir: join(root, 'build'),
    stateDir,
    stateFile: join(stateDir, 'sandbox.json'),
    kubeconfig: join(stateDir, 'kubeconfig'),
    limitedKubeconfig: join(stateDir, 'limited.kubeconfig'),
    envFile: join(stateDir, 'env.sh'),
    kwokWorkdir: join(stateDir, 'kwok'),
    kwokctlConfig: join(stateDir, 'kwokctl.yaml'),
    logsDir: join(stateDir, 'logs'),
    execDir: join(stateDir, 'exec'),
    redisDir: join(stateDir, 'redis'),
    prometheusDir: join(stateDir, 'prometheus'),
    pgDir: isRoot ? join('/var/tmp', `hivectl-sandbox-pg-${hash}`) : join(stateDir, 'pg'),
    pgBinDir: `/usr/lib/postgresql/${VERSIONS.postgres}/bin`,
  };
}

/** Local directory that `kubectl exec` into pod NAMESPACE/POD runs in (once podWorkdir has mapped it). */
export function podExecDir(l: Layout, namespace: string, pod: string): string {
  return join(l.execDir, namespace, pod);
}

/** Where execs into pods that have no per-pod mapping run (one shared directory). */
export function sharedExecDir(l: Layout): string {
  return join(l.execDir, '_shared');
}
