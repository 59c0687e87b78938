// The adapters a step may use. Each getter loads its SDK lazily (dynamic import) so that a
// command only pays for the SDKs it touches. Only files under src/adapters/ import SDKs.
import type { Target } from '../core/step.js';
import type { K8s } from './k8s.js';
import type { K8sExec } from './k8s-exec.js';
import type { Pg } from './pg.js';
import type { Rds } from './rds.js';
import type { S3 } from './s3.js';

export interface Adapters {
  /** Kubernetes client for the target cluster, or another kube context (the DR cluster). */
  k8s(context?: string): Promise<K8s>;
  /** S3 in a region (default: the target's primary region). */
  s3(region?: string): Promise<S3>;
  /** RDS in a region (default: the target's primary region). */
  rds(region?: string): Promise<Rds>;
  /** PostgreSQL client tools (pg_dump, pg_restore, psql). */
  pg(): Promise<Pg>;
  /** Streams over the Kubernetes exec API. */
  k8sExec(context?: string): Promise<K8sExec>;
}

export function createAdapters(target: Target): Adapters {
  const k8sCache = new Map<string, Promise<K8s>>();
  const s3Cache = new Map<string, Promise<S3>>();
  const rdsCache = new Map<string, Promise<Rds>>();
  const aws = { region: target.region, endpointUrl: target.endpointUrl, profile: target.profile };
  const cached = <T>(m: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> => {
    let v = m.get(key);
    if (!v) {
      v = make();
      m.set(key, v);
    }
    return v;
  };
  const adapters: Adapters = {
    k8s(context) {
      const key = context ?? target.context ?? '';
      let k = k8sCache.get(key);
      if (!k) {
        k = import('./k8s.js').then((m) =>
          m.connectK8s({ kubeconfig: target.kubeconfig, context: context ?? target.context }),
        );
        k8sCache.set(key, k);
      }
      return k;
    },
    s3(region) {
      return cached(s3Cache, region ?? target.region ?? '', () =>
        import('./s3.js').then((m) => m.connectS3(aws, region)),
      );
    },
    rds(region) {
      return cached(rdsCache, region ?? target.region ?? '', () =>
        import('./rds.js').then((m) => m.connectRds(aws, region)),
      );
    },
    pg() {
      return import('./pg.js').then((m) => m.createPg());
    },
    async k8sExec(context) {
      const kube = await adapters.k8s(context);
      return (await import('./k8s-exec.js')).createK8sExec(kube);
    },
  };
  return adapters;
}
