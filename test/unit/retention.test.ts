import { describe, expect, it } from 'vitest';
import { applyRetention, type HistoryEntry, isoWeekKey } from '../../src/backup/retention.js';

const now = new Date('2026-11-27T12:00:00Z');
const day = 86_400_000;

/** One backup a day at 01:00 for 120 days, plus a second one on the newest day. */
function history(): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  for (let i = 0; i < 120; i++) {
    const t = new Date(Date.parse('2026-11-27T01:00:00Z') - i * day);
    out.push({ id: `b${String(i).padStart(3, '0')}`, time: t, complete: true, verified: false });
  }
  out.push({ id: 'b000-late', time: new Date('2026-11-27T02:00:00Z'), complete: true, verified: false });
  return out;
}

const kept = (d: ReturnType<typeof applyRetention>) => d.filter((x) => x.keep).map((x) => x.id);

describe('retention policy', () => {
  it('keep-last keeps exactly the N newest complete backups', () => {
    const d = applyRetention(history(), { keepLast: 3 }, now);
    expect(kept(d)).toEqual(['b000-late', 'b000', 'b001']);
  });

  it('keep-daily keeps the newest backup of each of the last D days', () => {
    const d = applyRetention(history(), { keepDaily: 3 }, now);
    expect(kept(d)).toEqual(['b000-late', 'b001', 'b002']);
  });

  it('keep-weekly and keep-monthly keep one per ISO week / month, newest first', () => {
    const w = kept(applyRetention(history(), { keepWeekly: 2 }, now));
    // 2026-11-27 is a Friday: week 48 runs Mon 23 .. Sun 29; its newest is b000-late, week 47's is Sun 22 = b005.
    expect(w).toEqual(['b000-late', 'b005']);
    const m = kept(applyRetention(history(), { keepMonthly: 3 }, now));
    // Newest of November, October (31st = b027), September (30th = b058).
    expect(m).toEqual(['b000-late', 'b027', 'b058']);
  });

  it('policies combine as a union, with the reasons', () => {
    const d = applyRetention(history(), { keepLast: 1, keepDaily: 2, keepMonthly: 2 }, now);
    expect(kept(d)).toEqual(['b000-late', 'b001', 'b027']);
    expect(d.find((x) => x.id === 'b000-late')!.reasons).toEqual(['last 1', 'daily 2026-11-27', 'monthly 2026-11']);
    expect(d.filter((x) => !x.keep)).toHaveLength(121 - 3);
  });

  it('never deletes the newest verified backup, even outside the policy', () => {
    const h = history().map((b) => (b.id === 'b040' || b.id === 'b050' ? { ...b, verified: true } : b));
    const d = applyRetention(h, { keepLast: 2 }, now);
    expect(kept(d)).toEqual(['b000-late', 'b000', 'b040']);
    expect(d.find((x) => x.id === 'b040')!.reasons).toContain('newest verified');
    expect(d.find((x) => x.id === 'b050')!.keep).toBe(false);
  });

  it('respects Object Lock retain-until, and only while it is in the future', () => {
    const h = history().map((b) =>
      b.id === 'b100'
        ? { ...b, retainUntil: new Date('2027-01-01T00:00:00Z') }
        : b.id === 'b101'
          ? { ...b, retainUntil: new Date('2026-11-01T00:00:00Z') }
          : b,
    );
    const d = applyRetention(h, { keepLast: 1 }, now);
    expect(kept(d)).toEqual(['b000-late', 'b100']);
    expect(d.find((x) => x.id === 'b100')!.reasons[0]).toMatch(/object lock until 2027-01-01/);
  });

  it('incomplete backups: kept while young (may be running or resumable), deleted once stale; never counted as "last"', () => {
    const h: HistoryEntry[] = [
      { id: 'new-incomplete', time: new Date(now.getTime() - 3_600_000), complete: false, verified: false },
      { id: 'old-incomplete', time: new Date(now.getTime() - 3 * day), complete: false, verified: false },
      { id: 'c1', time: new Date(now.getTime() - 2 * 3_600_000), complete: true, verified: false },
    ];
    const d = applyRetention(h, { keepLast: 1 }, now);
    expect(kept(d)).toEqual(['new-incomplete', 'c1']);
    expect(d.find((x) => x.id === 'old-incomplete')).toMatchObject({ keep: false, reasons: ['incomplete'] });
  });

  it('computes ISO weeks across year boundaries', () => {
    expect(isoWeekKey(new Date('2026-01-01T00:00:00Z'))).toBe('2026-W01');
    expect(isoWeekKey(new Date('2027-01-01T00:00:00Z'))).toBe('2026-W53');
    expect(isoWeekKey(new Date('2024-12-30T00:00:00Z'))).toBe('2025-W01');
  });
});
