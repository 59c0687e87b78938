// Loads hivectl's configuration: defaults < ~/.config/hivectl/config.yaml < ./hivectl.yaml (or --config)
// < standard env (AWS_REGION, ...) < HIVECTL_* env < flags, validated once by the zod schema.
// Heavy (zod, yaml): import this module lazily, inside an action.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parseDocument, stringify } from 'yaml';
import type { z } from 'zod';
import type { HivectlConfig } from './config.js';
import { configSchema } from './config-schema.js';
import { UsageError } from './errors.js';

export interface ConfigFlags {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  namespace?: string | undefined;
  profile?: string | undefined;
  region?: string | undefined;
  drRegion?: string | undefined;
  endpointUrl?: string | undefined;
}

export interface LoadConfigOptions {
  /** --config FILE: replaces ./hivectl.yaml (must exist). */
  configFile?: string | undefined;
  cwd: string;
  home: string;
  env: Record<string, string | undefined>;
  flags: ConfigFlags;
}

export interface LoadedConfig {
  config: HivectlConfig;
  /** Dotted path (e.g. `aws.region`) -> where its value came from (`flag --region`, `env HIVECTL_REGION`, ...). */
  sources: Record<string, string>;
  /** Dotted path -> env vars expanded into it from `${VAR}` references (for masking and `config show`). */
  expanded: Record<string, string[]>;
  /** Config files that were read, lowest precedence first. */
  files: string[];
}

type Obj = Record<string, unknown>;

/** Flag -> config path. Kept here so docs/config.md and `config show` agree with the loader. */
export const FLAG_MAP: ReadonlyArray<readonly [keyof ConfigFlags, string, string]> = [
  ['kubeconfig', 'cluster.kubeconfig', '--kubeconfig'],
  ['context', 'cluster.context', '--context'],
  ['namespace', 'cluster.namespace', '--namespace'],
  ['profile', 'aws.profile', '--profile'],
  ['region', 'aws.region', '--region'],
  ['drRegion', 'aws.drRegion', '--dr-region'],
  ['endpointUrl', 'aws.endpointUrl', '--endpoint-url'],
];

/** HIVECTL_* env -> config path (beats config files, loses to flags). */
export const ENV_MAP: ReadonlyArray<readonly [string, string]> = [
  ['HIVECTL_KUBECONFIG', 'cluster.kubeconfig'],
  ['HIVECTL_CONTEXT', 'cluster.context'],
  ['HIVECTL_DR_CONTEXT', 'cluster.drContext'],
  ['HIVECTL_NAMESPACE', 'cluster.namespace'],
  ['HIVECTL_PROFILE', 'aws.profile'],
  ['HIVECTL_REGION', 'aws.region'],
  ['HIVECTL_DR_REGION', 'aws.drRegion'],
  ['HIVECTL_ENDPOINT_URL', 'aws.endpointUrl'],
  ['HIVECTL_BACKUP_BUCKET', 'backup.bucket'],
  ['HIVECTL_DR_BACKUP_BUCKET', 'backup.drBucket'],
  ['HIVECTL_BACKUP_PREFIX', 'backup.prefix'],
  ['HIVECTL_KMS_KEY_ID', 'backup.kmsKeyId'],
  ['HIVECTL_DATABASE_URL', 'database.url'],
  ['HIVECTL_DB_INSTANCE_ID', 'database.instanceId'],
  ['HIVECTL_DB_CLUSTER_ID', 'database.clusterId'],
  ['HIVECTL_REDIS_URL', 'redis.url'],
  ['HIVECTL_PROMETHEUS_URL', 'prometheus.url'],
  ['HIVECTL_PLATFORM_ENV', 'platform.env'],
];

/**
 * The standard variables SREs already set, below HIVECTL_* (first one set wins for a path).
 * KUBECONFIG is not here: the Kubernetes client reads it itself (and it may be a `:`-separated list).
 */
