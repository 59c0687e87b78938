// Runbook: back up the platform.
//   1. pre hooks (e.g. pause the agent queue)
//   2. capture, in parallel: database (pg_dump streamed to S3, or an RDS snapshot + its DR copy),
//      agent workspaces (tar over exec into S3), cluster state (YAML, secrets protected)
//   3. post hooks
//   4. manifest, written last: from here on the backup is complete and listed
//   5. server-side copy of every object to the DR bucket, verified there

import { clusterStateBackupStep } from '../backup/cluster-state-steps.js';
import type { Component } from '../backup/manifest.js';
import type { CommandEnv } from '../core/command.js';
import type { AnyStep, Runbook, RunbookItem } from '../core/step.js';
import { rdsCopyDrStep, rdsSnapshotStep } from '../steps/aws/rds-snapshot.js';
import { copyToDrStep, writeManifestStep } from '../steps/aws/s3-objects.js';
import { hookStep } from '../steps/exec/hooks.js';
import { workspaceBackupStep } from '../steps/exec/workspace-backup.js';
import { pgDumpToS3Step } from '../steps/pg/dump-to-s3.js';
import { type RunbookDefinition, registerRunbook } from './index.js';

export interface BackupCreateInputs {
  backupId: string;
  startedAt: string;
  components: Component[];
  tags: Record<string, string>;
  dbKind: 'postgres' | 'rds' | 'aurora';
}

export function backupCreateRunbook(i: BackupCreateInputs, o: { encryptionKey?: string } = {}): Runbook {
  const capture: AnyStep[] = [];
  const dbSteps: AnyStep[] = [];
  if (i.components.includes('db')) {
    if (i.dbKind === 'postgres') capture.push(pgDumpToS3Step({ backupId: i.backupId }));
    else dbSteps.push(rdsSnapshotStep({ backupId: i.backupId }), rdsCopyDrStep({ backupId: i.backupId }));
  }
  if (i.components.includes('workspaces')) capture.push(workspaceBackupStep({ backupId: i.backupId }));
  if (i.components.includes('k8s'))
    capture.push(
      clusterStateBackupStep({ backupId: i.backupId, ...(o.encryptionKey ? { encryptionKey: o.encryptionKey } : {}) }),
    );
  const items: RunbookItem[] = [
    hookStep('pre'),
    ...(capture.length > 1 ? [{ parallel: capture, title: 'Capture' }] : capture),
    ...dbSteps,
    hookStep('post'),
    writeManifestStep(i),
    copyToDrStep({ backupId: i.backupId }),
  ];
  return {
    name: 'backup-create',
    title: `Backup ${i.backupId} (${i.components.join(', ')})`,
    inputs: { ...i },
    // Writes only new objects under a fresh id: no namespace lock needed, backups may overlap.
    mutating: false,
    items,
  };
}

export const runbook: RunbookDefinition = {
  name: 'backup-create',
  title: 'Back up the database, agent workspaces and cluster state to S3 (and RDS snapshots)',
  description: 'hooks -> capture (db, workspaces, k8s) -> manifest (written last) -> copy to DR and verify',
  build(inputs: Record<string, unknown>, env: CommandEnv) {
    // Rebuilt by `hivectl resume`: the passphrase is never journalled, so it is read again from the
    // environment variable named in the configuration, as `backup create` did.
    const key = process.env[env.config.backup.encryptionKeyEnv];
    return backupCreateRunbook(inputs as unknown as BackupCreateInputs, key ? { encryptionKey: key } : {});
  },
  example: {
    backupId: '20261127T010203Z-abcd',
    startedAt: '2026-11-27T01:02:03.000Z',
    components: ['db', 'workspaces', 'k8s'],
    tags: {},
    dbKind: 'postgres',
  },
};

registerRunbook(runbook);
