// The retention policy of `backup prune`: a pure function over the backup history, so it can be tested
// on a synthetic history and shown with --dry-run before anything is deleted. Same rules as restic/borg:
// keep the N newest, then the newest backup of each of the last D days, W ISO weeks and M months
// (UTC). On top: the newest verified backup is never deleted, nor anything under Object Lock retention;
// an incomplete backup (no manifest) is deleted only once it is older than the grace period, since a
// younger one may be a run in progress or one that `hivectl resume` will complete.

export interface RetentionPolicy {
  keepLast?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  /** Incomplete backups younger than this are kept (ms). */
  incompleteGraceMs?: number;
}

export interface HistoryEntry {
  id: string;
  time: Date;
  complete: boolean;
  verified: boolean;
  /** Object Lock retain-until of any of its objects (the latest one). */
  retainUntil?: Date;
}

export interface Decision {
  id: string;
  keep: boolean;
  reasons: string[];
}

function dayKey(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function monthKey(d: Date): string {
  return d.toISOString().slice(0, 7);
}

/** ISO 8601 week, e.g. 2026-W48 (weeks start on Monday; week 1 holds the year's first Thursday). */
export function isoWeekKey(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const dow = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - dow);
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((t.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${t.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/** Decide, for every backup, keep or delete, with the reasons. Newest first in the result. */
export function applyRetention(history: HistoryEntry[], policy: RetentionPolicy, now: Date): Decision[] {
  const sorted = [...history].sort((a, b) => b.time.getTime() - a.time.getTime() || (a.id < b.id ? 1 : -1));
  const reasons = new Map<string, string[]>(sorted.map((h) => [h.id, []]));
  const add = (id: string, r: string) => reasons.get(id)!.push(r);
  const complete = sorted.filter((h) => h.complete);

  complete.slice(0, policy.keepLast ?? 0).forEach((h, i) => {
    add(h.id, `last ${i + 1}`);
  });
  const bucketed = (n: number | undefined, key: (d: Date) => string, label: string) => {
    if (!n) return;
    const seen = new Set<string>();
    for (const h of complete) {
      const k = key(h.time);
      if (seen.has(k)) continue;
      if (seen.size >= n) break;
      seen.add(k);
      add(h.id, `${label} ${k}`);
    }
  };
  bucketed(policy.keepDaily, dayKey, 'daily');
  bucketed(policy.keepWeekly, isoWeekKey, 'weekly');
  bucketed(policy.keepMonthly, monthKey, 'monthly');

  const newestVerified = complete.find((h) => h.verified);
  if (newestVerified) add(newestVerified.id, 'newest verified');

  const grace = policy.incompleteGraceMs ?? 24 * 3_600_000;
  for (const h of sorted) {
    if (!h.complete && now.getTime() - h.time.getTime() < grace) add(h.id, 'incomplete, may still be running');
    if (h.retainUntil && h.retainUntil.getTime() > now.getTime())
      add(h.id, `object lock until ${h.retainUntil.toISOString()}`);
  }
  return sorted.map((h) => {
    const r = reasons.get(h.id)!;
    return { id: h.id, keep: r.length > 0, reasons: r.length ? r : [h.complete ? 'outside policy' : 'incomplete'] };
  });
}
