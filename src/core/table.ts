// Plain-text tables for human output: columns padded to the widest cell, two spaces apart.
// One implementation so every command's tables line up the same way.

export interface TextTableOptions {
  /** Strip trailing spaces from each line (default true); false keeps the separator before an empty last cell. */
  trimEnd?: boolean;
  /** End the table with a newline (default true). */
  newline?: boolean;
}

/**
 * rows[0] is the header and sets the column count used for widths; the last cell of each row is never
 * padded. An empty row list renders as ''.
 */
export function textTable(rows: string[][], opts: TextTableOptions = {}): string {
  if (!rows.length) return '';
  const { trimEnd = true, newline = true } = opts;
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const lines = rows.map((r) => {
    const line = r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i] ?? 0))).join('  ');
    return trimEnd ? line.trimEnd() : line;
  });
  return `${lines.join('\n')}${newline ? '\n' : ''}`;
}
