// The adapters a step may use. Each getter loads its SDK lazily (dynamic import) so that a
// command only pays for the SDKs it touches. Only files under src/adapters/ import SDKs.
import type { Target } from '../core/step.js';
import type { K8s } from './k8s.js';

export interface Adapters {
  /** Kubernetes client for the target cluster, or another kube context (the DR cluster). */
  k8s(context?: string): Promise<K8s>;
}

export function createAdapters(target: Target): Adapters {
  const k8sCache = new Map<string, Promise<K8s>>();
  return {
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
  };
}