export const STANDARD_ENV_MAP: ReadonlyArray<readonly [string, string]> = [
  ['AWS_PROFILE', 'aws.profile'],
  ['AWS_REGION', 'aws.region'],
  ['AWS_DEFAULT_REGION', 'aws.region'],
  ['AWS_ENDPOINT_URL', 'aws.endpointUrl'],
];

export const PROJECT_FILE = 'hivectl.yaml';
export const USER_FILE_LABEL = '~/.config/hivectl/config.yaml';

/** Where the per-user config file lives ($XDG_CONFIG_HOME honoured) and how to name it in messages. */
export function userConfigPath(home: string, env: Record<string, string | undefined>): { path: string; label: string } {
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg && isAbsolute(xdg))
    return { path: join(xdg, 'hivectl', 'config.yaml'), label: '$XDG_CONFIG_HOME/hivectl/config.yaml' };
  return { path: join(home, '.config', 'hivectl', 'config.yaml'), label: USER_FILE_LABEL };
}

/** The project file in use: --config FILE, HIVECTL_CONFIG, or ./hivectl.yaml. */
export function projectConfigPath(opts: Pick<LoadConfigOptions, 'configFile' | 'cwd' | 'env'>): {
  path: string;
  label: string;
  explicit: boolean;
} {
  const given = opts.configFile ?? (opts.env.HIVECTL_CONFIG || undefined);
  if (given) return { path: resolve(opts.cwd, given), label: given, explicit: true };
  return { path: join(opts.cwd, PROJECT_FILE), label: `./${PROJECT_FILE}`, explicit: false };
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function setPath(o: Obj, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = o;
  for (const p of parts.slice(0, -1)) {
    if (!isObj(cur[p])) cur[p] = {};
    cur = cur[p] as Obj;
  }
  cur[parts[parts.length - 1] as string] = value;
}

function getPath(o: unknown, path: readonly PropertyKey[]): unknown {
  let cur = o;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

/** Leaves of a plain object as dotted paths (arrays count as one leaf). */
function leaves(o: Obj, prefix = ''): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const [k, v] of Object.entries(o)) {
    const p = prefix ? `${prefix}.${k}` : k;
    if (isObj(v) && Object.keys(v).length > 0) out.push(...leaves(v, p));
    else if (!isObj(v)) out.push([p, v]);
  }
  return out;
}

/** Deep merge: objects merge key by key, anything else (arrays included) replaces. */
function merge(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    out[k] = isObj(v) && isObj(out[k]) ? merge(out[k] as Obj, v) : v;
  }
  return out;
}

const VAR_RE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Expand `${VAR}` (and `${VAR:-default}`) in every string of a file layer from the environment, so a
 * password can live in the environment instead of the file. `$${` is a literal `${`.
 */
function expandVars(
  value: unknown,
  path: string,
  env: Record<string, string | undefined>,
  problems: string[],
  expanded: Record<string, string[]>,
  label: string,
): unknown {
  if (typeof value === 'string') {
    return value.replace(VAR_RE, (m, name: string | undefined, def: string | undefined) => {
      if (m === '$${') return '${';
      const v = env[name as string];
      if (v === undefined || v === '') {
        if (def !== undefined) return def;
        problems.push(`${label}: ${path}: \${${name}} is not set in the environment`);
        return '';
      }
      expanded[path] = [...(expanded[path] ?? []), name as string];
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => expandVars(v, `${path}[${i}]`, env, problems, expanded, label));
  if (isObj(value)) {
    const out: Obj = {};
    for (const [k, v] of Object.entries(value))
      out[k] = expandVars(v, path ? `${path}.${k}` : k, env, problems, expanded, label);
    return out;
  }
  return value;
}

/** `key:` with no value (e.g. every child commented out) means "not set", not null. */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (isObj(v)) {
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = dropNulls(x);
    return out;
  }
  return v;
}

/** Read and parse one YAML file; syntax errors name file:line:col. */
function readYamlFile(path: string, label: string): Obj {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${label}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      hint: 'check the path and its permissions',
    });
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((err) => {
      const pos = err.linePos?.[0];
      const where = pos ? `${label}:${pos.line}:${pos.col}` : label;
      return `${where}: ${String(err.message)
        .split('\n')[0]
        ?.replace(/ at line \d+, column \d+:?$/, '')}`;
    });
    throw new UsageError(`invalid YAML:\n  ${lines.join('\n  ')}`, {
      hint: 'fix the YAML syntax at the line and column shown',
    });
  }
  const data = dropNulls(doc.toJS()) as unknown;
  if (data === null || data === undefined) return {};
  if (!isObj(data)) {
    throw new UsageError(`invalid configuration:\n  ${label}: expected a mapping of keys at the top level`, {
      hint: 'start from `hivectl config init` for a commented example',
    });
  }
  return data;
}

