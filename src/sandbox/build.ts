// Builds the sandbox's servers from the package registries (no Docker, no download sites): the
// Kubernetes control plane, etcd and KWOK from their Go modules through small wrapper modules, and
// moto in a Python venv. Each lands in a version-keyed directory under bin/, written to a temporary
// directory first and renamed, so an interrupted build never leaves a half-built component behind.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, runStreaming } from '../adapters/sandbox-proc.js';
import { StepError } from '../core/errors.js';
import { type Layout, VERSIONS } from './layout.js';

export type Progress = (message: string) => void;

const K8S_CMDS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'];
// A machine's own Go; never fetch another toolchain behind the user's back.
const GO_ENV = { GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' };

function missing(dir: string, names: string[]): boolean {
  return names.some((n) => !existsSync(join(dir, n)));
}

/** go.mod of k8s.io/kubernetes replaces its staging modules with local paths; a consumer must replace
 * them with the published v0.X.Y versions instead. Generated from the real go.mod, never typed. */
export function kubernetesWrapperGoMod(upstreamGoMod: string, version: string, module = 'hivectl.local/k8sbuild') {
  const [major, minor, patch] = version.split('.');
  const staging = `v0.${minor}.${patch}`;
  const goLine = /^go (\S+)/m.exec(upstreamGoMod)?.[1] ?? '1.26.0';
  const replaces = [...upstreamGoMod.matchAll(/^\s*(k8s\.io\/[\w.-]+)\s+=>\s+\.\/staging\/src\/\S+\s*$/gm)].map(
    (m) => `\t${m[1]} => ${m[1]} ${staging}`,
  );
  if (replaces.length === 0) throw new StepError('no staging replace lines in the k8s.io/kubernetes go.mod');
  void major;
  return `module ${module}\n\ngo ${goLine}\n\nrequire k8s.io/kubernetes v${version}\n\nreplace (\n${replaces.join('\n')}\n)\n`;
}

/** -X flags so the binaries report their real version (kwokctl checks it). */
export function kubernetesLdflags(version: string, buildDate = new Date().toISOString().replace(/\.\d+Z$/, 'Z')) {
  const [major, minor] = version.split('.');
  const flags = ['-s', '-w'];
  for (const p of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) {
    flags.push(
      `-X ${p}.gitVersion=v${version}`,
      `-X ${p}.gitMajor=${major}`,
      `-X ${p}.gitMinor=${minor}`,
      `-X ${p}.gitTreeState=clean`,
      `-X ${p}.buildDate=${buildDate}`,
    );
  }
  return flags.join(' ');
}

/** Prints a line every 30 s (and every 100 packages) while a go build runs, so a cold build is not silent. */
function goProgress(what: string, progress: Progress) {
  const started = Date.now();
  let pkgs = 0;
  let last = started;
  return (line: string) => {
    if (/^[\w.-]+(\/[\w.@~-]+)+$/.test(line.trim())) pkgs++;
    const now = Date.now();
    if (now - last > 30_000 || (pkgs > 0 && pkgs % 200 === 0 && now - last > 5000)) {
      last = now;
      progress(`  ${what}: ${pkgs} packages compiled, ${Math.round((now - started) / 1000)} s`);
    }
  };
}

async function buildKubernetes(l: Layout, progress: Progress): Promise<void> {
  const v = VERSIONS.kubernetes;
  const mod = join(l.buildDir, `k8s-v${v}`);
  mkdirSync(mod, { recursive: true });
  progress(`building Kubernetes v${v} (${K8S_CMDS.join(', ')}) from Go modules: about 8-10 min cold, under 1 min warm`);
  const dl = await run('go', ['mod', 'download', '-json', `k8s.io/kubernetes@v${v}`], {
    cwd: l.buildDir,
    env: GO_ENV,
    timeoutMs: 15 * 60_000,
  });
  const goModPath = (JSON.parse(dl.stdout) as { GoMod?: string }).GoMod;
  if (!goModPath) throw new StepError(`go mod download k8s.io/kubernetes@v${v} gave no go.mod`);
  writeFileSync(join(mod, 'go.mod'), kubernetesWrapperGoMod(readFileSync(goModPath, 'utf8'), v));
  writeFileSync(
    join(mod, 'tools.go'),
    `//go:build tools\n\npackage tools\n\nimport (\n${K8S_CMDS.map((c) => `\t_ "k8s.io/kubernetes/cmd/${c}"`).join('\n')}\n)\n`,
  );
  await run('go', ['mod', 'tidy'], { cwd: mod, env: GO_ENV, timeoutMs: 15 * 60_000 });
  const tmp = `${l.k8sBin}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await runStreaming(
    'go',
    [
      'build',
      '-v',
      '-ldflags',
      kubernetesLdflags(v),
      '-o',
      `${tmp}/`,
      ...K8S_CMDS.map((c) => `k8s.io/kubernetes/cmd/${c}`),
    ],
    { cwd: mod, env: GO_ENV, onLine: goProgress('kubernetes', progress) },
  );
  rmSync(l.k8sBin, { recursive: true, force: true });
  renameSync(tmp, l.k8sBin);
}

async function buildGoTools(
  name: string,
  outDir: string,
  mod: string,
  getArgs: string[],
  pkgs: string[],
  progress: Progress,
  /** Output file name when building one package (go names it after the path, e.g. "server"). */
  single?: string,
): Promise<void> {
  mkdirSync(mod, { recursive: true });
  if (!existsSync(join(mod, 'go.mod'))) {
    await run('go', ['mod', 'init', `hivectl.local/${name}build`], { cwd: mod, env: GO_ENV });
  }
  await run('go', ['get', '-tool', ...getArgs], { cwd: mod, env: GO_ENV, timeoutMs: 15 * 60_000 });
  const tmp = `${outDir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await runStreaming(
    'go',
    ['build', '-v', '-ldflags', '-s -w', '-o', single ? join(tmp, single) : `${tmp}/`, ...pkgs],
    {
      cwd: mod,
      env: GO_ENV,
      onLine: goProgress(name, progress),
    },
  );
  rmSync(outDir, { recursive: true, force: true });
  renameSync(tmp, outDir);
}

async function buildEtcd(l: Layout, progress: Progress) {
  progress(`building etcd v${VERSIONS.etcd} from Go modules (about 30 s cold)`);
  const pkg = 'go.etcd.io/etcd/server/v3';
  await buildGoTools(
    'etcd',
    l.etcdBin,
    join(l.buildDir, `etcd-v${VERSIONS.etcd}`),
    [`${pkg}@v${VERSIONS.etcd}`],
    [pkg],
    progress,
    'etcd',
  );
}

async function buildKwok(l: Layout, progress: Progress) {
  progress(`building KWOK v${VERSIONS.kwok} (kwok, kwokctl) from Go modules (about 2 min cold)`);
  const pkgs = ['sigs.k8s.io/kwok/cmd/kwok', 'sigs.k8s.io/kwok/cmd/kwokctl'];
  await buildGoTools(
    'kwok',
    l.kwokBin,
    join(l.buildDir, `kwok-v${VERSIONS.kwok}`),
    pkgs.map((p) => `${p}@v${VERSIONS.kwok}`),
    pkgs,
    progress,
  );
}

async function installMoto(l: Layout, progress: Progress) {
  progress(`installing moto[server]==${VERSIONS.moto} into a Python venv (about 1 min)`);
  // A venv cannot be moved (its scripts name their own path), so it is built in place and marked
  // complete only once pip has succeeded.
  rmSync(l.motoVenv, { recursive: true, force: true });
  await run('python3', ['-m', 'venv', l.motoVenv], { timeoutMs: 5 * 60_000 });
  await run(join(l.motoVenv, 'bin', 'pip'), ['install', '-q', `moto[server]==${VERSIONS.moto}`], {
    timeoutMs: 15 * 60_000,
  });
  writeFileSync(join(l.motoVenv, '.complete'), `${VERSIONS.moto}\n`);
}

/** Which components are not built yet (so which build tools are needed). */
export function missingComponents(l: Layout): { go: boolean; python: boolean } {
  return {
    go: missing(l.etcdBin, ['etcd']) || missing(l.kwokBin, ['kwok', 'kwokctl']) || missing(l.k8sBin, K8S_CMDS),
    python: missing(l.motoVenv, ['bin/moto_server', '.complete']),
  };
}

/** Builds whatever is missing; a no-op (a few stat calls) when every component is there. */
export async function ensureBinaries(l: Layout, progress: Progress): Promise<{ built: string[] }> {
  mkdirSync(l.buildDir, { recursive: true });
  const built: string[] = [];
  if (missing(l.etcdBin, ['etcd'])) {
    await buildEtcd(l, progress);
    built.push('etcd');
  }
  if (missing(l.kwokBin, ['kwok', 'kwokctl'])) {
    await buildKwok(l, progress);
    built.push('kwok');
  }
  if (missing(l.motoVenv, ['bin/moto_server', '.complete'])) {
    await installMoto(l, progress);
    built.push('moto');
  }
  if (missing(l.k8sBin, K8S_CMDS)) {
    const t = Date.now();
    await buildKubernetes(l, progress);
    progress(`  kubernetes built in ${Math.round((Date.now() - t) / 1000)} s`);
    built.push('kubernetes');
  }
  return { built };
}
