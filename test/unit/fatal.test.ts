import { afterEach, describe, expect, it, vi } from 'vitest';
import { ExitCode, GateError, RefusedError, UsageError } from '../../src/core/errors.js';
import { handleFatal } from '../../src/core/fatal.js';

describe('handleFatal', () => {
  const writes: string[] = [];
  afterEach(() => {
    writes.length = 0;
    vi.restoreAllMocks();
  });
  const capture = () =>
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
      writes.push(String(s));
      return true;
    });

  it('maps typed errors to their exit codes and prints the hint, no stack', () => {
    capture();
    expect(handleFatal(new UsageError('no region', { hint: 'pass --region' }), false)).toBe(ExitCode.usage);
    expect(handleFatal(new RefusedError('needs --yes'), false)).toBe(ExitCode.refused);
    expect(handleFatal(new GateError('findings'), false)).toBe(ExitCode.gateFailed);
    const text = writes.join('');
    expect(text).toContain('hivectl: no region');
    expect(text).toContain('-> pass --region');
    expect(text).not.toContain('at ');
  });

  it('treats an unknown error as a failed step without a stack trace unless verbose', () => {
    capture();
    expect(handleFatal(new Error('boom'), false)).toBe(ExitCode.stepFailed);
    expect(writes.join('')).not.toMatch(/\n\s+at /);
    writes.length = 0;
    handleFatal(new Error('boom'), true);
    expect(writes.join('')).toMatch(/\n\s+at /);
  });
});