// --- schema navigation, for friendlier messages -------------------------------------------

type AnySchema = z.ZodType;
interface Def {
  type: string;
  innerType?: AnySchema;
  shape?: Record<string, AnySchema>;
  element?: AnySchema;
  in?: AnySchema;
}

function def(s: AnySchema): Def {
  return (s as unknown as { _zod: { def: Def } })._zod.def;
}

/** The schema at a path, plus the first description met on the way down its wrappers. */
function schemaAt(path: readonly PropertyKey[]): { schema?: AnySchema; description?: string } {
  let s: AnySchema | undefined = configSchema;
  let description: string | undefined;
  const unwrap = () => {
    while (s) {
      description ??= s.description;
      const d = def(s);
      if (d.innerType) s = d.innerType;
      else if (d.type === 'pipe' && d.in) s = d.in;
      else break;
    }
  };
  for (const p of path) {
    description = undefined;
    unwrap();
    if (!s) return {};
    const d = def(s);
    if (d.type === 'object' && d.shape && typeof p === 'string') s = d.shape[p];
    else if (d.type === 'array' && d.element) s = d.element;
    else return {};
  }
  description = undefined;
  unwrap();
  return s ? { schema: s, ...(description ? { description } : {}) } : {};
}

function keysAt(path: readonly PropertyKey[]): string[] {
  const { schema } = schemaAt(path);
  if (!schema) return [];
  const d = def(schema);
  return d.type === 'object' && d.shape ? Object.keys(d.shape) : [];
}

