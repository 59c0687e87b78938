// Picks the reporter for a format. json/yaml carry the whole report (findings after the display
// filter; counts, frameworks and the gate always complete).
import { stringify } from 'yaml';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import { type RenderOptions, type ScanReport, shown } from './model.js';
import { renderSarif } from './sarif.js';
import { renderTable } from './table.js';

export const FORMATS = ['table', 'json', 'yaml', 'sarif', 'junit', 'markdown'] as const;
export type ReportFormat = (typeof FORMATS)[number];

export function reportObject(report: ScanReport, o: RenderOptions): ScanReport {
  return { ...report, findings: shown(report, o) };
}

export function render(report: ScanReport, format: ReportFormat, o: RenderOptions = {}): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(reportObject(report, o), null, 2)}\n`;
    case 'yaml':
      return stringify(reportObject(report, o));
    case 'sarif':
      return renderSarif(report, o);
    case 'junit':
      return renderJunit(report, o);
    case 'markdown':
      return renderMarkdown(report, o);
    default:
      return renderTable(report, o);
  }
}

/** The format a --report file name implies, when --format is not given. */
export function formatFromFileName(file: string): ReportFormat | undefined {
  const f = file.toLowerCase();
  if (f.endsWith('.sarif') || f.endsWith('.sarif.json')) return 'sarif';
  if (f.endsWith('.xml')) return 'junit';
  if (f.endsWith('.md') || f.endsWith('.markdown')) return 'markdown';
  if (f.endsWith('.json')) return 'json';
  if (f.endsWith('.yaml') || f.endsWith('.yml')) return 'yaml';
  if (f.endsWith('.txt')) return 'table';
  return undefined;
}
