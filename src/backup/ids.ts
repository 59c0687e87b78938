// Backup ids: `20261127T010203Z-abcd`. The UTC timestamp first makes ids sort by creation time as plain
// strings (S3 lists keys in that order); the random suffix keeps two backups in the same second apart.
import { randomBytes } from 'node:crypto';

const ID_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-([a-z0-9]{4,8})$/;

export function newBackupId(now: Date = new Date(), suffix?: string): string {
  const iso = now.toISOString(); // 2026-11-27T01:02:03.456Z
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const s = suffix ?? randomBytes(3).toString('hex').slice(0, 4);
  return `${stamp}-${s}`;
}

export function isBackupId(s: string): boolean {
  return ID_RE.test(s);
}

/** Creation time encoded in the id (second precision). */
export function backupIdTime(id: string): Date {
  const m = ID_RE.exec(id);
  if (!m) throw new Error(`not a backup id: ${id}`);
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}
