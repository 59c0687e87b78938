// Orchestrates one scan: gather the inventory (live cluster LISTs or manifests, AWS posture,
// Trivy), evaluate, build the report. Read-only, so no runbook, lock or journal.
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import type { HivectlConfig } from '../core/config.js';
import { parseDurationMs } from '../core/duration.js';
import { UsageError } from '../core/errors.js';
import { containersOf, SYSTEM_NAMESPACES } from './checks/util.js';
import { type BaselineFile, type ExceptionEntry, evaluate } from './engine.js';
import { buildK8sInventory } from './inventory.js';
import { loadManifests } from './manifests.js';
import { makeReport, type ScanReport, type ScanStats } from './report/model.js';
import type { Inventory, KObject, Scope, Severity } from './types.js';

export interface ScanInputs {
  config: HivectlConfig;
  scopes: Scope[];
  /** Rendered manifests instead of the live cluster. */
  manifests?: string | undefined;
  kubeconfig?: string | undefined;
  context?: string | undefined;
  includeSystemNamespaces?: boolean;
  buckets?: string[] | undefined;
  dbInstances?: string[] | undefined;
  exceptionsFile?: string | undefined;
  baselineFile?: string | undefined;
  /** --write-baseline: the baseline is being written, so do not apply the old one. */
  writingBaseline?: boolean;
  failOn?: Severity | undefined;
  version: string;
  signal?: AbortSignal | undefined;
  now?: Date;
  stdin?: () => Promise<string>;
}

