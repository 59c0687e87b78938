// The adapters a step may use. Each getter loads its SDK lazily (dynamic import) so that a
// command only pays for the SDKs it touches. Only files under src/adapters/ import SDKs.
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
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

// Clients are shared by every runbook in the process: a drill runs six, and a new client each time
// meant new TLS/TCP connections, API discovery, credential resolution and SDK set-up per phase.
// Keyed by everything they are built from (the kubeconfig by path and modification time, so a
// rewritten file gets a new client).
const k8sCache = new Map<string, Promise<K8s>>();
const s3Cache = new Map<string, Promise<S3>>();
const rdsCache = new Map<string, Promise<Rds>>();

function cached<T>(m: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let v = m.get(key);
  if (!v) {
    v = make();
    m.set(key, v);
    // A failed connection is not remembered: the next caller tries again.
    v.catch(() => m.delete(key));
  }
  return v;
}

function kubeconfigStamp(file?: string): string {
  const files = file ? [file] : (process.env.KUBECONFIG?.split(':') ?? [join(homedir(), '.kube', 'config')]);
  return files.map((f) => `${f}@${statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? '-'}`).join(':');
}

export function createAdapters(target: Target): Adapters {
  const aws = { region: target.region, endpointUrl: target.endpointUrl, profile: target.profile };
  const awsKey = (region?: string) => JSON.stringify([region ?? target.region ?? '', aws.endpointUrl, aws.profile]);
  // Steps ask for the cluster client at every call: look the kubeconfig up once per adapters and context.
  const kubes = new Map<string, Promise<K8s>>();
  const adapters: Adapters = {
    k8s(context) {
      const ctxName = context ?? target.context;
      return cached(kubes, ctxName ?? '', () =>
        cached(k8sCache, `${kubeconfigStamp(target.kubeconfig)}|${ctxName ?? ''}`, () =>
          import('./k8s.js').then((m) => m.connectK8s({ kubeconfig: target.kubeconfig, context: ctxName })),
        ),
      );
    },
    s3(region) {
      return cached(s3Cache, awsKey(region), () => import('./s3.js').then((m) => m.connectS3(aws, region)));
    },
    rds(region) {
      return cached(rdsCache, awsKey(region), () => import('./rds.js').then((m) => m.connectRds(aws, region)));
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
