// Cluster state: the platform namespaces' objects as YAML in the backup (server fields stripped, Secret
// values omitted or encrypted per backup.secrets), and their restore by server-side apply. Secrets come
// back only when they were encrypted and the key is given; omitted ones are reported, never blanked.
import { parse, parseAllDocuments } from 'yaml';
import { k8sError } from '../adapters/k8s.js';
import { applyError, listObjects, rawKube } from '../adapters/k8s-apply.js';
import { StepError } from '../core/errors.js';
import type { Ctx, Step } from '../core/step.js';
import { toYaml } from '../core/yaml-emit.js';
import { sha256Hex } from './checksum.js';
import { deriveKey, type KeyParams, newKeyParams } from './crypto.js';
import { isSystemObject, type KObj, protectSecret, revealSecret, STATE_KINDS, stripServerFields } from './k8s-state.js';
import { type Location, primaryLocation, s3url } from './location.js';
import { type BackupManifest, K8S_STATE_KEY, type ManifestObject } from './manifest.js';
import { runManifest } from './store.js';

/**
 * One object, `k8s/state.yaml` (a YAML document per cluster object), rather than one per object: a backup's
 * cluster state costs one PUT, one DR copy and one DR check instead of ~40 of each.
 */
export interface K8sStateResult {
  secrets: 'omit' | 'encrypt';
  keyParams?: KeyParams;
  key: string;
  size: number;
  sha256: string;
  /** In document order. */
  objects: { kind: string; namespace: string; name: string }[];
}

const docId = (kind: string, ns: string, name: string) => `${kind} ${ns}/${name}`;

/** The cluster objects of a backup, read once: format 2's single state file (checked against its SHA-256). */
async function readStateObjects(
  s3: import('../adapters/s3.js').S3,
  loc: Location,
  m: BackupManifest,
  signal: AbortSignal,
): Promise<Map<string, KObj>> {
  const out = new Map<string, KObj>();
  const key = m.k8s?.key;
  if (!key) return out;
  const text = await s3.getText(loc.bucket, `${loc.prefix}${m.id}/${key}`, signal);
  if (text === undefined) throw new StepError(`backup object ${key} is missing`);
  const want = m.objects.find((x) => x.key === key);
  // Pre-flight proved it; checked again because it is read again here, after the quiesce.
  if (want && sha256Hex(text) !== want.sha256)
    throw new StepError(`backup object ${key} changed since the pre-flight check (SHA-256 differs)`);
  for (const d of parseAllDocuments(text)) {
    if (d.errors.length) throw new StepError(`backup object ${key} is not valid YAML: ${d.errors[0]!.message}`);
    const o = d.toJS() as KObj | null;
    if (o) out.set(docId(o.kind, o.metadata?.namespace ?? '', o.metadata?.name ?? ''), o);
  }
  return out;
}

export function platformNamespaces(ctx: Ctx): string[] {
  const n = ctx.config.platform.namespaces;
  return [...new Set([n.api, n.agents])];
}

/** `encryptionKey` is resolved by the command from the environment (steps never read it). */
export function clusterStateBackupStep(o: {
  backupId: string;
  encryptionKey?: string;
}): Step<{ namespaces: string[]; secrets: 'omit' | 'encrypt' }, K8sStateResult> {
  return {
    id: 'k8s-state',
    title: 'Export cluster state (YAML, secrets protected)',
    async plan(ctx) {
      const loc = primaryLocation(ctx);
      const secrets = ctx.config.backup.secrets;
      if (secrets === 'encrypt' && !o.encryptionKey)
        throw new StepError(`backup.secrets is "encrypt" but ${ctx.config.backup.encryptionKeyEnv} is not set`, {
          hint: `export ${ctx.config.backup.encryptionKeyEnv}=<passphrase>, or set backup.secrets: omit`,
        });
      const namespaces = platformNamespaces(ctx);
      return {
        summary: `${STATE_KINDS.length} kinds in ${namespaces.join(', ')}; Secret values ${secrets === 'omit' ? 'omitted' : 'encrypted'}`,
        changes: [
          {
            action: 'create',
            target: s3url(loc, `${loc.prefix}${o.backupId}/${K8S_STATE_KEY}`),
            detail: STATE_KINDS.map((k) => k.kind).join(', '),
          },
        ],
        payload: { namespaces, secrets },
      };
    },
    async apply(ctx, p) {
      if (o.encryptionKey) ctx.registerSecret?.(o.encryptionKey);
      const loc = primaryLocation(ctx);
      const kube = await ctx.adapters.k8s();
      const s3 = await ctx.adapters.s3();
      const keyParams = p.secrets === 'encrypt' ? newKeyParams() : undefined;
      const key = keyParams ? deriveKey(o.encryptionKey!, keyParams) : undefined;
      const docs: { kind: string; namespace: string; name: string; body: KObj }[] = [];
      // Raw JSON lists, all at once: the typed client's (de)serialisation was most of backup's own CPU.
      const raw = await rawKube(kube);
      const lists = await Promise.all(
        p.namespaces.flatMap((ns) =>
          STATE_KINDS.map(async (k) => {
            try {
              return { ns, k, items: (await listObjects(raw, k.apiVersion, k.kind, { namespace: ns })) as KObj[] };
            } catch (e) {
              throw applyError(e, `list ${k.kind} in ${ns}`, kube.server);
            }
          }),
        ),
      );
      for (const { ns, k, items } of lists) {
        for (const it of items) {
          if (isSystemObject(k.kind, it)) continue;
          let body = stripServerFields(k.kind, k.apiVersion, it);
          if (k.kind === 'Secret') body = protectSecret(body, p.secrets, key);
          docs.push({ kind: k.kind, namespace: ns, name: body.metadata.name, body });
        }
      }
      const text = docs.map((d) => toYaml(d.body)).join('---\n');
      const r = await s3.putBytes(loc.bucket, `${loc.prefix}${o.backupId}/${K8S_STATE_KEY}`, text, {
        contentType: 'application/yaml',
        ...(loc.kmsKeyId ? { kmsKeyId: loc.kmsKeyId } : {}),
      });
      return {
        secrets: p.secrets,
        ...(keyParams ? { keyParams } : {}),
        key: K8S_STATE_KEY,
        size: r.size,
        sha256: r.sha256,
        objects: docs.map(({ kind, namespace, name }) => ({ kind, namespace, name })),
      };
    },
    async rollback(ctx, r) {
      const loc = primaryLocation(ctx);
      await (await ctx.adapters.s3()).deleteKeys(loc.bucket, [`${loc.prefix}${o.backupId}/${r.key}`]);
    },
  };
}

