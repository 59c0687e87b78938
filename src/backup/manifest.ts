// The backup manifest (docs/backup-format.md). Written LAST: its presence is what makes a backup complete.
// Every object of the backup is listed with size and SHA-256, so verify and restore can prove integrity
// before touching anything.

/** 2: cluster state in one object (`k8s/state.yaml`). 1 (one object per cluster object) is still read. */
export const MANIFEST_FORMAT = 2;
const READABLE_FORMATS = [1, 2];
export type Component = 'db' | 'workspaces' | 'k8s';
export const ALL_COMPONENTS: readonly Component[] = ['db', 'workspaces', 'k8s'];

export interface ManifestObject {
  /** Key relative to the backup's folder, e.g. `db.dump`, `workspaces/hive-agents/agent-0.tar`. */
  key: string;
  component: Component;
  size: number;
  sha256: string;
}

export interface TableCheck {
  /** schema.table */
  table: string;
  rows: number;
  /** Order-independent checksum of the table's rows: sum(hashtextextended(row::text, 0)). */
  checksum: string;
}

export interface PostgresDb {
  kind: 'postgres';
  key: string;
  database: string;
  serverVersion: string;
  compression: number;
  tables: TableCheck[];
}

export interface RdsDb {
  kind: 'rds' | 'aurora';
  sourceId: string;
  snapshotId: string;
  snapshotArn: string;
  region: string;
  drSnapshotId?: string;
  drSnapshotArn?: string;
  drRegion?: string;
  snapshotTime: string;
}

export interface WorkspaceEntry {
  namespace: string;
  pod: string;
  key: string;
  dir: string;
}

export interface BackupManifest {
  format: number;
  id: string;
  startedAt: string;
  completedAt: string;
  /** What a restore of this backup gets back to: the dump's snapshot start, or the RDS snapshot time. */
  rpoReference: string;
  components: Component[];
  tags: Record<string, string>;
  source: {
    context?: string;
    server?: string;
    region?: string;
    bucket: string;
    prefix: string;
    namespaces: string[];
    hivectlVersion: string;
  };
  objects: ManifestObject[];
  database?: PostgresDb | RdsDb;
  workspaces?: WorkspaceEntry[];
  k8s?: {
    secrets: 'omit' | 'encrypt';
    keyParams?: { kdf: 'scrypt'; salt: string; alg: 'aes-256-gcm' };
    /** Format 2: the multi-document YAML holding every object (also listed in `objects` with its SHA-256). */
    key?: string;
    /** What the state holds, in document order. Format 1: `key` is each object's own file. */
    objects: { kind: string; namespace: string; name: string; key?: string }[];
  };
  dr?: { bucket: string; region: string };
}

/** Verification record, `<id>/verified.json`, written by `backup create` (DR check) and `backup verify`. */
export interface VerifyRecord {
  at: string;
  ok: boolean;
  regions: { region: string; bucket: string; ok: boolean; mismatches: string[] }[];
  deep?: { ok: boolean; detail: string };
}

export function backupPrefix(prefix: string, id: string): string {
  return `${prefix}${id}/`;
}

export const MANIFEST_KEY = 'manifest.json';
export const VERIFIED_KEY = 'verified.json';

export function workspaceKey(ns: string, pod: string): string {
  return `workspaces/${ns}/${pod}.tar`;
}

/** Format 2: the whole cluster state, one YAML document per object. */
export const K8S_STATE_KEY = 'k8s/state.yaml';

export function parseManifest(text: string, where: string): BackupManifest {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new Error(`${where}: manifest is not JSON: ${(e as Error).message}`);
  }
  const o = m as Partial<BackupManifest>;
  if (!o || typeof o !== 'object' || typeof o.id !== 'string' || !Array.isArray(o.objects) || !o.rpoReference)
    throw new Error(`${where}: not a hivectl backup manifest`);
  if (!READABLE_FORMATS.includes(o.format as number))
    throw new Error(
      `${where}: manifest format ${String(o.format)} is not supported (this hivectl reads ${READABLE_FORMATS.join(', ')})`,
    );
  return o as BackupManifest;
}

export function totalSize(m: BackupManifest): number {
  return m.objects.reduce((a, o) => a + o.size, 0);
}

export function parseComponents(s: string | undefined): Component[] {
  if (!s) return [...ALL_COMPONENTS];
  const out: Component[] = [];
  for (const p of s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    if (!(ALL_COMPONENTS as readonly string[]).includes(p))
      throw new Error(`unknown component "${p}" (use ${ALL_COMPONENTS.join(', ')})`);
    if (!out.includes(p as Component)) out.push(p as Component);
  }
  return out;
}
