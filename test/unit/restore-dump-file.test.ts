// The temp-file restore's disk check: a dump that does not fit is refused in one sentence naming the space.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode, RefusedError } from '../../src/core/errors.js';
import { ensureSpace } from '../../src/steps/pg/dump-file.js';

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