export function clusterStateRestoreStep(o: {
  backupId: string;
  location: (ctx: Ctx) => Location;
  encryptionKey?: string;
  /** Deployments that exist and are quiesced: their replicas are left to unquiesce. */
  keepReplicas?: boolean;
}): Step<
  { objects: { kind: string; namespace: string; name: string; key?: string }[]; skipped: string[] },
  { applied: number; skipped: string[] }
> {
  return {
    id: 'restore-k8s',
    title: 'Restore cluster objects (server-side apply)',
    destructive: true,
    async plan(ctx) {
      const loc = o.location(ctx);
      const m = await runManifest(ctx, loc, o.backupId);
      const all = m.k8s?.objects ?? [];
      const skipped: string[] = [];
      const skipReason = (x: { kind: string }): string | undefined => {
        if (x.kind !== 'Secret') return undefined;
        if (m.k8s?.secrets !== 'encrypt') return 'values were omitted at backup time';
        if (!o.encryptionKey) return `no decryption key (${ctx.config.backup.encryptionKeyEnv})`;
        return undefined;
      };
      const objects = all.filter((x) => {
        const why = skipReason(x);
        if (why) skipped.push(`Secret ${x.namespace}/${x.name}: ${why}`);
        return !why;
      });
      const order = new Map(STATE_KINDS.map((k, i) => [k.kind, i]));
      objects.sort((a, b) => (order.get(a.kind) ?? 99) - (order.get(b.kind) ?? 99));
      if (all.length === 0)
        return {
          summary: 'no cluster objects in this backup',
          changes: [],
          payload: { objects: [], skipped },
          noop: true,
        };
      return {
        summary: `${objects.length} object(s) by server-side apply${skipped.length ? `, ${skipped.length} Secret(s) skipped` : ''}`,
        changes: [
          ...objects.map((x) => ({
            action: 'update' as const,
            target: `${x.kind} ${x.namespace}/${x.name}`,
            detail: 'server-side apply (force)',
          })),
          ...skipped.map((s) => ({
            action: 'skip' as const,
            target: s.split(':')[0]!,
            detail: s.split(': ')[1] ?? '',
          })),
        ],
        payload: { objects, skipped },
      };
    },
    async apply(ctx, p) {
      if (o.encryptionKey) ctx.registerSecret?.(o.encryptionKey);
      const loc = o.location(ctx);
      const s3 = await ctx.adapters.s3(loc.region);
      const m = await runManifest(ctx, loc, o.backupId);
      const key = m.k8s?.keyParams && o.encryptionKey ? deriveKey(o.encryptionKey, m.k8s.keyParams) : undefined;
      const kube = await ctx.adapters.k8s();
      const { serverSideApply } = await import('../adapters/k8s-exec.js');
      const state = await readStateObjects(s3, loc, m, ctx.signal);
      let applied = 0;
      for (const x of p.objects) {
        let body: KObj;
        if (m.k8s?.key) {
          const found = state.get(docId(x.kind, x.namespace, x.name));
          if (!found) throw new StepError(`${x.kind} ${x.namespace}/${x.name} is not in ${m.k8s.key}`);
          body = found;
        } else {
          // Format 1: one file per object.
          const text = await s3.getText(loc.bucket, `${loc.prefix}${o.backupId}/${x.key}`, ctx.signal);
          if (text === undefined) throw new StepError(`backup object ${x.key} is missing`);
          body = parse(text) as KObj;
        }
        if (x.kind === 'Secret') {
          try {
            body = revealSecret(body, key!) ?? body;
          } catch {
            throw new StepError(`cannot decrypt Secret ${x.namespace}/${x.name}`, {
              hint: `check ${ctx.config.backup.encryptionKeyEnv}: it must be the passphrase used at backup time`,
            });
          }
        }
        if (x.kind === 'Deployment' && o.keepReplicas !== false) {
          try {
            await kube.apps.readNamespacedDeployment({ name: x.name, namespace: x.namespace });
            // Exists (and is quiesced): replicas are unquiesce's business.
            delete body.spec.replicas;
          } catch {
            /* new Deployment: take the backup's replicas */
          }
        }
        try {
          await serverSideApply(kube, body);
        } catch (e) {
          throw k8sError(e, `apply ${x.kind} ${x.namespace}/${x.name}`, kube.server);
        }
        applied++;
      }
      return { applied, skipped: p.skipped };
    },
  };
}

export type { ManifestObject };
