// The shape of hivectl.yaml. One schema, validated once; every default lives here so that
// `hivectl config show` can say where each value came from.
import { z } from 'zod';
import { probeSchema } from '../chaos/schema.js';

const duration = z
  .union([
    z.number().nonnegative(),
    z.string().regex(/^\d+(ms|s|m|h|d)$/, 'use a number of seconds or e.g. 30s, 5m, 1h'),
  ])
  .describe('seconds, or a duration such as 30s, 5m, 1h');

const resources = z
  .object({
    requests: z.object({ cpu: z.string(), memory: z.string() }).strict(),
    limits: z.object({ cpu: z.string(), memory: z.string() }).strict(),
  })
  .strict();

const workload = z
  .object({
    deployment: z.string().min(1),
    image: z.string().min(1),
    replicas: z.number().int().min(0),
    resources: resources.optional(),
  })
  .strict();

export const configSchema = z
  .object({
    cluster: z
      .object({
        kubeconfig: z.string().optional(),
        context: z.string().optional(),
        /** Where hivectl keeps its lock Lease and bootstrap revisions. */
        namespace: z.string().default('hive-system'),
        /** Kube context of the DR region's cluster (failover target). */
        drContext: z.string().optional(),
      })
      .strict()
      .prefault({}),
    aws: z
      .object({
        profile: z.string().optional(),
        region: z.string().optional(),
        drRegion: z.string().optional(),
        /** S3-compatible store or emulator (the sandbox's moto). */
        endpointUrl: z.string().url().optional(),
      })
      .strict()
      .prefault({}),
    backup: z
      .object({
        bucket: z.string().optional(),
        drBucket: z.string().optional(),
        prefix: z.string().default('hivectl/'),
        kmsKeyId: z.string().optional(),
        drKmsKeyId: z.string().optional(),
        /** How Secret values are stored in cluster-state backups. */
        secrets: z.enum(['omit', 'encrypt']).default('omit'),
        /** Name of the environment variable holding the passphrase used when secrets: encrypt. */
        encryptionKeyEnv: z.string().default('HIVECTL_BACKUP_KEY'),
        /** Directory of an agent pod's workspace, archived with tar over the exec API. */
        workspaceDir: z.string().default('/workspace'),
        /** pg_dump -Z level: 1 costs 2.6x less CPU than the default 6 for ~2.5% more bytes (docs/backup-format.md). */
        dumpCompression: z.number().int().min(0).max(9).default(1),
        /** Commands run in a pod before/after a backup, e.g. to pause the agent queue. */
        hooks: z
          .object({
            pre: z.array(z.string()).default([]),
            post: z.array(z.string()).default([]),
            pod: z.string().optional(),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    database: z
      .object({
        kind: z.enum(['postgres', 'rds', 'aurora']).default('postgres'),
        /** PostgreSQL URL (kind: postgres). May name an env var as ${VAR}. */
        url: z.string().optional(),
        instanceId: z.string().optional(),
        clusterId: z.string().optional(),
        /** Cross-region read replica in the DR region (failover --mode replica). */
        drReplicaId: z.string().optional(),
        /** Secret in the API namespace that holds the database endpoint the platform connects to. */
        endpointSecret: z.string().default('hive-db'),
      })
      .strict()
      .prefault({}),
    redis: z
      .object({
        url: z.string().optional(),
        queueKey: z.string().default('hive:tasks'),
      })
      .strict()
      .prefault({}),
    platform: z
      .object({
        env: z.enum(['dev', 'staging', 'prod']).default('prod'),
        namespaces: z
          .object({
            api: z.string().default('hive-api'),
            agents: z.string().default('hive-agents'),
            ingress: z.string().default('ingress-nginx'),
            monitoring: z.string().default('monitoring'),
          })
          .strict()
          .prefault({}),
        api: workload.prefault({ deployment: 'hive-api', image: 'ghcr.io/agent-hive/api:1.0.0', replicas: 3 }),
        agents: workload.prefault({ deployment: 'agent-worker', image: 'ghcr.io/agent-hive/agent:1.0.0', replicas: 2 }),
      })
      .strict()
      .prefault({}),
    scaling: z
      .object({
        min: z.number().int().min(0).default(1),
        max: z.number().int().min(1).default(50),
        perAgent: z.number().int().min(1).default(5),
        scaleDownWindow: duration.default('5m'),
      })
      .strict()
      .prefault({}),
    /** Prometheus for chaos probes of type `prometheus` (instant queries). */
    prometheus: z
      .object({
        /** Base URL of the HTTP API, e.g. http://prometheus.monitoring:9090. No URL: prometheus probes are refused. */
        url: z.string().url().optional(),
        /** Name of the environment variable holding a bearer token (used when it is set). */
        bearerTokenEnv: z.string().default('HIVECTL_PROMETHEUS_TOKEN'),
        /** File holding a bearer token (e.g. a mounted ServiceAccount token); wins over bearerTokenEnv. */
        bearerTokenFile: z.string().optional(),
        /** How long one query may take before the probe counts as failed. */
        timeout: duration.default('10s'),
      })
      .strict()
      .prefault({}),
    slo: z
      .object({
        rto: duration.default('30s'),
        rpo: duration.default('5m'),
      })
      .strict()
      .prefault({}),
    drill: z
      .object({
        /** Extra steady-state probes for the drill's chaos phase, in the form of an experiment's probes. */
        probes: z.array(probeSchema).default([]),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type HivectlConfigInput = z.input<typeof configSchema>;
export type HivectlConfigParsed = z.output<typeof configSchema>;