function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const row = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 1; i <= x.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= y.length; j++) {
      const cur = row[j] as number;
      row[j] = Math.min(cur + 1, (row[j - 1] as number) + 1, prev + (x[i - 1] === y[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[y.length] as number;
}

/** The closest known key, if it is close enough to be a typo. */
export function didYouMean(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = distance(key, k);
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  const limit = Math.max(2, Math.floor(key.length / 3));
  return best !== undefined && bestD <= limit ? best : undefined;
}

function typeName(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return typeof v;
}

function dotted(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

/** The layer label that supplied a path (or its nearest ancestor). */
function sourceOf(path: string, sources: Record<string, string>, objectSources: Record<string, string>): string {
  let p = path;
  while (p) {
    const s = sources[p] ?? objectSources[p];
    if (s) return s;
    const i = p.lastIndexOf('.');
    p = i < 0 ? '' : p.slice(0, i);
  }
  return 'config';
}

function describeIssue(issue: z.core.$ZodIssue, merged: Obj): Array<{ path: string; message: string }> {
  const path = issue.path as PropertyKey[];
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = keysAt(path);
      return issue.keys.map((k) => {
        const guess = didYouMean(k, known);
        return {
          path: dotted([...path, k]),
          message: `unknown key${guess ? ` (did you mean "${guess}"?)` : known.length ? ` (known keys: ${known.join(', ')})` : ''}`,
        };
      });
    }
    case 'invalid_type': {
      const got = getPath(merged, path);
      const expected =
        issue.expected === 'object' ? 'a mapping' : issue.expected === 'array' ? 'a list' : issue.expected;
      return [
        {
          path: dotted(path),
          message: got === undefined ? `required (${expected})` : `expected ${expected}, got ${typeName(got)}`,
        },
      ];
    }
    case 'invalid_union': {
      const { description } = schemaAt(path);
      return [{ path: dotted(path), message: description ? `expected ${description}` : issue.message }];
    }
    case 'invalid_value':
      return [
        {
          path: dotted(path),
          message: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(getPath(merged, path))}`,
        },
      ];
    case 'invalid_format':
      return [{ path: dotted(path), message: issue.format === 'url' ? 'expected a URL' : issue.message }];
    default:
      return [{ path: dotted(path), message: issue.message.replace(/^Invalid input: /, '') }];
  }
}

// ---------------------------------------------------------------------------------------------

/** Defaults alone, as zod fills them in (for `sources` and `config show`). */
export function configDefaults(): Obj {
  return configSchema.parse({}) as Obj;
}

export async function loadConfig(opts: LoadConfigOptions): Promise<LoadedConfig> {
  const problems: string[] = [];
  const expanded: Record<string, string[]> = {};
  const sources: Record<string, string> = {};
  // Paths of whole objects a layer supplied (used to attribute "unknown key" problems).
  const objectSources: Record<string, string> = {};
  const files: string[] = [];

  const layers: Array<{ label: string; data: Obj }> = [];

  const user = userConfigPath(opts.home, opts.env);
  if (existsSync(user.path)) {
    files.push(user.path);
    layers.push({ label: user.label, data: readYamlFile(user.path, user.label) });
  }
  const project = projectConfigPath(opts);
  if (existsSync(project.path)) {
    files.push(project.path);
    layers.push({ label: project.label, data: readYamlFile(project.path, project.label) });
  } else if (project.explicit) {
    throw new UsageError(`config file ${project.label} does not exist`, {
      hint: 'check the --config path (or HIVECTL_CONFIG), or create one with `hivectl config init --file FILE`',
    });
  }
  // ${VAR} expansion applies to file values only: env and flags are already literal.
  for (const l of layers) l.data = expandVars(l.data, '', opts.env, problems, expanded, l.label) as Obj;

  const envLayer = (map: ReadonlyArray<readonly [string, string]>): Array<{ label: string; data: Obj }> => {
    const out: Array<{ label: string; data: Obj }> = [];
    const seen = new Set<string>();
    for (const [name, path] of map) {
      const v = opts.env[name];
      if (v === undefined || v === '' || seen.has(path)) continue;
      seen.add(path);
      const data: Obj = {};
      setPath(data, path, v);
      out.push({ label: `env ${name}`, data });
    }
    return out;
  };
  layers.push(...envLayer(STANDARD_ENV_MAP));
  layers.push(...envLayer(ENV_MAP));
  for (const [key, path, flag] of FLAG_MAP) {
    const v = opts.flags[key];
    if (v === undefined || v === '') continue;
    const data: Obj = {};
    setPath(data, path, v);
    layers.push({ label: `flag ${flag}`, data });
  }

  const defaults = configDefaults();
  let merged: Obj = defaults;
  for (const [p] of leaves(defaults)) sources[p] = 'default';
  for (const l of layers) {
    merged = merge(merged, l.data);
    for (const [p] of leaves(l.data)) {
      // A later layer replaces an array or scalar wholesale: forget the sources of what it hid.
      for (const k of Object.keys(sources)) if (k.startsWith(`${p}.`)) delete sources[k];
      sources[p] = l.label;
    }
    const markObjects = (o: Obj, prefix: string) => {
      for (const [k, v] of Object.entries(o)) {
        const p = prefix ? `${prefix}.${k}` : k;
        objectSources[p] = l.label;
        if (isObj(v)) markObjects(v, p);
      }
    };
    markObjects(l.data, '');
  }

  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      for (const d of describeIssue(issue, merged)) {
        problems.push(`${sourceOf(d.path, sources, objectSources)}: ${d.path}: ${d.message}`);
      }
    }
  }
  if (problems.length > 0 || !parsed.success) throwInvalid(problems);
  const config = parsed.data as HivectlConfig;
  // In the order of the config's own keys, and only for values that are set.
  const ordered: Record<string, string> = {};
  for (const [p] of leaves(config as unknown as Obj)) ordered[p] = sources[p] ?? sourceOf(p, sources, objectSources);
  return { config, sources: ordered, expanded, files };
}

/** YAML text of a value (for `-o yaml`); here because this module already loads yaml. */
export function toYaml(value: unknown): string {
  return stringify(value);
}

/** Global flags of a commander command (and its parents) as loadConfig flags. */
export function configFlagsFromOpts(o: Record<string, unknown>): ConfigFlags {
  const s = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  return {
    kubeconfig: s(o.kubeconfig),
    context: s(o.context),
    namespace: s(o.namespace),
    profile: s(o.profile),
    region: s(o.region),
    drRegion: s(o.drRegion),
    endpointUrl: s(o.endpointUrl),
  };
}

/** loadConfig for a CLI process: this directory, this user's home, this environment, these flags. */
export async function loadConfigFromProcess(globalOpts: Record<string, unknown>): Promise<LoadedConfig> {
  const { homedir } = await import('node:os');
  const configFile = typeof globalOpts.config === 'string' ? globalOpts.config : undefined;
  return loadConfig({
    configFile,
    cwd: process.cwd(),
    home: homedir(),
    env: process.env,
    flags: configFlagsFromOpts(globalOpts),
  });
}

// --- masking, for `config show` and anything else that prints configuration ---------------------

const SECRET_KEY = /(pass(word|wd|phrase)?|secret|secret_?(access_?)?key|token|credentials?|api_?key|private_?key)$/i;
/** Keys whose names look secret but hold the *name* of a secret, not its value. */
const NOT_SECRET_KEYS = new Set(['endpointSecret', 'encryptionKeyEnv', 'kmsKeyId', 'drKmsKeyId', 'secrets']);
const SECRET_VAR = /(PASS|SECRET|TOKEN|KEY|CRED|AUTH)/i;
export const MASK = '****';

/** A URL with its password (userinfo) and secret-looking query parameters masked. */
export function maskUrl(value: string): string {
  let out = value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*:)([^@/]*)@/i, (_m, pre: string, pw: string) =>
    pw ? `${pre}${MASK}@` : `${pre}@`,
  );
  out = out.replace(/([?&](?:password|passwd|pwd|secret|token|sslpassword)=)[^&]*/gi, `$1${MASK}`);
  return out;
}

/** A copy of a config with secret values masked: URL passwords, secret-looking keys, values from secret env vars. */
export function maskSecrets<T>(config: T, expanded: Record<string, string[]> = {}): T {
  const walk = (v: unknown, path: string, key: string): unknown => {
    if (typeof v === 'string') {
      if (SECRET_KEY.test(key) && !NOT_SECRET_KEYS.has(key)) return v === '' ? v : MASK;
      const vars = expanded[path] ?? [];
      const masked = maskUrl(v);
      if (masked !== v) return masked;
      if (vars.some((n) => SECRET_VAR.test(n))) return MASK;
      return v;
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}[${i}]`, key));
    if (isObj(v)) {
      const out: Obj = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, path ? `${path}.${k}` : k, k);
      return out;
    }
    return v;
  };
  return walk(config, '', '') as T;
}

function throwInvalid(problems: string[]): never {
  const uniq = [...new Set(problems)];
  throw new UsageError(
    `invalid configuration (${uniq.length} problem${uniq.length === 1 ? '' : 's'}):\n  ${uniq.join('\n  ')}`,
    {
      hint: 'fix the values above (`hivectl config validate` checks a file; docs/config.md lists every key)',
      details: { problems: uniq },
    },
  );
}
