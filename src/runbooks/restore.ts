// Runbook: restore a backup.
//   1. pre-flight: read the manifest and every object to be used; checksums and tar safety proven
//      BEFORE anything destructive (a mismatch stops here: nothing changed). A PostgreSQL dump is
//      instead downloaded to a private temp file with its SHA-256 checked on the way (one read, not two),
//      still before the quiesce; `stream` keeps the old path (pre-read, then pg_restore from S3).
//   2. quiesce: API and agents to 0, replicas remembered
//   3. database: pg_restore -j N from the temp file (or streamed from S3) into the target, or RDS restore into a new instance
//   4. cluster objects (server-side apply; Secrets only if encrypted and the key is given)
//   5. RDS only: repoint the endpoint Secret to the new instance
//   6. unquiesce the agents, restore their workspaces (tar over exec), unquiesce the API
//      (workspaces go into running agent pods; the API stays down so no work reaches them meanwhile)
//   7. verify: row counts and checksums against the manifest; Deployments Ready (waited in unquiesce)

import { tmpdir } from 'node:os';
import { clusterStateRestoreStep } from '../backup/cluster-state-steps.js';
import { type Location, sourceLocation } from '../backup/location.js';
import type { Component } from '../backup/manifest.js';
import type { CommandEnv } from '../core/command.js';
import type { Ctx, Runbook, RunbookItem } from '../core/step.js';
import { rdsRestoreStep, repointEndpointStep } from '../steps/aws/rds-restore.js';
import { preflightVerifyStep } from '../steps/aws/s3-objects.js';
import { workspaceRestoreStep } from '../steps/exec/workspace-restore.js';
import { quiesceStep, unquiesceStep } from '../steps/k8s/quiesce.js';
import { pgFetchDumpStep } from '../steps/pg/dump-file.js';
import { pgRestoreFromS3Step } from '../steps/pg/restore-from-s3.js';
import { verifyRowsStep } from '../steps/pg/verify-rows.js';
import { type RunbookDefinition, registerRunbook } from './index.js';

export interface RestoreInputs {
  backupId: string;
  components: Component[];
  /** The database kind recorded in the manifest (read by the command). */
  dbKind: 'postgres' | 'rds' | 'aurora' | 'none';
  targetDb?: string;
  newInstance?: string;
  toTime?: string;
  force: boolean;
  region?: string;
  startedAt: string;
  /** PostgreSQL: pipe the dump from S3 instead of downloading it (no disk needed, single-threaded). */
  stream?: boolean;
  /** pg_restore --jobs for the file mode. */
  jobs?: number;
  /** Directory of the dump's temp file (resolved by the command: --work-dir or the OS temp dir). */
  workDir?: string;
}

export function restoreRunbook(i: RestoreInputs, o: { encryptionKey?: string } = {}): Runbook {
  const location = (ctx: Ctx): Location => sourceLocation(ctx, i.region);
  const base = { backupId: i.backupId, location };
  const db = i.components.includes('db') && i.dbKind !== 'none';
  const pgFile = db && i.dbKind === 'postgres' && !i.stream;
  // Callers other than the command (drill) may leave it out: the OS temp dir, as the command's default.
  const workDir = i.workDir ?? tmpdir();
  const items: RunbookItem[] = [
    // The dump's checksum is proven by its download (next step), so the pre-flight does not read it too.
    preflightVerifyStep({ ...base, components: pgFile ? i.components.filter((c) => c !== 'db') : i.components }),
  ];
  if (pgFile) items.push(pgFetchDumpStep({ ...base, workDir }));
  items.push(
    quiesceStep({
      deployments: (ctx) => [
        { namespace: ctx.config.platform.namespaces.api, name: ctx.config.platform.api.deployment },
        { namespace: ctx.config.platform.namespaces.agents, name: ctx.config.platform.agents.deployment },
      ],
    }),
  );
  if (db) {
    if (i.dbKind === 'postgres')
      items.push(
        pgRestoreFromS3Step({
          ...base,
          force: i.force,
          stream: !pgFile,
          workDir,
          ...(i.jobs ? { jobs: i.jobs } : {}),
          ...(i.targetDb ? { targetUrl: i.targetDb } : {}),
        }),
      );
    else
      items.push(rdsRestoreStep({ ...base, newInstance: i.newInstance!, ...(i.toTime ? { toTime: i.toTime } : {}) }));
  }
  if (i.components.includes('k8s'))
    items.push(clusterStateRestoreStep({ ...base, ...(o.encryptionKey ? { encryptionKey: o.encryptionKey } : {}) }));
  if (db && i.dbKind !== 'postgres') items.push(repointEndpointStep());
  items.push(unquiesceStep({ id: 'unquiesce-agents', only: (ctx) => [ctx.config.platform.namespaces.agents] }));
  if (i.components.includes('workspaces')) items.push(workspaceRestoreStep(base));
  items.push(unquiesceStep({ id: 'unquiesce-api', only: (ctx) => [ctx.config.platform.namespaces.api] }));
  if (db && i.dbKind === 'postgres')
    items.push(
      verifyRowsStep({
        ...base,
        ...(i.jobs ? { jobs: i.jobs } : {}),
        ...(i.targetDb ? { targetUrl: i.targetDb } : {}),
      }),
    );
  return {
    name: 'restore',
    title: `Restore backup ${i.backupId} (${i.components.join(', ')})`,
    inputs: { ...i, ...(pgFile ? { workDir } : {}) },
    mutating: true,
    items,
  };
}

export const runbook: RunbookDefinition = {
  name: 'restore',
  title: 'Restore a backup: database, agent workspaces, cluster state',
  description:
    'pre-flight checksums (+ dump download, checksummed) -> quiesce -> db -> cluster objects -> unquiesce agents -> workspaces -> unquiesce API -> verify rows',
  build(inputs: Record<string, unknown>, env: CommandEnv) {
    const key = process.env[env.config.backup.encryptionKeyEnv];
    return restoreRunbook(inputs as unknown as RestoreInputs, key ? { encryptionKey: key } : {});
  },
  example: {
    backupId: '20261127T010203Z-abcd',
    components: ['db', 'workspaces', 'k8s'],
    dbKind: 'postgres',
    force: false,
    startedAt: '2026-11-27T02:00:00.000Z',
  },
};

registerRunbook(runbook);
