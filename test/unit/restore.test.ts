// Restore's local pieces: the temp-file disk check (a dump that does not fit is refused in one sentence naming
// the space), and the row check over several connections (same result, table order kept, bounded).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode, RefusedError } from '../../src/core/errors.js';
import { ensureSpace } from '../../src/steps/pg/dump-file.js';
import { LIST_TABLES_SQL, tableChecks } from '../../src/steps/pg/table-checks.js';

const dir = mkdtempSync(join(tmpdir(), 'dump-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ensureSpace', () => {
  it('accepts a dump that fits', async () => {
    await expect(ensureSpace(dir, 1024)).resolves.toBeUndefined();
  });

  it('refuses a dump larger than the free space, naming the bytes needed and the way out', async () => {
    const need = 2 ** 55;
    const e = await ensureSpace(dir, need).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RefusedError);
    expect((e as RefusedError).exitCode).toBe(ExitCode.refused);
    expect((e as Error).message).toMatch(
      new RegExp(`^not enough free disk space in ${dir} .*needs .*\\(${need} bytes\\)`),
    );
    expect((e as RefusedError).hint).toMatch(/--work-dir.*--stream/);
  });

  it('refuses a work directory that does not exist', async () => {
    await expect(ensureSpace(join(dir, 'missing'), 1)).rejects.toThrow(/work directory .* is not usable/);
  });
});

describe('tableChecks with concurrency', () => {
  const tables = ['public.a', 'public.b', 'public.c', 'public.d', 'public.e'];
  const fake = () => {
    let inFlight = 0;
    let peak = 0;
    const query = async (sql: string): Promise<string[][]> => {
      if (sql === LIST_TABLES_SQL) return tables.map((t) => [t]);
      inFlight++;
      peak = Math.max(peak, inFlight);
      const t = /FROM (\S+) t/.exec(sql)![1]!;
      // Later tables answer sooner, so completion order differs from table order.
      await new Promise((r) => setTimeout(r, (tables.length - tables.indexOf(t)) * 5));
      inFlight--;
      return [[String(tables.indexOf(t) + 1), String(100 + tables.indexOf(t))]];
    };
    return { query, peak: () => peak };
  };

  it('gives the sequential result, in table order, with at most N tables at once', async () => {
    const one = fake();
    const seq = await tableChecks(one.query);
    const three = fake();
    const par = await tableChecks(three.query, 1, 3);
    expect(par).toEqual(seq);
    expect(par.map((c) => c.table)).toEqual(tables);
    expect(one.peak()).toBe(1);
    expect(three.peak()).toBe(3);
  });
});
