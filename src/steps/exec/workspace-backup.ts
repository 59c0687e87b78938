// Each agent pod's workspace as a tar stream over the exec API, piped straight into S3 and hashed on
// the way: `tar -cf - -C <dir> .` in the pod, nothing on the local disk.
import { PassThrough } from 'node:stream';
import { primaryLocation, s3url } from '../../backup/location.js';
import { workspaceKey } from '../../backup/manifest.js';
import type { Step } from '../../core/step.js';
import { agentPods } from './pods.js';

export interface WorkspaceBackupResult {
  workspaces: { namespace: string; pod: string; key: string; dir: string; size: number; sha256: string }[];
}

export function workspaceBackupStep(o: {
  backupId: string;
}): Step<{ namespace: string; pods: string[]; dir: string }, WorkspaceBackupResult> {
  return {
    id: 'workspaces',
    title: 'Archive agent workspaces into S3 (tar over exec)',
    async plan(ctx) {
      const loc = primaryLocation(ctx);
      const { namespace, pods } = await agentPods(ctx);
      const dir = ctx.config.backup.workspaceDir;
      return {
        summary: `${pods.length} agent workspace(s) from ${namespace}`,
        changes: pods.map((p) => ({
          action: 'create' as const,
          target: s3url(loc, `${loc.prefix}${o.backupId}/${workspaceKey(namespace, p)}`),
          detail: `tar of ${namespace}/${p}:${dir}`,
        })),
        payload: { namespace, pods, dir },
        ...(pods.length === 0 ? { noop: true } : {}),
      };
    },
    async apply(ctx, p) {
      const loc = primaryLocation(ctx);
      const s3 = await ctx.adapters.s3();
      const ex = await ctx.adapters.k8sExec();
      const out: WorkspaceBackupResult['workspaces'] = [];
      for (const pod of p.pods) {
        const rel = workspaceKey(p.namespace, pod);
        const key = `${loc.prefix}${o.backupId}/${rel}`;
        const stream = new PassThrough();
        const [up] = await Promise.all([
          s3.uploadStream(loc.bucket, key, stream, {
            signal: ctx.signal,
            contentType: 'application/x-tar',
            ...(loc.kmsKeyId ? { kmsKeyId: loc.kmsKeyId } : {}),
          }),
          ex
            .exec({
              namespace: p.namespace,
              pod,
              command: ['tar', '-cf', '-', '-C', p.dir, '.'],
              stdout: stream,
              signal: ctx.signal,
            })
            .catch((e) => {
              stream.destroy(e as Error);
              throw e;
            }),
        ]);
        out.push({ namespace: p.namespace, pod, key: rel, dir: p.dir, size: up.size, sha256: up.sha256 });
      }
      return { workspaces: out };
    },
    async rollback(ctx, r) {
      const loc = primaryLocation(ctx);
      const s3 = await ctx.adapters.s3();
      await s3.deleteKeys(
        loc.bucket,
        r.workspaces.map((w) => `${loc.prefix}${o.backupId}/${w.key}`),
      );
    },
  };
}
