import { describe, expect, it } from 'vitest';
import { textTable } from '../../src/core/table.js';

describe('textTable', () => {
  it('pads columns to the widest cell, two spaces apart, with a trailing newline', () => {
    expect(
      textTable([
        ['ID', 'NAME', 'STATUS'],
        ['1', 'alpha', 'ok'],
        ['22', 'b', 'failed'],
      ]),
    ).toBe('ID  NAME   STATUS\n1   alpha  ok\n22  b      failed\n');
  });

  it('trims trailing spaces left by empty last cells by default', () => {
    expect(
      textTable([
        ['A', 'B'],
        ['x', ''],
      ]),
    ).toBe('A  B\nx\n');
  });

  it('keeps trailing separators and omits the final newline when asked', () => {
    expect(
      textTable(
        [
          ['A', 'B'],
          ['x', ''],
        ],
        { trimEnd: false, newline: false },
      ),
    ).toBe('A  B\nx  ');
  });

  it('handles rows shorter than the header', () => {
    expect(
      textTable([
        ['LONGER', 'B', 'C'],
        ['x', 'y'],
      ]),
    ).toBe('LONGER  B  C\nx       y\n');
  });

  it('renders nothing for no rows', () => {
    expect(textTable([])).toBe('');
  });
});
