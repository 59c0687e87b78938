// YAML for plain JSON data (objects, arrays, strings, finite numbers, booleans, null), written directly.
// The `yaml` library's stringify builds a document tree first: for a backup's cluster state that was
// ~25 ms of CPU, about a tenth of the whole backup runbook's. What comes out here is block-style YAML
// that any YAML 1.2 parser reads back as the same data: a string is written plain only when it cannot
// be read as anything else, otherwise double-quoted with JSON's escapes (a subset of YAML's).

// Plain (unquoted) only for identifier-like text: no ':', '#', spaces, quotes or leading indicator.
const PLAIN = /^[A-Za-z_][A-Za-z0-9_./@=+-]*$/;
// Words some YAML readers (1.1 or 1.2 core schema) take for booleans or null.
const SPECIAL = /^(?:true|false|null|yes|no|on|off|y|n)$/i;
// Characters YAML does not allow unescaped inside a double-quoted scalar (non-printable or line
// separators), which JSON.stringify leaves as they are (it already escapes lone surrogates).
const UNPRINTABLE = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g;

function scalarString(s: string): string {
  if (PLAIN.test(s) && !SPECIAL.test(s)) return s;
  return JSON.stringify(s).replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return scalarString(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError(`cannot write ${v} as YAML data`);
    return String(v);
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  throw new TypeError(`cannot write a ${typeof v} as YAML data`);
}

function isCollection(v: unknown): v is object {
  return typeof v === 'object' && v !== null;
}

function isEmpty(v: object): boolean {
  if (Array.isArray(v)) return v.length === 0;
  for (const k in v) if ((v as Record<string, unknown>)[k] !== undefined) return false;
  return true;
}

/** Lines for a non-empty collection at `indent`; the caller writes the first line's prefix. */
function block(v: object, indent: string, out: string[], first: string): void {
  let prefix = first;
  if (Array.isArray(v)) {
    for (const item of v) {
      if (isCollection(item) && !isEmpty(item)) {
        // "- " then the item's first line on the same line, the rest indented under it.
        block(item, `${indent}  `, out, `${prefix}- `);
      } else {
        out.push(`${prefix}- ${isCollection(item) ? (Array.isArray(item) ? '[]' : '{}') : scalar(item)}`);
      }
      prefix = indent;
    }
    return;
  }
  for (const [k, item] of Object.entries(v)) {
    // JSON drops undefined members; so does this.
    if (item === undefined) continue;
    const key = scalarString(k);
    if (isCollection(item) && !isEmpty(item)) {
      out.push(`${prefix}${key}:`);
      // Sequences inside a mapping are written at the mapping's own indentation, as kubectl does.
      block(item, Array.isArray(item) ? indent : `${indent}  `, out, Array.isArray(item) ? indent : `${indent}  `);
    } else {
      out.push(`${prefix}${key}: ${isCollection(item) ? (Array.isArray(item) ? '[]' : '{}') : scalar(item)}`);
    }
    prefix = indent;
  }
}

/** One YAML document (ending in a newline) for JSON-compatible data. */
export function toYaml(v: unknown): string {
  if (!isCollection(v) || isEmpty(v)) {
    return `${isCollection(v) ? (Array.isArray(v) ? '[]' : '{}') : scalar(v)}\n`;
  }
  const out: string[] = [];
  block(v, '', out, '');
  return `${out.join('\n')}\n`;
}
