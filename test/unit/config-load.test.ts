// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about literal ${VAR} references in config files
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { didYouMean, type LoadConfigOptions, loadConfig, maskSecrets } from '../../src/core/config-load.js';
import { ExitCode, UsageError } from '../../src/core/errors.js';
import { handleFatal } from '../../src/core/fatal.js';

let dir: string;
let cwd: string;
let home: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hivectl-config-'));
  cwd = join(dir, 'project');
  home = join(dir, 'home');
  mkdirSync(cwd, { recursive: true });
  mkdirSync(join(home, '.config', 'hivectl'), { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const writeProject = (text: string, name = 'hivectl.yaml') => writeFileSync(join(cwd, name), text);
const writeUser = (text: string) => writeFileSync(join(home, '.config', 'hivectl', 'config.yaml'), text);
const load = (o: Partial<LoadConfigOptions> = {}) => loadConfig({ cwd, home, env: {}, flags: {}, ...o });

async function loadError(o: Partial<LoadConfigOptions> = {}): Promise<UsageError> {
  try {
    await load(o);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return e as UsageError;
  }
  throw new Error('expected loadConfig to fail');
}

describe('loadConfig precedence', () => {
  it('uses the schema defaults when nothing is set, and says so', async () => {
    const { config, sources, files } = await load();
    expect(config.cluster.namespace).toBe('hive-system');
    expect(config.aws.region).toBeUndefined();
    expect(sources['cluster.namespace']).toBe('default');
    expect(sources['aws.region']).toBeUndefined();
    expect(files).toEqual([]);
  });

  it('each layer beats the one below: flag > HIVECTL_* > AWS_* > ./hivectl.yaml > ~/.config > default', async () => {
    writeUser('aws:\n  region: from-user\n  drRegion: dr-user\ncluster:\n  namespace: ns-user\n');
    writeProject('aws:\n  region: from-project\ncluster:\n  namespace: ns-project\n');

    let r = await load();
    expect(r.config.aws.region).toBe('from-project');
    expect(r.sources['aws.region']).toBe('./hivectl.yaml');
    expect(r.config.aws.drRegion).toBe('dr-user');
    expect(r.sources['aws.drRegion']).toBe('~/.config/hivectl/config.yaml');
    expect(r.sources['backup.prefix']).toBe('default');

    r = await load({ env: { AWS_DEFAULT_REGION: 'from-aws-default' } });
    expect(r.config.aws.region).toBe('from-aws-default');
    expect(r.sources['aws.region']).toBe('env AWS_DEFAULT_REGION');

    // AWS_REGION wins over AWS_DEFAULT_REGION, as in the AWS CLI.
    r = await load({ env: { AWS_DEFAULT_REGION: 'x', AWS_REGION: 'from-aws-region' } });
    expect(r.sources['aws.region']).toBe('env AWS_REGION');

    r = await load({
      env: { AWS_REGION: 'from-aws-region', HIVECTL_REGION: 'from-hivectl', HIVECTL_NAMESPACE: 'ns-env' },
    });
    expect(r.config.aws.region).toBe('from-hivectl');
    expect(r.sources['aws.region']).toBe('env HIVECTL_REGION');
    expect(r.config.cluster.namespace).toBe('ns-env');

    r = await load({
      env: { HIVECTL_REGION: 'from-hivectl', HIVECTL_NAMESPACE: 'ns-env' },
      flags: { region: 'from-flag', namespace: 'ns-flag' },
    });
    expect(r.config.aws.region).toBe('from-flag');
    expect(r.sources['aws.region']).toBe('flag --region');
    expect(r.config.cluster.namespace).toBe('ns-flag');
    expect(r.sources['cluster.namespace']).toBe('flag --namespace');
    // Untouched values keep their own source.
    expect(r.sources['aws.drRegion']).toBe('~/.config/hivectl/config.yaml');
  });

  it('maps every documented HIVECTL_* variable and the standard AWS ones', async () => {
    const { config, sources } = await load({
      env: {
        HIVECTL_KUBECONFIG: '/k',
        HIVECTL_CONTEXT: 'c',
        HIVECTL_PROFILE: 'p',
        HIVECTL_DR_REGION: 'us-west-2',
        HIVECTL_BACKUP_BUCKET: 'b',
        HIVECTL_DATABASE_URL: 'postgres://h/db',
        HIVECTL_REDIS_URL: 'redis://h:6379',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:5000',
      },
    });
    expect(config.cluster.kubeconfig).toBe('/k');
    expect(config.cluster.context).toBe('c');
    expect(config.aws.profile).toBe('p');
    expect(config.aws.drRegion).toBe('us-west-2');
    expect(config.backup.bucket).toBe('b');
    expect(config.database.url).toBe('postgres://h/db');
    expect(config.redis.url).toBe('redis://h:6379');
    expect(config.aws.endpointUrl).toBe('http://127.0.0.1:5000');
    expect(sources['aws.endpointUrl']).toBe('env AWS_ENDPOINT_URL');
    expect(sources['backup.bucket']).toBe('env HIVECTL_BACKUP_BUCKET');
  });

  it('--config FILE replaces ./hivectl.yaml and is labelled as given', async () => {
    writeProject('aws:\n  region: from-project\n');
    writeProject('aws:\n  region: from-other\n', 'other.yaml');
    const r = await load({ configFile: 'other.yaml' });
    expect(r.config.aws.region).toBe('from-other');
    expect(r.sources['aws.region']).toBe('other.yaml');
  });

  it('HIVECTL_CONFIG names the project file when --config is not given', async () => {
    writeProject('aws:\n  region: from-env-file\n', 'env.yaml');
    const r = await load({ env: { HIVECTL_CONFIG: 'env.yaml' } });
    expect(r.config.aws.region).toBe('from-env-file');
    expect(r.sources['aws.region']).toBe('env.yaml');
  });

  it('a missing --config FILE is a usage error', async () => {
    const e = await loadError({ configFile: 'nope.yaml' });
    expect(e.exitCode).toBe(ExitCode.usage);
    expect(e.message).toContain('nope.yaml does not exist');
  });

  it('merges nested objects key by key and replaces lists', async () => {
    writeUser('backup:\n  hooks:\n    pre: [a, b]\n');
    writeProject('platform:\n  api:\n    image: registry.local/api:2\nbackup:\n  hooks:\n    pre: [c]\n');
    const { config, sources } = await load();
    expect(config.platform.api.image).toBe('registry.local/api:2');
    expect(config.platform.api.deployment).toBe('hive-api');
    expect(sources['platform.api.deployment']).toBe('default');
    expect(config.backup.hooks.pre).toEqual(['c']);
    expect(sources['backup.hooks.pre']).toBe('./hivectl.yaml');
  });

  it('an empty key (all children commented out) means unset', async () => {
    writeProject('aws:\n  # region: x\nbackup:\n');
    const { config } = await load();
    expect(config.aws.region).toBeUndefined();
    expect(config.backup.prefix).toBe('hivectl/');
  });
});

describe('${VAR} expansion', () => {
  it('expands from the environment at load time, with defaults and $${ escapes', async () => {
    writeProject(
      [
        'database:',
        '  url: postgres://hive:${DB_PASSWORD}@db:5432/hive',
        'redis:',
        '  url: redis://${REDIS_HOST:-localhost}:6379',
        '  queueKey: "$${literal}"',
      ].join('\n'),
    );
    const { config, expanded } = await load({ env: { DB_PASSWORD: 's3cr3t' } });
    expect(config.database.url).toBe('postgres://hive:s3cr3t@db:5432/hive');
    expect(config.redis.url).toBe('redis://localhost:6379');
    expect(config.redis.queueKey).toBe('${literal}');
    expect(expanded['database.url']).toEqual(['DB_PASSWORD']);
  });

  it('an unset variable is a problem naming the file, the path and the variable', async () => {
    writeProject('database:\n  url: postgres://hive:${DB_PASSWORD}@db/hive\n');
    const e = await loadError();
    expect(e.message).toContain('./hivectl.yaml: database.url: ${DB_PASSWORD} is not set in the environment');
  });
});

describe('invalid configuration', () => {
  it('reports one `file: path: message` line per problem, with did-you-mean for typos', async () => {
    writeProject(
      [
        'aws:',
        '  region: 42',
        '  regoin: us-east-1',
        '  endpointUrl: not a url',
        'cluster:',
        '  namespace: [a]',
        'platform:',
        '  env: qa',
        'slo:',
        '  rto: forever',
        'backpu: {}',
      ].join('\n'),
    );
    const e = await loadError();
    expect(e.exitCode).toBe(ExitCode.usage);
    const lines = e.message.split('\n').map((l) => l.trim());
    expect(lines).toContain('./hivectl.yaml: aws.region: expected string, got number');
    expect(lines).toContain('./hivectl.yaml: aws.regoin: unknown key (did you mean "region"?)');
    expect(lines).toContain('./hivectl.yaml: aws.endpointUrl: expected a URL');
    expect(lines).toContain('./hivectl.yaml: cluster.namespace: expected string, got a list');
    expect(lines).toContain('./hivectl.yaml: platform.env: expected one of "dev", "staging", "prod", got "qa"');
    expect(lines.some((l) => l.startsWith('./hivectl.yaml: slo.rto: '))).toBe(true);
    expect(lines).toContain('./hivectl.yaml: backpu: unknown key (did you mean "backup"?)');
    expect(e.message).toMatch(/invalid configuration \(7 problems\)/);
    expect(e.hint).toBeTruthy();
  });

  it('blames the layer that supplied the bad value', async () => {
    writeUser('aws:\n  endpointUrl: nope\n');
    const e = await loadError({ env: { HIVECTL_ENDPOINT_URL: 'also-nope' } });
    expect(e.message).toContain('env HIVECTL_ENDPOINT_URL: aws.endpointUrl: expected a URL');
  });

  it('gives file:line:col for YAML syntax errors', async () => {
    writeProject('aws:\n  region: [us-east-1\n x: 1\n');
    const e = await loadError();
    expect(e.message).toMatch(/\.\/hivectl\.yaml:\d+:\d+: /);
  });

  it('rejects a file that is not a mapping', async () => {
    writeProject('- just\n- a list\n');
    const e = await loadError();
    expect(e.message).toContain('./hivectl.yaml: expected a mapping of keys at the top level');
  });

  it('exits 2 through the fatal handler with the lines and no stack trace', async () => {
    writeProject('aws:\n  region: 42\n');
    const e = await loadError();
    const writes: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => {
      writes.push(String(s));
      return true;
    }) as typeof process.stderr.write;
    try {
      expect(handleFatal(e, false)).toBe(2);
    } finally {
      process.stderr.write = orig;
    }
    const text = writes.join('');
    expect(text).toContain('./hivectl.yaml: aws.region: expected string, got number');
    expect(text).not.toMatch(/\n\s+at /);
  });
});

describe('helpers', () => {
  it('didYouMean suggests close keys only', () => {
    expect(didYouMean('regoin', ['region', 'profile'])).toBe('region');
    expect(didYouMean('endpointURL', ['endpointUrl'])).toBe('endpointUrl');
    expect(didYouMean('zzzzzz', ['region', 'profile'])).toBeUndefined();
  });

  it('maskSecrets hides URL passwords, secret-looking keys and values from secret variables', () => {
    const masked = maskSecrets(
      {
        database: { url: 'postgres://hive:CANARY-pw@db/hive?sslpassword=CANARY-2', endpointSecret: 'hive-db' },
        redis: { url: 'redis://:CANARY-3@redis:6379' },
        extra: { apiToken: 'CANARY-4', plain: 'CANARY-5', name: 'visible' },
      },
      { 'extra.plain': ['SOME_SECRET'] },
    );
    const text = JSON.stringify(masked);
    expect(text).not.toContain('CANARY');
    expect(masked.database.url).toBe('postgres://hive:****@db/hive?sslpassword=****');
    expect(masked.database.endpointSecret).toBe('hive-db');
    expect(masked.extra.name).toBe('visible');
  });
});
