// Each workspace tar back into an agent pod over exec: the pod's directory is emptied and the tar
// extracted. The pre-flight step already parsed every tar and refused unsafe entries; this step parses
// each one again (defence in depth) and sends nothing to a pod before its whole tar passed.
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { Location } from '../../backup/location.js';
import type { WorkspaceEntry } from '../../backup/manifest.js';
import { runManifest } from '../../backup/store.js';
import { checkTarStream } from '../../backup/tar-safety.js';
import { StepError } from '../../core/errors.js';
import type { Ctx, Step } from '../../core/step.js';
import { agentPods } from './pods.js';

/** Workspace tars up to this size are fetched once and held in memory for both passes. */
const HOLD_MAX_BYTES = 16 * 1024 * 1024;

export interface WorkspaceRestorePlan {
  mapping: { key: string; namespace: string; pod: string; fromPod: string; dir: string }[];
}

/** Same pod name when it still exists, else the pods in order (a Deployment's pods get new names). */
export function mapWorkspaces(entries: WorkspaceEntry[], pods: string[]): { entry: WorkspaceEntry; pod: string }[] {
  const free = pods.filter((p) => !entries.some((e) => e.pod === p));
  return entries.flatMap((e) => {
    if (pods.includes(e.pod)) return [{ entry: e, pod: e.pod }];
    const p = free.shift();
    return p ? [{ entry: e, pod: p }] : [];
  });
}

export function workspaceRestoreStep(o: {
  backupId: string;
  location: (ctx: Ctx) => Location;
  dir?: string;
}): Step<WorkspaceRestorePlan, { restored: number }> {
  return {
    id: 'restore-workspaces',
    title: 'Restore agent workspaces (tar over exec)',
    destructive: true,
    async plan(ctx) {
      const loc = o.location(ctx);
      const m = await runManifest(ctx, loc, o.backupId);
      const entries = m.workspaces ?? [];
      if (entries.length === 0)
        return { summary: 'no workspaces in this backup', changes: [], payload: { mapping: [] }, noop: true };
      const { namespace, pods } = await agentPods(ctx);
      const mapped = mapWorkspaces(entries, pods);
      const dir = o.dir ?? ctx.config.backup.workspaceDir;
      const mapping = mapped.map(({ entry, pod }) => ({
        key: `${loc.prefix}${o.backupId}/${entry.key}`,
        namespace,
        pod,
        fromPod: entry.pod,
        dir,
      }));
      const unmapped = entries.length - mapped.length;
      return {
        summary: `${mapping.length} workspace(s) into ${namespace}${unmapped ? ` (${unmapped} without a pod to receive them)` : ''}`,
        changes: mapping.map((x) => ({
          action: 'replace' as const,
          target: `pod ${x.namespace}/${x.pod}:${x.dir}`,
          detail: `contents replaced by the workspace of ${x.fromPod}`,
        })),
        payload: { mapping },
      };
    },
    async apply(ctx, p) {
      const loc = o.location(ctx);
      const s3 = await ctx.adapters.s3(loc.region);
      const ex = await ctx.adapters.k8sExec();
      // The plan was made before quiesce; the agents' pods have been replaced since: map again now.
      const m = await runManifest(ctx, loc, o.backupId);
      const { namespace, pods } = await agentPods(ctx);
      const dir = p.mapping[0]?.dir ?? o.dir ?? ctx.config.backup.workspaceDir;
      const mapping = mapWorkspaces(m.workspaces ?? [], pods).map(({ entry, pod }) => ({
        key: `${loc.prefix}${o.backupId}/${entry.key}`,
        size: m.objects.find((x) => x.key === entry.key)?.size,
        namespace,
        pod,
        dir,
      }));
      if (mapping.length < (m.workspaces ?? []).length)
        ctx.io.warn(`${(m.workspaces ?? []).length - mapping.length} workspace(s) have no agent pod to receive them`);
      for (const x of mapping) {
        // A small tar is read once and held; a large one twice rather than held (bounded memory).
        const held =
          x.size !== undefined && x.size <= HOLD_MAX_BYTES
            ? await buffer(await s3.getStream(loc.bucket, x.key, ctx.signal))
            : undefined;
        const read = async () => (held ? Readable.from([held]) : await s3.getStream(loc.bucket, x.key, ctx.signal));
        // Pass 1: parse the whole tar and refuse unsafe entries before a byte reaches the pod.
        const summary = await checkTarStream(await read());
        if (summary.problem)
          throw new StepError(
            `workspace tar ${x.key} has an unsafe entry "${summary.problem.entry}": ${summary.problem.reason}`,
            {
              hint: 'the backup was tampered with or made by another tool; nothing was written',
            },
          );
        // Pass 2: send it.
        const body = await read();
        await ex.exec({
          namespace: x.namespace,
          pod: x.pod,
          // mkdir -p: a drill restores into a scratch directory that does not exist yet.
          command: [
            'sh',
            '-c',
            'mkdir -p "$1" && cd "$1" && find . -mindepth 1 -delete && tar -xf - --no-same-owner',
            'sh',
            x.dir,
          ],
          stdin: body,
          signal: ctx.signal,
        });
      }
      return { restored: mapping.length };
    },
  };
}
