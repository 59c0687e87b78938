// Rendered manifests (a directory of YAML/JSON files, a single file, or stdin) -> objects, each
// tagged with file:line so SARIF can point at it.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { UsageError } from '../core/errors.js';
import type { KObject } from './types.js';

export function parseManifestText(text: string, source: string): KObject[] {
  const out: KObject[] = [];
  const lineStarts: number[] = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const lineOf = (offset: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  for (const d of list) {
    if (d.errors.length) {
      const e = d.errors[0]!;
      throw new UsageError(`${source}: invalid YAML: ${e.message.split('\n')[0]}`, {
        hint: 'fix the manifest (or the renderer that produced it) and scan again',
      });
    }
    const v = d.toJS({ maxAliasCount: 1000 }) as unknown;
    if (!v || typeof v !== 'object') continue;
    const line = lineOf(d.contents?.range?.[0] ?? 0);
    const tag = (o: KObject) => {
      (o as { __source?: string }).__source = `${source}:${line}`;
      return o;
    };
    const o = v as KObject;
    if (o.kind === 'List' || (o.kind ?? '').endsWith('List')) {
      for (const item of (o.items ?? []) as KObject[]) if (item && typeof item === 'object') out.push(tag(item));
    } else out.push(tag(o));
  }
  return out;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (/\.(ya?ml|json)$/i.test(e.name)) out.push(p);
  }
  return out.sort();
}

export async function readStdin(stream: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Load `-` (stdin), a file, or every *.yaml|*.yml|*.json under a directory. */
export async function loadManifests(path: string, stdin?: () => Promise<string>): Promise<KObject[]> {
  if (path === '-') {
    const text = await (stdin ?? (() => readStdin()))();
    if (!text.trim())
      throw new UsageError('--manifests -: nothing on standard input', {
        hint: 'pipe rendered YAML in, e.g. `hivectl bootstrap --render -o yaml | hivectl scan --manifests -`',
      });
    return parseManifestText(text, '-');
  }
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(path);
  } catch {
    throw new UsageError(`--manifests ${path}: no such file or directory`, {
      hint: 'pass a directory of rendered YAML, a file, or - for stdin',
    });
  }
  if (st.isDirectory()) {
    const files = await filesUnder(path);
    if (!files.length) throw new UsageError(`--manifests ${path}: no .yaml, .yml or .json files in it`);
    const out: KObject[] = [];
    for (const f of files) out.push(...parseManifestText(await readFile(f, 'utf8'), relative(process.cwd(), f) || f));
    return out;
  }
  return parseManifestText(await readFile(path, 'utf8'), path);
}
