// Restore RDS: a new instance from the backup's snapshot (the DR copy with --region <dr>), or to a point
// in time from the source instance; waited on; then the platform's endpoint Secret repointed to it.
import { k8sError } from '../../adapters/k8s.js';
import type { Location } from '../../backup/location.js';
import type { RdsDb } from '../../backup/manifest.js';
import { runManifest } from '../../backup/store.js';
import { RefusedError, StepError } from '../../core/errors.js';
import type { Ctx, Step } from '../../core/step.js';

export interface RdsRestoreResult {
  instanceId: string;
  region: string;
  endpoint: { address: string; port: number };
  from: string;
}

export function rdsRestoreStep(o: {
  backupId: string;
  location: (ctx: Ctx) => Location;
  newInstance: string;
  toTime?: string;
}): Step<
  { instanceId: string; region: string; snapshotId?: string; sourceId?: string; toTime?: string },
  RdsRestoreResult
> {
  return {
    id: 'restore-db',
    title: 'Restore the RDS database into a new instance',
    destructive: true,
    async plan(ctx) {
      const loc = o.location(ctx);
      const m = await runManifest(ctx, loc, o.backupId);
      const db = m.database as RdsDb | undefined;
      if (!db || db.kind === undefined || (db.kind !== 'rds' && db.kind !== 'aurora'))
        throw new StepError(`backup ${o.backupId} has no RDS snapshot`, {
          hint: 'use --target-db for a PostgreSQL dump',
        });
      const region = loc.region;
      const rds = await ctx.adapters.rds(region);
      const existing = await rds.describeInstance(o.newInstance);
      if (existing)
        throw new RefusedError(`instance ${o.newInstance} already exists in ${region}`, {
          hint: 'pick another --new-instance name',
        });
      if (o.toTime) {
        return {
          summary: `RestoreDBInstanceToPointInTime ${db.sourceId} @ ${o.toTime} -> ${o.newInstance} (${region})`,
          changes: [
            {
              action: 'create',
              target: `rds instance ${region}/${o.newInstance}`,
              detail: `point in time ${o.toTime} of ${db.sourceId}`,
            },
          ],
          payload: { instanceId: o.newInstance, region, sourceId: db.sourceId, toTime: o.toTime },
        };
      }
      const snapshotId = loc.role === 'dr' ? db.drSnapshotId : db.snapshotId;
      if (!snapshotId) throw new StepError(`backup ${o.backupId} has no snapshot copy in ${region}`);
      return {
        summary: `RestoreDBInstanceFromDBSnapshot ${snapshotId} -> ${o.newInstance} (${region})`,
        changes: [
          {
            action: 'create',
            target: `rds instance ${region}/${o.newInstance}`,
            detail: `from snapshot ${snapshotId}`,
          },
        ],
        payload: { instanceId: o.newInstance, region, snapshotId },
      };
    },
    async apply(ctx, p) {
      const rds = await ctx.adapters.rds(p.region);
      if (p.toTime) await rds.restoreToTime(p.sourceId!, p.instanceId, new Date(p.toTime));
      else await rds.restoreFromSnapshot(p.snapshotId!, p.instanceId);
      const i = await rds.waitInstance(p.instanceId, ctx.signal, Math.max(60, Math.round(ctx.mode.timeoutMs / 1000)));
      if (!i.endpoint) throw new StepError(`instance ${p.instanceId} is available but has no endpoint`);
      return {
        instanceId: p.instanceId,
        region: p.region,
        endpoint: i.endpoint,
        from: p.snapshotId ?? `${p.sourceId}@${p.toTime}`,
      };
    },
  };
}

/** Point the platform at the restored instance: host/port keys of the endpoint Secret (config.database.endpointSecret). */
export function repointEndpointStep(): Step<
  { namespace: string; name: string },
  { namespace: string; name: string; previous?: Record<string, string>; host: string }
> {
  return {
    id: 'repoint-endpoint',
    title: 'Repoint the database endpoint Secret',
    destructive: true,
    async plan(ctx) {
      const namespace = ctx.config.platform.namespaces.api;
      const name = ctx.config.database.endpointSecret;
      return {
        summary: `Secret ${namespace}/${name}: host/port -> the restored instance`,
        changes: [{ action: 'update', target: `v1 Secret ${namespace}/${name}`, detail: 'keys host, port' }],
        payload: { namespace, name },
      };
    },
    async apply(ctx, p) {
      const r = ctx.results.get('restore-db') as RdsRestoreResult | undefined;
      if (!r) throw new StepError('no restored instance to point at');
      const kube = await ctx.adapters.k8s();
      const enc = (s: string) => Buffer.from(s).toString('base64');
      let previous: Record<string, string> | undefined;
      try {
        const s = await kube.core.readNamespacedSecret({ name: p.name, namespace: p.namespace });
        previous = s.data ? { host: s.data.host ?? '', port: s.data.port ?? '' } : undefined;
        await kube.core.patchNamespacedSecret({
          name: p.name,
          namespace: p.namespace,
          body: [
            { op: s.data?.host === undefined ? 'add' : 'replace', path: '/data/host', value: enc(r.endpoint.address) },
            {
              op: s.data?.port === undefined ? 'add' : 'replace',
              path: '/data/port',
              value: enc(String(r.endpoint.port)),
            },
          ],
        });
      } catch (e) {
        if ((e as { code?: number }).code !== 404)
          throw k8sError(e, `repoint Secret ${p.namespace}/${p.name}`, kube.server);
        await kube.core.createNamespacedSecret({
          namespace: p.namespace,
          body: {
            metadata: { name: p.name, namespace: p.namespace },
            data: { host: enc(r.endpoint.address), port: enc(String(r.endpoint.port)) },
          },
        });
      }
      return { ...p, ...(previous ? { previous } : {}), host: r.endpoint.address };
    },
    async rollback(ctx, r) {
      if (!r.previous) return;
      const kube = await ctx.adapters.k8s();
      await kube.core.patchNamespacedSecret({
        name: r.name,
        namespace: r.namespace,
        body: [
          { op: 'replace', path: '/data/host', value: r.previous.host },
          { op: 'replace', path: '/data/port', value: r.previous.port },
        ],
      });
    },
  };
}
