import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { register, STARTER_CONFIG } from '../../src/commands/config.js';
import { loadConfig } from '../../src/core/config-load.js';
import { ExitCode, RefusedError } from '../../src/core/errors.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hivectl-config-cmd-'));
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

function program(): Command {
  const p = new Command('hivectl').exitOverride().option('-o, --output <format>', 'format', 'table');
  register(p);
  return p;
}

describe('config init', () => {
  it('writes the starter file, which is a valid configuration', async () => {
    const file = join(dir, 'hivectl.yaml');
    await program().parseAsync(['config', 'init', '--file', file], { from: 'user' });
    expect(readFileSync(file, 'utf8')).toBe(STARTER_CONFIG);
    const { config, sources } = await loadConfig({ cwd: dir, home: join(dir, 'home'), env: {}, flags: {} });
    expect(config.aws.region).toBe('us-east-1');
    expect(sources['aws.region']).toBe('./hivectl.yaml');
  });

  it('refuses to overwrite an existing file (exit 5) unless --force', async () => {
    const file = join(dir, 'hivectl.yaml');
    writeFileSync(file, 'mine: true\n');
    const err = await program()
      .parseAsync(['config', 'init', '--file', file], { from: 'user' })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(RefusedError);
    expect((err as RefusedError).exitCode).toBe(ExitCode.refused);
    expect((err as RefusedError).hint).toContain('--force');
    expect(readFileSync(file, 'utf8')).toBe('mine: true\n');

    await program().parseAsync(['config', 'init', '--file', file, '--force'], { from: 'user' });
    expect(readFileSync(file, 'utf8')).toBe(STARTER_CONFIG);
    expect(existsSync(file)).toBe(true);
  });
});
