// Pure helpers for plan and diff: what counts as a change, unified diffs, Secret redaction,
// field-manager conflicts. No I/O, unit-tested.
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import type { KubernetesObject } from '../../render/types.js';

type Tree = Record<string, unknown>;

/** Fields the server sets on every write; they never count as a change. */
const SERVER_META = ['managedFields', 'resourceVersion', 'generation', 'creationTimestamp', 'uid', 'selfLink'];

function digest(v: string): string {
  return `<secret sha256:${createHash('sha256').update(v).digest('hex').slice(0, 12)}>`;
}

/** Secret values -> digests, so a diff can say "changed" without printing them. */
export function redactSecret<T extends { kind: string }>(o: T): T {
  if (o.kind !== 'Secret') return o;
  const c = structuredClone(o) as T & { data?: Record<string, string>; stringData?: Record<string, string> };
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.data ?? {})) data[k] = digest(Buffer.from(v, 'base64').toString('utf8'));
  for (const [k, v] of Object.entries(c.stringData ?? {})) data[k] = digest(v);
  delete c.stringData;
  if (Object.keys(data).length) c.data = data;
  return c;
}

/** A Secret's stringData moved into base64 `data`: the form the server stores, so dry-run == live. */
export function secretToData<T extends KubernetesObject>(o: T): T {
  if (o.kind !== 'Secret' || !o.stringData) return o;
  const c = structuredClone(o) as T & { data?: Record<string, string>; stringData?: Record<string, string> };
  c.data = { ...(c.data ?? {}) };
  for (const [k, v] of Object.entries(c.stringData ?? {}))
    c.data[k] = Buffer.from(String(v), 'utf8').toString('base64');
  delete c.stringData;
  return c;
}

/** The object as compared and shown: no server bookkeeping, no status, Secret values as digests. */
export function normalizeForCompare(o: Tree | undefined): Tree | undefined {
  if (!o) return undefined;
  const c = redactSecret(structuredClone(o) as Tree & { kind: string });
  const meta = (c.metadata ?? {}) as Tree;
  for (const k of SERVER_META) delete meta[k];
  const ann = meta.annotations as Record<string, string> | undefined;
  if (ann) {
    delete ann['deployment.kubernetes.io/revision'];
    if (Object.keys(ann).length === 0) delete meta.annotations;
  }
  delete c.status;
  return c;
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    const out: Tree = {};
    for (const k of Object.keys(v as Tree).sort()) out[k] = canonical((v as Tree)[k]);
    return out;
  }
  return v;
}

export function sameObject(a: Tree | undefined, b: Tree | undefined): boolean {
  return JSON.stringify(canonical(normalizeForCompare(a))) === JSON.stringify(canonical(normalizeForCompare(b)));
}

export function toYaml(o: Tree | undefined): string {
  return o ? stringify(canonical(normalizeForCompare(o)), { lineWidth: 0 }) : '';
}

/** Line diff (LCS) rendered as a unified diff with `context` lines around each change. */
export function unifiedDiff(a: string, b: string, labelA: string, labelB: string, context = 3): string {
  const x = a === '' ? [] : a.replace(/\n$/, '').split('\n');
  const y = b === '' ? [] : b.replace(/\n$/, '').split('\n');
  const n = x.length;
  const m = y.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    const row = lcs[i] as number[];
    const next = lcs[i + 1] as number[];
    for (let j = m - 1; j >= 0; j--)
      row[j] = x[i] === y[j] ? (next[j + 1] as number) + 1 : Math.max(next[j] as number, row[j + 1] as number);
  }
  type Op = { t: ' ' | '-' | '+'; s: string; ai: number; bi: number };
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      ops.push({ t: ' ', s: x[i] as string, ai: i++, bi: j++ });
    } else if (i < n && (j >= m || (lcs[i + 1]?.[j] ?? 0) >= (lcs[i]?.[j + 1] ?? 0))) {
      // Deletions before insertions, as diff(1) prints them.
      ops.push({ t: '-', s: x[i] as string, ai: i++, bi: j });
    } else {
      ops.push({ t: '+', s: y[j] as string, ai: i, bi: j++ });
    }
  }
  if (!ops.some((o) => o.t !== ' ')) return '';
  const out = [`--- ${labelA}`, `+++ ${labelB}`];
  let k = 0;
  while (k < ops.length) {
    if ((ops[k] as Op).t === ' ') {
      k++;
      continue;
    }
    let start = Math.max(0, k - context);
    let end = k;
    // Extend the hunk while changes are within 2*context of each other.
    while (end < ops.length) {
      if ((ops[end] as Op).t !== ' ') {
        end++;
        continue;
      }
      let run = 0;
      while (end + run < ops.length && (ops[end + run] as Op).t === ' ') run++;
      if (end + run >= ops.length || run > 2 * context) {
        end = Math.min(ops.length, end + context);
        break;
      }
      end += run;
    }
    const hunk = ops.slice(start, end);
    const aStart = (hunk[0] as Op).ai;
    const bStart = (hunk[0] as Op).bi;
    const aLen = hunk.filter((o) => o.t !== '+').length;
    const bLen = hunk.filter((o) => o.t !== '-').length;
    out.push(`@@ -${aLen ? aStart + 1 : aStart},${aLen} +${bLen ? bStart + 1 : bStart},${bLen} @@`);
    for (const o of hunk) out.push(`${o.t}${o.s}`);
    k = end;
    start = end;
  }
  return `${out.join('\n')}\n`;
}

export interface FieldConflict {
  manager: string;
  field: string;
}

/** From a 409 Apply conflict's causes: which manager owns which field. */
export function parseConflicts(
  causes: { type?: string; message?: string; field?: string }[],
  message = '',
): FieldConflict[] {
  const out: FieldConflict[] = [];
  for (const c of causes) {
    if (c.type && c.type !== 'FieldManagerConflict') continue;
    const m = /conflict with "([^"]+)"/.exec(c.message ?? '');
    out.push({ manager: m?.[1] ?? 'unknown', field: c.field ?? '(unknown field)' });
  }
  if (out.length === 0) {
    // Older servers: only the message, e.g. `Apply failed with 1 conflict: conflict with "x" using v1: .data.a`
    for (const m of message.matchAll(/conflict with "([^"]+)"[^:]*: (\S+)/g))
      out.push({ manager: m[1] as string, field: m[2] as string });
  }
  return out;
}

interface ManagedEntry {
  manager?: string;
  operation?: string;
  fieldsV1?: Tree;
}

/** Operations (Apply/Update) a manager used on a live object. */
export function managerOperations(live: Tree | undefined, manager: string): Set<string> {
  const mf = ((live?.metadata as Tree | undefined)?.managedFields ?? []) as ManagedEntry[];
  return new Set(mf.filter((e) => e.manager === manager).map((e) => e.operation ?? ''));
}

/** Does `manager` (with operation Apply) own the field at `path` (e.g. ['spec','replicas'])? */
export function ownsField(live: Tree | undefined, manager: string, path: string[]): boolean {
  const mf = ((live?.metadata as Tree | undefined)?.managedFields ?? []) as ManagedEntry[];
  return mf.some((e) => {
    if (e.manager !== manager || e.operation !== 'Apply') return false;
    let cur: unknown = e.fieldsV1;
    for (const p of path) {
      if (!cur || typeof cur !== 'object') return false;
      cur = (cur as Tree)[`f:${p}`];
    }
    return cur !== undefined;
  });
}
