// The runbook registry: every runbook that `hivectl resume`, `hivectl runbook list|show|run` can find
// by name. A runbook module registers itself when imported; built-in modules are listed in BUILTIN
// below (one line each, imported lazily so that the registry costs nothing until it is used).
// Site runbooks: HIVECTL_RUNBOOK_MODULES=/path/a.mjs,/path/b.mjs — each ESM module either exports
// `runbooks` (an array of definitions), `runbook` or a default definition, or exports
// `register(api)` and calls api.registerRunbook(def).
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CommandEnv } from '../core/command.js';
import { UsageError } from '../core/errors.js';
import type { Runbook } from '../core/step.js';

export interface RunbookDefinition {
  /** Registry name, e.g. `backup-create`: Runbook.name of what build() returns must equal it. */
  name: string;
  title: string;
  description: string;
  /** Rebuild the runbook from JSON inputs (journalled, so `hivectl resume` can rebuild it). */
  build(inputs: Record<string, unknown>, env: CommandEnv): Runbook | Promise<Runbook>;
  /** Inputs for `hivectl runbook show NAME` when none are given. */
  example?: Record<string, unknown>;
  /** Where it came from (set by the registry: `builtin` or the module path). */
  source?: string;
}

/** Built-in runbook modules, one line each: `() => import('./backup-create.js'),` */
const BUILTIN: Array<() => Promise<unknown>> = [
  () => import('./backup-create.js'),
  () => import('./bootstrap.js'),
  () => import('./scale.js'),
  () => import('./backup-prune.js'),
  () => import('./restore.js'),
  () => import('./chaos.js'),
  () => import('./failover.js'),
];

const registry = new Map<string, RunbookDefinition>();
let loading: Promise<void> | undefined;
/** Built-in modules that failed to load (named when a runbook is not found). */
const loadErrors: string[] = [];

export function registerRunbook(def: RunbookDefinition): void {
  if (!def || typeof def.name !== 'string' || typeof def.build !== 'function') {
    throw new UsageError(`a runbook definition needs a name and a build(inputs, env) function`);
  }
  const existing = registry.get(def.name);
  if (existing && existing.build !== def.build) {
    throw new UsageError(
      `two runbooks are named "${def.name}" (${existing.source ?? 'builtin'} and ${def.source ?? 'builtin'})`,
    );
  }
  registry.set(def.name, { source: 'builtin', ...def });
}

function isDefinition(x: unknown): x is RunbookDefinition {
  return typeof x === 'object' && x !== null && typeof (x as RunbookDefinition).build === 'function';
}

async function loadModule(mod: Record<string, unknown>, source: string): Promise<void> {
  const defs: unknown[] = [];
  if (Array.isArray(mod.runbooks)) defs.push(...mod.runbooks);
  if (isDefinition(mod.runbook)) defs.push(mod.runbook);
  if (isDefinition(mod.default)) defs.push(mod.default);
  if (Array.isArray(mod.default)) defs.push(...mod.default);
  for (const d of defs) {
    if (!isDefinition(d)) throw new UsageError(`${source}: an entry of \`runbooks\` is not a runbook definition`);
    registerRunbook({ ...d, source });
  }
  if (typeof mod.register === 'function') {
    await (mod.register as (api: unknown) => unknown)({
      registerRunbook: (d: RunbookDefinition) => registerRunbook({ ...d, source }),
    });
  }
}

/** Load built-ins and HIVECTL_RUNBOOK_MODULES (once). */
export function loadRunbooks(env: Record<string, string | undefined> = process.env): Promise<void> {
  loading ??= (async () => {
    // One broken module must not hide every other runbook (resume of an unrelated run included).
    for (const load of BUILTIN) {
      try {
        await load();
      } catch (e) {
        loadErrors.push(`${String(load).replace(/^.*import\(['"](.+?)['"]\).*$/s, '$1')}: ${(e as Error).message}`);
      }
    }
    const extra = (env.HIVECTL_RUNBOOK_MODULES ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const p of extra) {
      const abs = isAbsolute(p) ? p : resolve(p);
      let mod: Record<string, unknown>;
      try {
        mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
      } catch (e) {
        throw new UsageError(`HIVECTL_RUNBOOK_MODULES: cannot load ${abs}: ${(e as Error).message}`, {
          hint: 'fix the path or the module, or unset HIVECTL_RUNBOOK_MODULES',
        });
      }
      await loadModule(mod, abs);
    }
  })();
  return loading;
}

export async function getRunbook(name: string): Promise<RunbookDefinition> {
  await loadRunbooks();
  const def = registry.get(name);
  if (!def) {
    throw new UsageError(`no runbook named "${name}"`, {
      hint: `known runbooks: ${[...registry.keys()].sort().join(', ') || '(none)'}; see \`hivectl runbook list\`${
        loadErrors.length ? ` (failed to load: ${loadErrors.join('; ')})` : ''
      }`,
    });
  }
  return def;
}

export async function listRunbooks(): Promise<RunbookDefinition[]> {
  await loadRunbooks();
  return [...registry.values()].sort((a, b) => a.name.localeCompare(b.name));
}
