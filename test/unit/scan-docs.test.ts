// docs/checks.md must list every check as the registry defines it. To regenerate:
//   HIVECTL_WRITE_DOCS=1 npx vitest run test/unit/scan-docs.test.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderChecksMarkdown } from '../../src/scan/docs.js';

const file = new URL('../../docs/checks.md', import.meta.url);

describe('docs/checks.md', () => {
  it('matches the check registry', () => {
    const want = renderChecksMarkdown();
    if (process.env.HIVECTL_WRITE_DOCS === '1') writeFileSync(file, want);
    expect(readFileSync(file, 'utf8')).toBe(want);
  });
});
