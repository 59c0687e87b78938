// Cluster state: the platform namespaces' objects as YAML in the backup (server fields stripped, Secret
// values omitted or encrypted per backup.secrets), and their restore by server-side apply. Secrets come
// back only when they were encrypted and the key is given; omitted ones are reported, never blanked.
import { parse, stringify } from 'yaml';
import { k8sError } from '../adapters/k8s.js';
import { StepError } from '../core/errors.js';
import type { Ctx, Step } from '../core/step.js';
import { deriveKey, type KeyParams, newKeyParams } from './crypto.js';
import { isSystemObject, type KObj, protectSecret, revealSecret, STATE_KINDS, stripServerFields } from './k8s-state.js';
import { type Location, primaryLocation, s3url } from './location.js';
import { k8sKey, type ManifestObject } from './manifest.js';
import { readManifest } from './store.js';

export interface K8sStateResult {
  secrets: 'omit' | 'encrypt';
  keyParams?: KeyParams;
  objects: { kind: string; namespace: string; name: string; key: string; size: number; sha256: string }[];
}

export function platformNamespaces(ctx: Ctx): string[] {
  const n = ctx.config.platform.namespaces;
  return [...new Set([n.api, n.agents])];
}

async function mapLimit<T, R>(items: T[], n: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (i < items.length) {
        const k = i++;
        out[k] = await f(items[k]!);
      }
    }),
  );
  return out;
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
            target: s3url(loc, `${loc.prefix}${o.backupId}/k8s/`),
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
      for (const ns of p.namespaces) {
        for (const k of STATE_KINDS) {
          let items: KObj[];
          try {
            items = (await kube.objects.list(k.apiVersion, k.kind, ns)).items as KObj[];
          } catch (e) {
            throw k8sError(e, `list ${k.kind} in ${ns}`, kube.server);
          }
          for (const it of items) {
            if (isSystemObject(k.kind, it)) continue;
            let body = stripServerFields(k.kind, k.apiVersion, it);
            if (k.kind === 'Secret') body = protectSecret(body, p.secrets, key);
            docs.push({ kind: k.kind, namespace: ns, name: body.metadata.name, body });
          }
        }
      }
      const objects = await mapLimit(docs, 8, async (d) => {
        const rel = k8sKey(d.kind, d.namespace, d.name);
        const r = await s3.putBytes(loc.bucket, `${loc.prefix}${o.backupId}/${rel}`, stringify(d.body), {
          contentType: 'application/yaml',
          ...(loc.kmsKeyId ? { kmsKeyId: loc.kmsKeyId } : {}),
        });
        return { kind: d.kind, namespace: d.namespace, name: d.name, key: rel, size: r.size, sha256: r.sha256 };
      });
      return { secrets: p.secrets, ...(keyParams ? { keyParams } : {}), objects };
    },
    async rollback(ctx, r) {
      const loc = primaryLocation(ctx);
      await (await ctx.adapters.s3()).deleteKeys(
        loc.bucket,
        r.objects.map((x) => `${loc.prefix}${o.backupId}/${x.key}`),
      );
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
  { objects: { kind: string; namespace: string; name: string; key: string }[]; skipped: string[] },
  { applied: number; skipped: string[] }
> {
  return {
    id: 'restore-k8s',
    title: 'Restore cluster objects (server-side apply)',
    destructive: true,
    async plan(ctx) {
      const loc = o.location(ctx);
      const m = await readManifest(await ctx.adapters.s3(loc.region), loc, o.backupId);
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
      const m = await readManifest(s3, loc, o.backupId);
      const key = m.k8s?.keyParams && o.encryptionKey ? deriveKey(o.encryptionKey, m.k8s.keyParams) : undefined;
      const kube = await ctx.adapters.k8s();
      const { serverSideApply } = await import('../adapters/k8s-exec.js');
      let applied = 0;
      for (const x of p.objects) {
        const text = await s3.getText(loc.bucket, `${loc.prefix}${o.backupId}/${x.key}`, ctx.signal);
        if (text === undefined) throw new StepError(`backup object ${x.key} is missing`);
        let body = parse(text) as KObj;
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