const exceptionsSchema = z
  .object({
    exceptions: z
      .array(
        z
          .object({
            check: z.string().min(1),
            target: z.string().min(1),
            reason: z.string().min(1, 'say why the finding is accepted'),
            expires: z
              .union([z.string(), z.date()])
              .transform((v) => (v instanceof Date ? v.toISOString().slice(0, 10) : v)),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

export async function loadExceptions(file: string): Promise<ExceptionEntry[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UsageError(`--exceptions ${file}: cannot read the file`, {
      hint: 'pass an existing exceptions YAML file',
    });
  }
  let raw: unknown;
  try {
    raw = parse(text) ?? {};
  } catch (e) {
    throw new UsageError(`${file}: invalid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const r = exceptionsSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new UsageError(`${file}: ${i.path.join('.') || '(root)'}: ${i.message}`, {
      hint: 'each exception needs check, target, reason and expires (YYYY-MM-DD)',
    });
  }
  for (const [n, e] of r.data.exceptions.entries())
    if (Number.isNaN(Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(e.expires) ? `${e.expires}T00:00:00Z` : e.expires)))
      throw new UsageError(`${file}: exceptions.${n}.expires: "${e.expires}" is not a date`, {
        hint: 'use YYYY-MM-DD',
      });
  return r.data.exceptions;
}

export async function loadBaseline(file: string): Promise<Set<string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT')
      throw new UsageError(`--baseline ${file}: no such file`, {
        hint: 'create it first with --baseline FILE --write-baseline',
      });
    throw e;
  }
  try {
    const b = JSON.parse(text) as BaselineFile;
    if (b.version !== 1 || !Array.isArray(b.findings)) throw new Error('not a hivectl baseline');
    return new Set(b.findings.map((f) => f.fingerprint));
  } catch (e) {
    throw new UsageError(`--baseline ${file}: ${(e as Error).message}`, { hint: 'write it with --write-baseline' });
  }
}

function dropExcludedNamespaces(objects: KObject[], include: boolean): KObject[] {
  if (include) return objects;
  return objects.filter((o) => {
    if (o.kind === 'Namespace') return !SYSTEM_NAMESPACES.has(o.metadata?.name ?? '');
    const ns = o.metadata?.namespace;
    return !ns || !SYSTEM_NAMESPACES.has(ns);
  });
}

export async function runScan(inp: ScanInputs): Promise<{ report: ScanReport; warnings: string[] }> {
  const t0 = Date.now();
  const warnings: string[] = [];
  const inv: Inventory = {};
  const stats: ScanStats = { durationMs: 0 };
  const sources: ScanReport['sources'] = {};

  const exceptions = inp.exceptionsFile ? await loadExceptions(inp.exceptionsFile) : [];
  const baseline = inp.baselineFile && !inp.writingBaseline ? await loadBaseline(inp.baselineFile) : undefined;

  const tasks: Promise<void>[] = [];
  if (inp.scopes.includes('k8s') || inp.scopes.includes('images')) {
    tasks.push(
      (async () => {
        let objects: KObject[];
        if (inp.manifests) {
          objects = await loadManifests(inp.manifests, inp.stdin);
          sources.manifests = [inp.manifests];
          inv.k8s = buildK8sInventory(
            dropExcludedNamespaces(objects, inp.includeSystemNamespaces ?? false),
            'manifests',
          );
        } else {
          const { connectK8s } = await import('../adapters/k8s.js');
          const { listAll } = await import('../adapters/k8s-list.js');
          const k = await connectK8s({ kubeconfig: inp.kubeconfig, context: inp.context });
          sources.kubernetes = `${k.contextName} (${k.server})`;
          const r = await listAll(k, undefined, { signal: inp.signal });
          warnings.push(...r.warnings);
          stats.k8sRequests = r.requests;
          stats.k8sObjects = r.objects.length;
          objects = r.objects;
          inv.k8s = buildK8sInventory(dropExcludedNamespaces(objects, inp.includeSystemNamespaces ?? false), 'live');
        }
        stats.workloads = inv.k8s.workloads.length;
      })(),
    );
  }
  if (inp.scopes.includes('aws')) {
    tasks.push(
      (async () => {
        const c = inp.config;
        const region = c.aws.region;
        if (!region)
          throw new UsageError('no AWS region configured for the aws scan scope', {
            hint: 'pass --region, set AWS_REGION or aws.region in hivectl.yaml, or leave aws out of --scope',
          });
        const { readAwsPosture } = await import('../adapters/aws-posture.js');
        const backupBuckets = [c.backup.bucket, c.backup.drBucket].filter((b): b is string => !!b);
        const buckets = inp.buckets?.length
          ? inp.buckets.map((name) => ({ name, backup: true }))
          : backupBuckets.length
            ? backupBuckets.map((name) => ({ name, backup: true }))
            : ('all' as const);
        const configuredDb = c.database.instanceId ? [c.database.instanceId] : undefined;
        const dbInstances = inp.dbInstances?.length ? inp.dbInstances : (configuredDb ?? ('all' as const));
        const r = await readAwsPosture({
          target: { region, endpointUrl: c.aws.endpointUrl, profile: c.aws.profile },
          region,
          drRegion: c.aws.drRegion,
          buckets,
          backupBuckets,
          dbInstances,
          signal: inp.signal,
        });
        warnings.push(...r.warnings);
        stats.awsRequests = r.requests;
        sources.aws = `${region}${c.aws.drRegion ? ` (DR ${c.aws.drRegion})` : ''}${c.aws.endpointUrl ? ` via ${c.aws.endpointUrl}` : ''}`;
        inv.aws = {
          region,
          drRegion: c.aws.drRegion,
          buckets: r.buckets,
          dbInstances: r.dbInstances,
          rpoSeconds: parseDurationMs(c.slo.rpo, 'slo.rpo') / 1000,
          now: inp.now ?? new Date(),
        };
      })(),
    );
  }
  await Promise.all(tasks);

  if (inp.scopes.includes('images')) {
    const images = (inv.k8s?.workloads ?? []).flatMap((w) =>
      containersOf(w.podSpec).map(({ c }) => String(c?.image ?? '')),
    );
    const { scanImages } = await import('../adapters/trivy.js');
    inv.images = await scanImages(images, { signal: inp.signal });
    if (inv.images.ran && inv.images.reason) warnings.push(inv.images.reason);
    if (!inp.scopes.includes('k8s')) {
      // images only: the workload inventory was read to find images, not to be checked.
      delete inv.k8s;
    }
  }

  const result = evaluate(inv, { scopes: inp.scopes, exceptions, baseline, now: inp.now ?? new Date() });
  result.warnings.unshift(...warnings);
  stats.durationMs = Date.now() - t0;
  const report = makeReport(result, { version: inp.version, sources, stats, failOn: inp.failOn, now: inp.now });
  return { report, warnings: result.warnings };
}
