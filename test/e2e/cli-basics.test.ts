// biome-ignore-all lint/suspicious/noTemplateCurlyInString: config files here contain literal ${VAR} references
// The built CLI as a process, with no sandbox and a clean environment: help, usage errors, version,
// config init/validate/show, completion. Each test gets its own empty directory and HOME.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runProcess } from '../helpers/sandbox.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(repo, 'bin', 'hivectl.js');
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hivectl-e2e-basics-'));
  mkdirSync(join(dir, 'home'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Run the CLI in `dir` with only PATH, HOME and what the test adds: nothing from the caller's shell. */
function cli(args: string[], env: Record<string, string> = {}) {
  const clean: Record<string, string | undefined> = {};
  for (const k of Object.keys(process.env)) {
    if (/^(HIVECTL_|AWS_|KUBECONFIG$|XDG_CONFIG_HOME$)/.test(k)) clean[k] = undefined;
  }
  return runProcess(process.execPath, [bin, ...args], {
    cwd: dir,
    env: { ...clean, HOME: join(dir, 'home'), NO_COLOR: '1', ...env },
    timeoutMs: 30_000,
  });
}

const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/);

describe('hivectl basics (built CLI)', () => {
  it('--help exits 0 and lists the commands', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['version', 'config', 'doctor', 'completion']) expect(r.stdout).toMatch(new RegExp(`\\n  ${c}\\b`));
  });

  it('an unknown flag exits 2', async () => {
    const r = await cli(['--no-such-flag']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--no-such-flag'");
  });

  it('version -o json prints the package version', async () => {
    const r = await cli(['version', '-o', 'json']);
    expect(r.code).toBe(0);
    const v = JSON.parse(r.stdout);
    expect(v.version).toBe(JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version);
    expect(v.node).toBe(process.versions.node);
  });

  it('an invalid hivectl.yaml exits 2 with one `path: message` line per problem and no stack', async () => {
    writeFileSync(join(dir, 'hivectl.yaml'), 'aws:\n  region: 42\n  regoin: x\n');
    for (const args of [['config', 'validate'], ['config', 'show'], ['doctor']]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('./hivectl.yaml: aws.region: expected string, got number');
      expect(r.stderr).toContain('./hivectl.yaml: aws.regoin: unknown key (did you mean "region"?)');
      noStack(r.stderr);
    }
  });

  it('a YAML syntax error names file:line:col and exits 2', async () => {
    writeFileSync(join(dir, 'bad.yaml'), 'aws:\n  region: [us-east-1\n x: 1\n');
    const r = await cli(['config', 'validate', '--file', 'bad.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml:\d+:\d+: /);
    noStack(r.stderr);
  });

  it('config init writes a valid starter and refuses to overwrite it (exit 5)', async () => {
    let r = await cli(['config', 'init']);
    expect(r.code).toBe(0);
    r = await cli(['config', 'validate']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('valid');
    r = await cli(['config', 'init']);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('--force');
    r = await cli(['config', 'init', '--force']);
    expect(r.code).toBe(0);
  });

  it('config show -o json parses, records sources and masks a canary password', async () => {
    const canary = 'CANARY-9f2c1e';
    writeFileSync(
      join(dir, 'hivectl.yaml'),
      'aws:\n  region: eu-west-1\ndatabase:\n  url: postgres://hive:${HIVE_DB_PASSWORD}@db:5432/hive\n',
    );
    const r = await cli(['config', 'show', '-o', 'json', '--dr-region', 'eu-central-1'], {
      HIVE_DB_PASSWORD: canary,
      HIVECTL_REDIS_URL: `redis://:${canary}@redis:6379`,
      AWS_ENDPOINT_URL: 'http://127.0.0.1:5000',
    });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.config.aws.region).toBe('eu-west-1');
    expect(out.sources['aws.region']).toBe('./hivectl.yaml');
    expect(out.sources['aws.drRegion']).toBe('flag --dr-region');
    expect(out.sources['aws.endpointUrl']).toBe('env AWS_ENDPOINT_URL');
    expect(out.sources['redis.url']).toBe('env HIVECTL_REDIS_URL');
    expect(out.sources['cluster.namespace']).toBe('default');
    expect(out.config.database.url).toBe('postgres://hive:****@db:5432/hive');
    expect(r.stdout + r.stderr).not.toContain(canary);
    // The YAML and table forms mask as well.
    const y = await cli(['config', 'show', '-o', 'yaml'], { HIVE_DB_PASSWORD: canary });
    expect(y.code, y.stderr).toBe(0);
    expect(y.stdout).toMatch(/^sources:\n/m);
    expect(y.stdout).toContain('aws.region: ./hivectl.yaml');
    expect(y.stdout).not.toContain(canary);
    const t = await cli(['config', 'show'], { HIVE_DB_PASSWORD: canary });
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/aws\.region\s+eu-west-1\s+\.\/hivectl\.yaml/);
    expect(t.stdout).not.toContain(canary);
  });

  it('a command that needs an AWS region and has none exits 2 with how to set one', async () => {
    // `backup list` reads S3, so it needs a region; nothing in this clean environment provides one.
    const r = await cli(['backup', 'list'], { HIVECTL_BACKUP_BUCKET: 'hive-backups' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no AWS region configured');
    expect(r.stderr).toMatch(/-> .*--region/);
    noStack(r.stderr);
  });

  it('start-up loads no SDK, zod, yaml, listr2 or execa before a command runs (lazy imports)', async () => {
    const r = await runProcess(process.execPath, [join(repo, 'bench', 'static-imports.mjs')], { timeoutMs: 30_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^static load: .*packages: /m);
    expect(r.stdout).not.toContain('WARNING');
  });

  it('completion bash prints a script that bash can load', async () => {
    const r = await cli(['completion', 'bash']);
    expect(r.code).toBe(0);
    execFileSync('bash', ['-n'], { input: r.stdout });
    expect(r.stdout).toContain('complete -F _hivectl hivectl');
    const bad = await cli(['completion', 'tcsh']);
    expect(bad.code).toBe(2);
  });
});
