// The local sandbox: two KWOK clusters (a primary and a DR one) on a real kube-apiserver, moto for
// S3 + RDS in every region, PostgreSQL 15, Redis and Prometheus, all on loopback. `hivectl sandbox` and the
// test harness (test/helpers/global-setup.ts) both call these functions, so CI exercises the path a
// user runs. Servers outlive the process that started them; their ports and pids are remembered in
// state/sandbox.json, and a second `up` reuses whatever is still healthy.

import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  freePort,
  httpStatus,
  pidAlive,
  pidCmdline,
  pidRss,
  portOpen,
  redisPing,
  run,
  spawnDetached,
  stopPid,
  which,
} from '../adapters/sandbox-proc.js';
import { StepError, UsageError } from '../core/errors.js';
import { ensureBinaries, missingComponents, type Progress } from './build.js';
import {
  CLUSTERS,
  contextOf,
  type Layout,
  layout,
  podExecDir,
  REGIONS,
  sandboxRoot,
  sharedExecDir,
  VERSIONS,
} from './layout.js';
import {
  fakeNodes,
  LIMITED_SA,
  limitedIdentity,
  list,
  nodeName,
  podExec,
  SANDBOX_NODE_LABEL,
  sharedClusterExec,
  tokenKubeconfig,
} from './manifests.js';

export { CLUSTERS, contextOf, layout, REGIONS, sandboxRoot, VERSIONS } from './layout.js';

export interface SandboxOptions {
  /** Cache dir (default: HIVECTL_SANDBOX_DIR or ~/.cache/hivectl/sandbox). */
  root?: string;
  /** Fake nodes per cluster (default 3, or what the last `up` used). */
  nodes?: number;
}

export interface SandboxPorts {
  moto: number;
  postgres: number;
  redis: number;
  prometheus: number;
}

/** Everything a test or a user needs to talk to the sandbox. JSON-serialisable. */
export interface SandboxInfo {
  root: string;
  stateDir: string;
  /** Admin kubeconfig with both contexts (current: the primary). */
  kubeconfig: string;
  /** Primary cluster's kube context (`kwok-hive`). */
  context: string;
  /** DR cluster's kube context (`kwok-hive-dr`). */
  drContext: string;
  /** Token-only kubeconfig of ServiceAccount default/hivectl-limited (ClusterRole view) on the primary. */
  limitedKubeconfig: string;
  /** moto's URL (S3 + RDS, every region). */
  endpointUrl: string;
  region: 'us-east-1';
  drRegion: 'us-west-2';
  /** postgres://hive@127.0.0.1:PORT/postgres (superuser, trust auth). */
  pgUrl: string;
  redisUrl: string;
  /** Prometheus HTTP API (scrapes itself as job "prometheus", and the file_sd targets below). */
  prometheusUrl: string;
  /** Drop a file_sd JSON file (`[{"targets": ["127.0.0.1:PORT"], "labels": {...}}]`) here to have it scraped (job "sandbox"). */
  prometheusTargetsDir: string;
  /** Directory with kubectl (built from the same Kubernetes version). */
  binDir: string;
  /** Where execs into pods run: execDir/NAMESPACE/POD once mapped, else execDir/_shared. */
  execDir: string;
  ports: SandboxPorts;
  nodes: number;
  /** The environment for a process that should talk to the sandbox (sandbox env prints it). */
  env: Record<string, string>;
}

interface SandboxState {
  version: 1;
  nodes: number;
  ports: SandboxPorts;
  pids: { moto?: number; redis?: number; prometheus?: number };
}

export interface ComponentStatus {
  name: string;
  running: boolean;
  pid?: number;
  port?: number;
  log: string;
  rssBytes?: number;
  detail?: string;
}

export interface SandboxStatus {
  root: string;
  stateDir: string;
  up: boolean;
  components: ComponentStatus[];
  rssBytes: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isRoot = () => process.getuid?.() === 0;

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, log?: string) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await sleep(200);
  }
  throw new StepError(`${what} did not become healthy within ${Math.round(timeoutMs / 1000)} s`, {
    hint: log ? `see its log: ${log}` : undefined,
  });
}

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return true;
    await sleep(500);
  }
  return false;
}

function readState(l: Layout): SandboxState | undefined {
  try {
    return JSON.parse(readFileSync(l.stateFile, 'utf8')) as SandboxState;
  } catch {
    return undefined;
  }
}

function writeState(l: Layout, s: SandboxState) {
  writeFileSync(l.stateFile, `${JSON.stringify(s, null, 2)}\n`);
}

// ---------------------------------------------------------------- prerequisites

