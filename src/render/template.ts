// A deliberately small template language over parsed YAML (so values can never inject YAML):
// a scalar that is exactly `{{ path }}` becomes the value at path (any type); `{{ path }}` inside a
// longer string is interpolated. Documents may carry `__when` conditions (see templates/README.md).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const WHOLE = /^\{\{\s*([\w.]+)\s*\}\}$/;
const INLINE = /\{\{\s*([\w.]+)\s*\}\}/g;

export interface TemplateDoc {
  file: string;
  when: string[];
  body: Record<string, unknown>;
}

export function lookup(values: Record<string, unknown>, path: string, where: string): unknown {
  let cur: unknown = values;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || !(part in cur)) {
      throw new Error(`template ${where}: no value for {{ ${path} }}`);
    }
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export function substitute(node: unknown, values: Record<string, unknown>, where: string): unknown {
  if (typeof node === 'string') {
    const whole = WHOLE.exec(node);
    if (whole) return structuredClone(lookup(values, whole[1] as string, where));
    return node.replace(INLINE, (_m, p: string) => String(lookup(values, p, where)));
  }
  if (Array.isArray(node)) return node.map((n) => substitute(n, values, where));
  if (typeof node === 'object' && node !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node))
      out[substitute(k, values, where) as string] = substitute(v, values, where);
    return out;
  }
  return node;
}

export function loadTemplates(dir: string): TemplateDoc[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort();
  const docs: TemplateDoc[] = [];
  for (const file of files) {
    for (const d of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      if (d.errors.length) throw new Error(`template ${file}: ${d.errors[0]?.message}`);
      const body = d.toJS() as Record<string, unknown> | null;
      if (!body) continue;
      const raw = body.__when;
      delete body.__when;
      const when = raw === undefined ? [] : Array.isArray(raw) ? raw.map(String) : [String(raw)];
      docs.push({ file, when, body });
    }
  }
  return docs;
}
