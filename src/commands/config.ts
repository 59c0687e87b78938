// `hivectl config init|validate|show`: write a commented starter hivectl.yaml, check one, and print the
// merged configuration with the source of every value (secrets masked). zod and yaml load inside actions.
import type { Command } from 'commander';
import { RefusedError } from '../core/errors.js';

/** The starter file `config init` writes. Every key is documented in docs/config.md. */
export const STARTER_CONFIG = `# hivectl.yaml: configuration for hivectl (docs/config.md lists every key).
# Precedence: flags > HIVECTL_* env > AWS_REGION/AWS_PROFILE/AWS_ENDPOINT_URL > this file
#             > ~/.config/hivectl/config.yaml > defaults.
# Any string may use \${VAR} (or \${VAR:-default}) to take a value from the environment at load time,
# so secrets such as database passwords stay out of this file.

cluster:
  # kubeconfig: ~/.kube/config        # default: KUBECONFIG, ~/.kube/config, in-cluster
  # context: prod-eu-west-1           # default: the kubeconfig's current context
  namespace: hive-system              # where hivectl keeps its lock Lease and revisions
  # drContext: prod-eu-central-1      # kube context of the DR region's cluster

aws:
  region: us-east-1                   # no silent default: hivectl stops if no region is set
  # drRegion: us-west-2               # disaster-recovery region
  # profile: ops                      # AWS profile (default: the SDK's credential chain)
  # endpointUrl: http://127.0.0.1:5000  # S3-compatible store or emulator

backup:
  # bucket: hive-backups              # where backups are written
  # drBucket: hive-backups-dr         # copy in the DR region
  prefix: hivectl/
  secrets: omit                       # omit | encrypt (passphrase from the env var below)
  encryptionKeyEnv: HIVECTL_BACKUP_KEY

database:
  kind: postgres                      # postgres | rds | aurora
  # url: postgres://hive:\${HIVE_DB_PASSWORD}@db.internal:5432/hive   # kind: postgres
  # instanceId: hive-prod             # kind: rds
  # clusterId: hive-prod              # kind: aurora
  endpointSecret: hive-db

redis:
  # url: redis://redis.hive.svc:6379
  queueKey: "hive:tasks"

prometheus:
  # url: http://prometheus.monitoring.svc:9090   # for chaos probes of type prometheus
  # bearerTokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token

platform:
  env: prod                           # dev | staging | prod
  namespaces:
    api: hive-api
    agents: hive-agents
  api:
    deployment: hive-api
    image: ghcr.io/agent-hive/api:1.0.0
    replicas: 3
  agents:
    deployment: agent-worker
    image: ghcr.io/agent-hive/agent:1.0.0
    replicas: 2

scaling:
  min: 1
  max: 50
  perAgent: 5                         # queued tasks per agent replica
  scaleDownWindow: 5m

slo:
  rto: 30s                            # recovery time objective (drills gate on it)
  rpo: 5m                             # recovery point objective

# drill:
#   probes:                           # extra steady-state probes for the drill's chaos phase
#     - { type: prometheus, query: 'sum(up{job="hive-api"})', min: 1 }
`;

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function flatten(o: unknown, prefix = '', out: Array<[string, unknown]> = []): Array<[string, unknown]> {
  if (o !== null && typeof o === 'object' && !Array.isArray(o)) {
    for (const [k, v] of Object.entries(o)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else out.push([prefix, o]);
  return out;
}

export function register(program: Command): void {
  const config = program
    .command('config')
    .description('write, check and show hivectl.yaml (merged with env and flags)')
    .addHelpText(
      'after',
      '\nPrecedence: flags > HIVECTL_* env > AWS_* env > ./hivectl.yaml (or --config) > ~/.config/hivectl/config.yaml > defaults.',
    );

  config
    .command('init')
    .description('write a commented starter hivectl.yaml')
    .option('--file <file>', 'where to write it (default: --config, else ./hivectl.yaml)')
    .option('--force', 'overwrite an existing file', false)
    .action(async (o: { file?: string; force: boolean }, cmd: Command) => {
      const { existsSync, writeFileSync } = await import('node:fs');
      const g = cmd.optsWithGlobals() as Record<string, unknown>;
      const file = o.file ?? (typeof g.config === 'string' ? g.config : 'hivectl.yaml');
      if (existsSync(file) && !o.force) {
        throw new RefusedError(`${file} already exists; not overwriting it`, {
          hint: 'pass --force to replace it, or --file OTHER to write elsewhere',
        });
      }
      writeFileSync(file, STARTER_CONFIG, { mode: 0o644 });
      process.stdout.write(`wrote ${file}\n`);
    });

  config
    .command('validate')
    .description('check hivectl.yaml (merged with ~/.config, env and flags); exit 0 if valid, 2 if not')
    .option('--file <file>', 'file to check instead of ./hivectl.yaml (same as --config)')
    .action(async (o: { file?: string }, cmd: Command) => {
      const { loadConfigFromProcess } = await import('../core/config-load.js');
      const g = cmd.optsWithGlobals() as Record<string, unknown>;
      const r = await loadConfigFromProcess({ ...g, ...(o.file ? { config: o.file } : {}) });
      const format = g.output as string;
      if (format === 'json') {
        process.stdout.write(`${JSON.stringify({ valid: true, files: r.files })}\n`);
      } else {
        process.stdout.write(
          r.files.length > 0
            ? `valid: ${r.files.join(', ')}\n`
            : 'valid: no config file found; defaults, env and flags are valid\n',
        );
      }
    });

  config
    .command('show')
    .description('print the merged configuration and where each value came from (secrets masked)')
    .action(async (_o: unknown, cmd: Command) => {
      const { loadConfigFromProcess, maskSecrets } = await import('../core/config-load.js');
      const g = cmd.optsWithGlobals() as Record<string, unknown>;
      const r = await loadConfigFromProcess(g);
      const masked = maskSecrets(r.config, r.expanded);
      const out = { config: masked, sources: r.sources, files: r.files };
      const format = (g.output as string) ?? 'table';
      if (format === 'json') {
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        return;
      }
      if (format === 'yaml') {
        const { toYaml } = await import('../core/config-load.js');
        process.stdout.write(toYaml(out));
        return;
      }
      const rows = flatten(masked).map(([k, v]) => [
        k,
        typeof v === 'string' ? v : JSON.stringify(v),
        r.sources[k] ?? '',
      ]);
      const w0 = Math.max(3, ...rows.map((x) => (x[0] as string).length));
      const w1 = Math.min(60, Math.max(5, ...rows.map((x) => (x[1] as string).length)));
      const lines = [`${pad('KEY', w0)}  ${pad('VALUE', w1)}  SOURCE`];
      for (const [k, v, s] of rows) lines.push(`${pad(k as string, w0)}  ${pad(v as string, w1)}  ${s}`);
      process.stdout.write(`${lines.join('\n')}\n`);
      if (r.files.length === 0)
        process.stderr.write('(no config file found: ./hivectl.yaml, ~/.config/hivectl/config.yaml)\n');
    });
}