/** One line per missing tool, with what to install. Exit 2 (usage) when anything is missing. */
export async function checkPrerequisites(l: Layout): Promise<void> {
  const missing: string[] = [];
  // Go and Python are needed only to build; a built sandbox starts without them.
  const need = missingComponents(l);
  const go = need.go ? await which('go') : 'not needed';
  if (!go) missing.push('Go >= 1.26 (go on PATH)');
  else if (need.go) {
    const v = /go(\d+)\.(\d+)/.exec((await run('go', ['version'], { reject: false })).stdout);
    if (!v || Number(v[1]) * 1000 + Number(v[2]) < 1026) missing.push(`Go >= 1.26 (found ${v?.[0] ?? 'unknown'})`);
  }
  if (need.python) {
    if (!(await which('python3'))) missing.push('python3 with venv (apt-get install python3-venv)');
    else if ((await run('python3', ['-c', 'import venv, ensurepip'], { reject: false })).exitCode !== 0)
      missing.push('python3-venv');
  }
  if (!existsSync(join(l.pgBinDir, 'initdb'))) missing.push(`postgresql-${VERSIONS.postgres}`);
  if (!(await which('redis-server'))) missing.push('redis-server');
  if (!(await which('prometheus'))) missing.push('prometheus');
  if (isRoot() && !(await runuserPath())) missing.push('runuser (util-linux)');
  if (missing.length > 0) {
    throw new UsageError(`the sandbox needs: ${missing.join(', ')}`, {
      hint: 'run scripts/install-prereqs.sh as root (apt-get), or install them by hand',
    });
  }
}

// ---------------------------------------------------------------- moto, PostgreSQL, Redis

async function pickPort(remembered: number | undefined): Promise<number> {
  if (remembered && !(await portOpen(remembered, 300))) return remembered;
  return freePort();
}

// Any HTTP answer will do: moto serves every request from one process, and a busy one (a test
// uploading a large object) may be slow to answer; restarting it would lose everyone's data.
const motoHealthy = async (port: number, timeoutMs = 2000) =>
  (await httpStatus(`http://127.0.0.1:${port}/moto-api/`, timeoutMs)) !== undefined;

async function ensureMoto(l: Layout, s: SandboxState, progress: Progress) {
  const pid = s.pids.moto;
  const ours = pid && pidAlive(pid) && pidCmdline(pid).includes('moto_server');
  if (ours && (await motoHealthy(s.ports.moto, 15_000))) return;
  if (ours) {
    progress(`moto (pid ${pid}) does not answer: restarting it`);
    await stopPid(pid);
  }
  s.ports.moto = await pickPort(s.ports.moto);
  const log = join(l.logsDir, 'moto.log');
  progress(`starting moto on 127.0.0.1:${s.ports.moto}`);
  s.pids.moto = spawnDetached(join(l.motoVenv, 'bin', 'moto_server'), ['-H', '127.0.0.1', '-p', String(s.ports.moto)], {
    logFile: log,
    cwd: l.stateDir,
  });
  writeState(l, s);
  await waitFor('moto', () => motoHealthy(s.ports.moto), 60_000, log);
}

async function ensureRedis(l: Layout, s: SandboxState, progress: Progress) {
  const pid = s.pids.redis;
  const ours = pid && pidAlive(pid) && pidCmdline(pid).includes('redis-server');
  if (ours && (await eventually(() => redisPing(s.ports.redis), 10_000))) return;
  if (ours) await stopPid(pid);
  s.ports.redis = await pickPort(s.ports.redis);
  mkdirSync(l.redisDir, { recursive: true });
  const log = join(l.logsDir, 'redis.log');
  progress(`starting Redis on 127.0.0.1:${s.ports.redis}`);
  s.pids.redis = spawnDetached(
    'redis-server',
    ['--port', String(s.ports.redis), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', l.redisDir],
    { logFile: log, cwd: l.redisDir },
  );
  writeState(l, s);
  await waitFor('Redis', () => redisPing(s.ports.redis), 30_000, log);
}

const promConfigFile = (l: Layout) => join(l.prometheusDir, 'prometheus.yml');
const promTargetsDir = (l: Layout) => join(l.prometheusDir, 'targets');

/** Scrapes itself and whatever file_sd targets tests drop in targets/, every second (fast tests). */
function prometheusConfig(l: Layout, port: number): string {
  return [
    '# Written by hivectl sandbox up.',
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    '  - job_name: prometheus',
    '    static_configs:',
    `      - targets: ['127.0.0.1:${port}']`,
    '  - job_name: sandbox',
    '    file_sd_configs:',
    `      - files: ['${join(promTargetsDir(l), '*.json')}']`,
    '        refresh_interval: 1s',
    '',
  ].join('\n');
}

const promHealthy = async (port: number, timeoutMs = 2000) =>
  (await httpStatus(`http://127.0.0.1:${port}/-/ready`, timeoutMs)) === 200;

// Our own process (its config file in the command line), never Debian's prometheus service.
const isOurPrometheus = (l: Layout, pid: number | undefined): pid is number =>
  !!pid && pidAlive(pid) && pidCmdline(pid).includes(promConfigFile(l));

async function ensurePrometheus(l: Layout, s: SandboxState, progress: Progress) {
  const pid = s.pids.prometheus;
  const ours = isOurPrometheus(l, pid);
  if (ours && (await eventually(() => promHealthy(s.ports.prometheus), 10_000))) return;
  if (ours) await stopPid(pid);
  s.ports.prometheus = await pickPort(s.ports.prometheus);
  mkdirSync(promTargetsDir(l), { recursive: true });
  writeFileSync(promConfigFile(l), prometheusConfig(l, s.ports.prometheus));
  const log = join(l.logsDir, 'prometheus.log');
  progress(`starting Prometheus on 127.0.0.1:${s.ports.prometheus}`);
  s.pids.prometheus = spawnDetached(
    'prometheus',
    [
      `--config.file=${promConfigFile(l)}`,
      `--web.listen-address=127.0.0.1:${s.ports.prometheus}`,
      `--storage.tsdb.path=${join(l.prometheusDir, 'data')}`,
      '--storage.tsdb.retention.time=2h',
    ],
    { logFile: log, cwd: l.prometheusDir },
  );
  writeState(l, s);
  await waitFor('Prometheus', () => promHealthy(s.ports.prometheus), 60_000, log);
}

async function runuserPath(): Promise<string | undefined> {
  return (await which('runuser')) ?? ['/usr/sbin/runuser', '/sbin/runuser'].find((p) => existsSync(p));
}

/** Runs a PostgreSQL tool as the postgres user when we are root (initdb and postgres refuse root). */
async function pgRun(l: Layout, tool: string, args: string[], reject = true) {
  const bin = join(l.pgBinDir, tool);
  return isRoot()
    ? run((await runuserPath()) ?? 'runuser', ['-u', 'postgres', '--', bin, ...args], {
        reject,
        cwd: '/',
        timeoutMs: 120_000,
      })
    : run(bin, args, { reject, timeoutMs: 120_000 });
}

const pgLog = (l: Layout) => join(l.pgDir, 'postgres.log');

function pgPid(l: Layout): number | undefined {
  try {
    const n = Number(readFileSync(join(l.pgDir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isFinite(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

async function pgHealthy(l: Layout, port: number) {
  const r = await run(
    join(l.pgBinDir, 'pg_isready'),
    ['-h', '127.0.0.1', '-p', String(port), '-U', 'hive', '-t', '2'],
    {
      reject: false,
    },
  );
  return r.exitCode === 0;
}

const PASSWORD_AUTH_MARK = '# hivectl sandbox: password-authenticated roles (pg-wire tests)';

/**
 * Three roles that must authenticate by password (SCRAM, md5, cleartext) over TCP, before initdb's trust
 * lines so that everything else (the `hive` superuser) stays trust. Returns whether pg_hba.conf changed.
 */
function ensurePasswordAuth(data: string): boolean {
  const file = join(data, 'pg_hba.conf');
  const text = readFileSync(file, 'utf8');
  if (text.includes(PASSWORD_AUTH_MARK)) return false;
  const rules = [
    ['hive_scram', 'scram-sha-256'],
    ['hive_md5', 'md5'],
    ['hive_cleartext', 'password'],
  ].flatMap(([role, method]) => ['127.0.0.1/32', '::1/128'].map((net) => `host all ${role} ${net} ${method}`));
  const lines = text.split('\n');
  const first = lines.findIndex((x) => x.trim() !== '' && !x.trim().startsWith('#'));
  lines.splice(first < 0 ? lines.length : first, 0, PASSWORD_AUTH_MARK, ...rules, '');
  writeFileSync(file, lines.join('\n'));
  return true;
}

async function ensurePostgres(l: Layout, s: SandboxState, progress: Progress) {
  const data = join(l.pgDir, 'data');
  const pid = pgPid(l);
  if (pid && pidAlive(pid) && (await eventually(() => pgHealthy(l, s.ports.postgres), 10_000))) {
    if (ensurePasswordAuth(data)) await pgRun(l, 'pg_ctl', ['-D', data, 'reload'], false);
    return;
  }
  if (!existsSync(join(data, 'PG_VERSION'))) {
    progress(`initialising PostgreSQL ${VERSIONS.postgres} in ${data}`);
    rmSync(l.pgDir, { recursive: true, force: true });
    mkdirSync(l.pgDir, { recursive: true, mode: 0o700 });
    if (isRoot()) {
      const ids = (await run('id', ['-u', 'postgres'])).stdout.trim();
      const gid = (await run('id', ['-g', 'postgres'])).stdout.trim();
      chownSync(l.pgDir, Number(ids), Number(gid));
    }
    await pgRun(l, 'initdb', ['-D', data, '-A', 'trust', '-U', 'hive', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
  }
  ensurePasswordAuth(data);
  if (pid && pidAlive(pid)) await pgRun(l, 'pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop'], false);
  s.ports.postgres = await pickPort(s.ports.postgres);
  progress(`starting PostgreSQL on 127.0.0.1:${s.ports.postgres}`);
  await pgRun(l, 'pg_ctl', [
    '-D',
    data,
    '-o',
    `-p ${s.ports.postgres} -k ${l.pgDir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`,
    '-l',
    pgLog(l),
    '-w',
    '-t',
    '60',
    'start',
  ]);
  await waitFor('PostgreSQL', () => pgHealthy(l, s.ports.postgres), 30_000, pgLog(l));
}

// ---------------------------------------------------------------- KWOK clusters

const kubectl = (l: Layout) => join(l.k8sBin, 'kubectl');

function kwokEnv(l: Layout) {
  return { KWOK_WORKDIR: l.kwokWorkdir, PATH: `${l.k8sBin}:${process.env.PATH ?? ''}` };
}

export function kubectlRun(l: Layout, context: string, args: string[], input?: string, reject = true) {
  return run(kubectl(l), ['--kubeconfig', l.kubeconfig, '--context', context, ...args], {
    input,
    reject,
    timeoutMs: 120_000,
  });
}

const clusterDir = (l: Layout, name: string) => join(l.kwokWorkdir, 'clusters', name);

async function apiReady(l: Layout, name: string): Promise<boolean> {
  if (!existsSync(l.kubeconfig)) return false;
  const r = await kubectlRun(l, contextOf(name), ['get', '--raw', '/readyz', '--request-timeout=3s'], undefined, false);
  return r.exitCode === 0;
}

const KWOK_PORT_KEYS = [
  'kubeApiserverPort',
  'etcdPort',
  'etcdPeerPort',
  'kubeControllerManagerPort',
  'kubeSchedulerPort',
  'kwokControllerPort',
] as const;

function kwokctlConfigFile(l: Layout, name: string): string {
  return l.kwokctlConfig.replace(/\.yaml$/, `-${name}.yaml`);
}

function kwokctlConfig(l: Layout, ports: number[]): string {
  // bindAddress: every component listens on loopback only (kwokctl's default is 0.0.0.0).
  // kubectlBinary: kwokctl would otherwise try to download one when kubectl is not on PATH.
  // Ports: chosen free by us. kwokctl's own choice counts down from 32766 and gave a re-created
  // cluster the ports of the other, running one (its apiserver then answered with the wrong CA).
  return [
    'apiVersion: config.kwok.x-k8s.io/v1alpha1',
    'kind: KwokctlConfiguration',
    'options:',
    '  bindAddress: 127.0.0.1',
    `  kubectlBinary: ${join(l.k8sBin, 'kubectl')}`,
    ...KWOK_PORT_KEYS.map((k, i) => `  ${k}: ${ports[i]}`),
    '',
  ].join('\n');
}

async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/** kwokctl's create arguments; their fingerprint is kept beside the cluster so that a change of
 * flags or versions re-creates it (kwokctl start reuses the flags a cluster was created with). */
function createArgs(l: Layout, name: string): string[] {
  const bin = (d: string, n: string) => join(d, n);
  return [
    '--config',
    kwokctlConfigFile(l, name),
    'create',
    'cluster',
    '--name',
    name,
    '--runtime',
    'binary',
    '--kube-apiserver-binary',
    bin(l.k8sBin, 'kube-apiserver'),
    '--kube-controller-manager-binary',
    bin(l.k8sBin, 'kube-controller-manager'),
    '--kube-scheduler-binary',
    bin(l.k8sBin, 'kube-scheduler'),
    '--etcd-binary',
    bin(l.etcdBin, 'etcd'),
    '--kwok-controller-binary',
    bin(l.kwokBin, 'kwok'),
    '--enable-crds=Exec,ClusterExec',
    // Chaos fails a node by removing its annotation: KWOK stops its heartbeats, and the real
    // node-lifecycle controller marks it NotReady after the grace period.
    '--extra-args',
    'kwok-controller=manage-all-nodes=false',
    '--extra-args',
    'kwok-controller=manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
    '--extra-args',
    'kube-controller-manager=node-monitor-grace-period=10s',
    // KWOK renews node Leases every quarter of their duration (default 200 s -> every 50 s): longer
    // than the 10 s grace, so healthy nodes flapped NotReady and their pods stayed NotReady. 20 s
    // -> renewed every 5 s. (KWOK keeps renewing the Lease of a node it no longer manages, so
    // `chaos node-failure --mode kwok` also reports the node NotReady itself.)
    '--extra-args',
    'kwok-controller=node-lease-duration-seconds=20',
    // Without a node IP the fake nodes carry only `Hostname: localhost` (and at times no address),
    // and the apiserver answers exec/logs with "no preferred addresses found". KWOK serves the
    // kubelet API on loopback, so 127.0.0.1 is the address that works.
    '--extra-args',
    'kwok-controller=node-ip=127.0.0.1',
    '--kubeconfig',
    l.kubeconfig,
    '--wait',
    '2m',
  ];
}

function fingerprintFile(l: Layout, name: string): string {
  return join(clusterDir(l, name), 'hivectl-create.sha256');
}

function createFingerprint(l: Layout, name: string): string {
  return createHash('sha256')
    .update(JSON.stringify(createArgs(l, name)))
    .digest('hex');
}

function createdWithCurrentArgs(l: Layout, name: string): boolean {
  try {
    return readFileSync(fingerprintFile(l, name), 'utf8').trim() === createFingerprint(l, name);
  } catch {
    return false;
  }
}

async function createCluster(l: Layout, name: string, progress: Progress) {
  progress(`creating KWOK cluster ${name} (kube-apiserver, etcd, controller-manager, scheduler, kwok-controller)`);
  writeFileSync(kwokctlConfigFile(l, name), kwokctlConfig(l, await distinctFreePorts(KWOK_PORT_KEYS.length)));
  await run(join(l.kwokBin, 'kwokctl'), createArgs(l, name), { env: kwokEnv(l), timeoutMs: 5 * 60_000 });
  writeFileSync(fingerprintFile(l, name), `${createFingerprint(l, name)}\n`);
}

async function startCluster(l: Layout, name: string, progress: Progress) {
  progress(`starting KWOK cluster ${name} (kept data)`);
  await run(join(l.kwokBin, 'kwokctl'), ['start', 'cluster', '--name', name, '--wait', '2m'], {
    env: kwokEnv(l),
    timeoutMs: 5 * 60_000,
  });
}

async function ensureCluster(l: Layout, name: string, region: string, nodes: number, progress: Progress) {
  const ctx = contextOf(name);
  if (existsSync(join(clusterDir(l, name), 'kwok.yaml')) && !createdWithCurrentArgs(l, name)) {
    progress(`cluster ${name} was created with other flags or versions; re-creating it (its data is lost)`);
    await run(join(l.kwokBin, 'kwokctl'), ['delete', 'cluster', '--name', name, '--kubeconfig', l.kubeconfig], {
      env: kwokEnv(l),
      reject: false,
    });
  }
  // Processes alive but slow (a busy machine): give them time before restarting anything.
  const alive = kwokComponents(l, name);
  const healthy =
    (await apiReady(l, name)) ||
    (alive.length > 0 && alive.every((c) => c.running) && (await eventually(() => apiReady(l, name), 15_000)));
  if (!healthy) {
    if (existsSync(join(clusterDir(l, name), 'kwok.yaml'))) {
      await run(join(l.kwokBin, 'kwokctl'), ['stop', 'cluster', '--name', name], { env: kwokEnv(l), reject: false });
      try {
        await startCluster(l, name, progress);
      } catch (e) {
        // A cluster whose create was interrupted cannot start: make it again (its data is lost).
        progress(`cluster ${name} did not start (${(e as Error).message.split('\n')[0]}); re-creating it`);
        await run(join(l.kwokBin, 'kwokctl'), ['delete', 'cluster', '--name', name, '--kubeconfig', l.kubeconfig], {
          env: kwokEnv(l),
          reject: false,
        });
        await createCluster(l, name, progress);
      }
    } else {
      await createCluster(l, name, progress);
    }
    await waitFor(`cluster ${name}`, () => apiReady(l, name), 120_000, join(clusterDir(l, name), 'logs'));
  }
  const items: object[] = [...fakeNodes(name, region, nodes), sharedClusterExec(sharedExecDir(l))];
  if (name === CLUSTERS.primary) items.push(...limitedIdentity());
  mkdirSync(sharedExecDir(l), { recursive: true });
  await kubectlRun(l, ctx, ['apply', '-f', '-'], list(items));
  // Fewer nodes than last time: remove the extra ones.
  const r = await kubectlRun(l, ctx, ['get', 'nodes', '-l', `${SANDBOX_NODE_LABEL}=true`, '-o', 'name']);
  const want = new Set(Array.from({ length: nodes }, (_, i) => `node/${nodeName(name, i)}`));
  const extra = r.stdout.split('\n').filter((n) => n && !want.has(n));
  if (extra.length > 0) await kubectlRun(l, ctx, ['delete', ...extra, '--wait=false']);
}

async function writeLimitedKubeconfig(l: Layout) {
  const ctx = contextOf(CLUSTERS.primary);
  const token = (
    await kubectlRun(l, ctx, ['create', 'token', LIMITED_SA.name, '-n', LIMITED_SA.namespace, '--duration=8760h'])
  ).stdout.trim();
  const server = (
    await kubectlRun(l, ctx, ['config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}'])
  ).stdout.trim();
  const caData = readFileSync(join(clusterDir(l, CLUSTERS.primary), 'pki', 'ca.crt')).toString('base64');
  writeFileSync(l.limitedKubeconfig, tokenKubeconfig({ server, caData, token, name: 'hivectl-limited' }), {
    mode: 0o600,
  });
}

// ---------------------------------------------------------------- the public functions

function info(l: Layout, s: SandboxState): SandboxInfo {
  const i: Omit<SandboxInfo, 'env'> = {
    root: l.root,
    stateDir: l.stateDir,
    kubeconfig: l.kubeconfig,
    context: contextOf(CLUSTERS.primary),
    drContext: contextOf(CLUSTERS.dr),
    limitedKubeconfig: l.limitedKubeconfig,
    endpointUrl: `http://127.0.0.1:${s.ports.moto}`,
    region: REGIONS.primary,
    drRegion: REGIONS.dr,
    pgUrl: `postgres://hive@127.0.0.1:${s.ports.postgres}/postgres`,
    redisUrl: `redis://127.0.0.1:${s.ports.redis}/0`,
    prometheusUrl: `http://127.0.0.1:${s.ports.prometheus}`,
    prometheusTargetsDir: promTargetsDir(l),
    binDir: l.k8sBin,
    execDir: l.execDir,
    ports: { ...s.ports },
    nodes: s.nodes,
  };
  return { ...i, env: sandboxEnvVars(i, l) };
}

function sandboxEnvVars(i: Omit<SandboxInfo, 'env'>, l: Layout): Record<string, string> {
  return {
    KUBECONFIG: i.kubeconfig,
    AWS_ENDPOINT_URL: i.endpointUrl,
    AWS_REGION: i.region,
    AWS_DEFAULT_REGION: i.region,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    // No instance-metadata lookups when a credential is missing: fail fast instead.
    AWS_EC2_METADATA_DISABLED: 'true',
    PGURL: i.pgUrl,
    REDIS_URL: i.redisUrl,
    HIVECTL_PROMETHEUS_URL: i.prometheusUrl,
    HIVECTL_DR_CONTEXT: i.drContext,
    HIVECTL_SANDBOX_DIR: i.root,
    // kubectl of the same version, moto's tools, then PostgreSQL 15's client tools (pg_dump must not be older than the server).
    PATH: [i.binDir, join(l.motoVenv, 'bin'), l.pgBinDir, process.env.PATH ?? ''].join(':'),
  };
}

function shellQuote(v: string) {
  return /^[\w@%+=:,./-]*$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

/** `export K=V` lines; PATH is written relative to the caller's $PATH. */
export function envScript(i: SandboxInfo): string {
  const l = layout(i.root);
  return `${Object.entries(i.env)
    .map(([k, v]) =>
      k === 'PATH'
        ? `export PATH=${shellQuote([i.binDir, join(l.motoVenv, 'bin'), l.pgBinDir].join(':'))}:"$PATH"`
        : `export ${k}=${shellQuote(v)}`,
    )
    .join('\n')}\n`;
}

/**
 * Build what is missing, start what is not running, wait until every server is healthy.
 * Reuses healthy servers; restarts only dead ones. onProgress gets one line per phase.
 */
export async function sandboxUp(opts: SandboxOptions = {}, onProgress: Progress = () => {}): Promise<SandboxInfo> {
  const l = layout(opts.root ?? sandboxRoot());
  await checkPrerequisites(l);
  for (const d of [l.stateDir, l.logsDir, l.execDir, l.kwokWorkdir]) mkdirSync(d, { recursive: true });
  const release = await lockState(l, onProgress);
  try {
    return await up(l, opts, onProgress);
  } finally {
    release();
  }
}

/**
 * Two `up`s at once (two test runs, a user and CI) would both create the clusters: the second waits
 * for the first. The lock is a directory holding the owner's pid, so a crashed owner's lock is taken over.
 */
async function lockState(l: Layout, onProgress: Progress): Promise<() => void> {
  const dir = join(l.stateDir, 'up.lock');
  let told = false;
  const until = Date.now() + 30 * 60_000;
  while (Date.now() < until) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'pid'), String(process.pid));
      return () => rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = 0;
      try {
        owner = Number(readFileSync(join(dir, 'pid'), 'utf8'));
      } catch {
        /* being written */
      }
      if (owner && !pidAlive(owner)) {
        rmSync(dir, { recursive: true, force: true });
        continue;
      }
      if (!told) onProgress(`another \`sandbox up\` (pid ${owner || '?'}) is running; waiting for it`);
      told = true;
      await sleep(500);
    }
  }
  throw new StepError(`timed out waiting for the sandbox lock ${dir}`, { hint: 'remove it if no `sandbox up` runs' });
}

async function up(l: Layout, opts: SandboxOptions, onProgress: Progress): Promise<SandboxInfo> {
  await ensureBinaries(l, onProgress);
  const prev = readState(l);
  const s: SandboxState = {
    version: 1,
    nodes: opts.nodes ?? prev?.nodes ?? 3,
    // A state written before Prometheus joined the sandbox has no port for it yet.
    ports: { moto: 0, postgres: 0, redis: 0, prometheus: 0, ...prev?.ports },
    pids: prev?.pids ?? {},
  };
  if (!Number.isInteger(s.nodes) || s.nodes < 1 || s.nodes > 500)
    throw new UsageError(`--nodes must be between 1 and 500, got ${s.nodes}`);
  // Each server's pid and port is saved as soon as it starts, so `down` finds it even if `up` fails.
  writeState(l, s);
  const services = Promise.all([
    (async () => {
      await ensureMoto(l, s, onProgress);
      await ensureRedis(l, s, onProgress);
      await ensurePostgres(l, s, onProgress);
    })(),
    ensurePrometheus(l, s, onProgress),
  ]);
  const clusters = (async () => {
    const primary = () => ensureCluster(l, CLUSTERS.primary, REGIONS.primary, s.nodes, onProgress);
    const dr = () => ensureCluster(l, CLUSTERS.dr, REGIONS.dr, s.nodes, onProgress);
    // kwokctl create rewrites the shared kubeconfig, which the other cluster's kubectl calls read:
    // create one after the other; (re)start both at once.
    const creating = Object.values(CLUSTERS).some((c) => !existsSync(join(clusterDir(l, c), 'kwok.yaml')));
    if (creating) {
      await primary();
      await dr();
    } else await Promise.all([primary(), dr()]);
    await kubectlRun(l, contextOf(CLUSTERS.primary), ['config', 'use-context', contextOf(CLUSTERS.primary)]);
    await writeLimitedKubeconfig(l);
  })();
  const results = await Promise.allSettled([services, clusters]);
  writeState(l, s);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const i = info(l, s);
  writeFileSync(l.envFile, envScript(i));
  writeFileSync(join(l.stateDir, 'info.json'), `${JSON.stringify(i, null, 2)}\n`);
  return i;
}

/** The info of a sandbox that was brought up before (no health check). */
export function sandboxInfo(opts: SandboxOptions = {}): SandboxInfo {
  const l = layout(opts.root ?? sandboxRoot());
  const s = readState(l);
  if (!s) throw new UsageError(`no sandbox in ${l.root}`, { hint: 'run `hivectl sandbox up` first' });
  return info(l, s);
}

/** Environment variables for the sandbox (what `hivectl sandbox env` prints). */
export function sandboxEnv(opts: SandboxOptions = {}): Record<string, string> {
  return sandboxInfo(opts).env;
}

function kwokComponents(l: Layout, name: string): ComponentStatus[] {
  const dir = clusterDir(l, name);
  const pidsDir = join(dir, 'pids');
  if (!existsSync(pidsDir)) return [];
  let conf = '';
  try {
    conf = readFileSync(join(dir, 'kwok.yaml'), 'utf8');
  } catch {
    /* no config yet */
  }
  const portKey: Record<string, string> = {
    etcd: 'etcdPort',
    'kube-apiserver': 'kubeApiserverPort',
    'kube-controller-manager': 'kubeControllerManagerPort',
    'kube-scheduler': 'kubeSchedulerPort',
    'kwok-controller': 'kwokControllerPort',
  };
  const portOf = (comp: string) => {
    const m = portKey[comp] ? new RegExp(`^\\s*${portKey[comp]}: (\\d+)`, 'm').exec(conf) : null;
    return m ? Number(m[1]) : undefined;
  };
  return readdirSync(pidsDir)
    .filter((f) => f.endsWith('.pid'))
    .map((f) => {
      const comp = f.replace(/\.pid$/, '');
      const pid = Number(readFileSync(join(pidsDir, f), 'utf8').trim());
      const running = pidAlive(pid);
      return {
        name: `${name}/${comp}`,
        running,
        pid,
        port: portOf(comp),
        log: join(dir, 'logs', `${comp}.log`),
        ...(running ? { rssBytes: pidRss(pid) } : {}),
      };
    });
}

/** Each component: running?, pid, port, log. Reads pids and probes ports; starts nothing. */
export async function sandboxStatus(opts: SandboxOptions = {}): Promise<SandboxStatus> {
  const l = layout(opts.root ?? sandboxRoot());
  const s = readState(l);
  const comps: ComponentStatus[] = [];
  if (s) {
    const motoOk = !!s.pids.moto && pidAlive(s.pids.moto) && (await motoHealthy(s.ports.moto));
    comps.push({
      name: 'moto',
      running: motoOk,
      pid: s.pids.moto,
      port: s.ports.moto,
      log: join(l.logsDir, 'moto.log'),
    });
    const redisOk = !!s.pids.redis && pidAlive(s.pids.redis) && (await redisPing(s.ports.redis));
    comps.push({
      name: 'redis',
      running: redisOk,
      pid: s.pids.redis,
      port: s.ports.redis,
      log: join(l.logsDir, 'redis.log'),
    });
    const pgp = pgPid(l);
    const pgOk = !!pgp && pidAlive(pgp) && (await pgHealthy(l, s.ports.postgres));
    comps.push({ name: 'postgres', running: pgOk, pid: pgp, port: s.ports.postgres, log: pgLog(l) });
    const promOk = isOurPrometheus(l, s.pids.prometheus) && (await promHealthy(s.ports.prometheus));
    comps.push({
      name: 'prometheus',
      running: promOk,
      pid: s.pids.prometheus,
      port: s.ports.prometheus,
      log: join(l.logsDir, 'prometheus.log'),
    });
  }
  for (const c of [CLUSTERS.primary, CLUSTERS.dr]) {
    const ks = kwokComponents(l, c);
    if (ks.length === 0 && s) comps.push({ name: `${c}`, running: false, log: join(clusterDir(l, c), 'logs') });
    comps.push(...ks);
  }
  for (const c of comps) if (c.running && c.pid && c.rssBytes === undefined) c.rssBytes = pidRss(c.pid);
  return {
    root: l.root,
    stateDir: l.stateDir,
    up: comps.length > 0 && comps.every((c) => c.running),
    components: comps,
    rssBytes: comps.reduce((a, c) => a + (c.rssBytes ?? 0), 0),
  };
}

/**
 * Stop every process the sandbox started (by pid; kwokctl stops its clusters' components).
 * purge: also delete the clusters and all state (built binaries stay).
 */
export async function sandboxDown(
  opts: SandboxOptions & { purge?: boolean } = {},
  onProgress: Progress = () => {},
): Promise<{ stopped: string[]; stillListening: number[] }> {
  const l = layout(opts.root ?? sandboxRoot());
  const s = readState(l);
  const stopped: string[] = [];
  const kwokctl = join(l.kwokBin, 'kwokctl');
  const clusters = [CLUSTERS.primary, CLUSTERS.dr].filter((c) => existsSync(clusterDir(l, c)));
  // SIGTERM every component of both clusters at once (kwokctl stops them one by one, about 17 s a
  // cluster), then let kwokctl do its bookkeeping on the stopped cluster.
  await Promise.all(
    clusters.map(async (c) => {
      onProgress(`${opts.purge ? 'deleting' : 'stopping'} KWOK cluster ${c}`);
      await Promise.all(kwokComponents(l, c).map((k) => (k.running && k.pid ? stopPid(k.pid) : undefined)));
      if (existsSync(kwokctl)) {
        await run(kwokctl, [opts.purge ? 'delete' : 'stop', 'cluster', '--name', c, '--kubeconfig', l.kubeconfig], {
          env: kwokEnv(l),
          reject: false,
          timeoutMs: 120_000,
        });
      }
      stopped.push(c);
    }),
  );
  if (s?.pids.moto && pidAlive(s.pids.moto) && pidCmdline(s.pids.moto).includes('moto_server')) {
    onProgress('stopping moto');
    await stopPid(s.pids.moto);
    stopped.push('moto');
  }
  if (s?.pids.redis && pidAlive(s.pids.redis) && pidCmdline(s.pids.redis).includes('redis-server')) {
    onProgress('stopping Redis');
    await stopPid(s.pids.redis);
    stopped.push('redis');
  }
  if (isOurPrometheus(l, s?.pids.prometheus)) {
    onProgress('stopping Prometheus');
    await stopPid(s.pids.prometheus);
    stopped.push('prometheus');
  }
  const pgp = pgPid(l);
  if (pgp && pidAlive(pgp)) {
    onProgress('stopping PostgreSQL');
    await pgRun(l, 'pg_ctl', ['-D', join(l.pgDir, 'data'), '-m', 'fast', '-w', 'stop'], false);
    if (pidAlive(pgp)) await stopPid(pgp);
    stopped.push('postgres');
  }
  const stillListening: number[] = [];
  if (s) for (const p of Object.values(s.ports)) if (p && (await portOpen(p, 300))) stillListening.push(p);
  if (opts.purge) {
    onProgress(`removing ${l.stateDir}`);
    rmSync(l.stateDir, { recursive: true, force: true });
    rmSync(l.pgDir, { recursive: true, force: true });
  }
  return { stopped, stillListening };
}

/**
 * Map execs into pod NAMESPACE/POD (on the primary cluster unless context says otherwise) to their
 * own local directory, creating the mapping (a KWOK Exec object) if needed. Returns the directory.
 */
export async function mapPodWorkdir(
  namespace: string,
  pod: string,
  opts: SandboxOptions & { context?: string } = {},
): Promise<string> {
  const l = layout(opts.root ?? sandboxRoot());
  const dir = podExecDir(l, namespace, pod);
  mkdirSync(dir, { recursive: true });
  const context = opts.context ?? contextOf(CLUSTERS.primary);
  const uid = await kubectlRun(
    l,
    context,
    ['get', 'pod', '-n', namespace, pod, '-o', 'jsonpath={.metadata.uid}'],
    undefined,
    false,
  );
  const podUid = uid.exitCode === 0 ? String(uid.stdout).trim() || undefined : undefined;
  await kubectlRun(l, context, ['apply', '-f', '-'], JSON.stringify(podExec(namespace, pod, dir, podUid)));
  return dir;
}

/** A hivectl.yaml that points every command at the sandbox. */
export function sandboxConfigYaml(i: SandboxInfo): string {
  return [
    '# Written by `hivectl sandbox env --write-config`: every command against the local sandbox.',
    'cluster:',
    `  kubeconfig: ${i.kubeconfig}`,
    `  context: ${i.context}`,
    `  drContext: ${i.drContext}`,
    'aws:',
    `  region: ${i.region}`,
    `  drRegion: ${i.drRegion}`,
    `  endpointUrl: ${i.endpointUrl}`,
    'backup:',
    '  bucket: hive-backups-us-east-1',
    '  drBucket: hive-backups-us-west-2',
    'database:',
    '  kind: postgres',
    `  url: ${i.pgUrl}`,
    'redis:',
    `  url: ${i.redisUrl}`,
    'prometheus:',
    `  url: ${i.prometheusUrl}`,
    '',
  ].join('\n');
}
