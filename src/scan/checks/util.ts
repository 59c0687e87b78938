// Helpers shared by the checks: containers of a pod spec, label selectors, findings.
import type { Finding, KObject, Workload } from '../types.js';

// biome-ignore lint/suspicious/noExplicitAny: container specs are read defensively
export type Container = any;

export interface ContainerRef {
  c: Container;
  kind: 'container' | 'initContainer' | 'ephemeralContainer';
}

export function containersOf(podSpec: Container): ContainerRef[] {
  const out: ContainerRef[] = [];
  for (const c of podSpec?.containers ?? []) out.push({ c, kind: 'container' });
  for (const c of podSpec?.initContainers ?? []) out.push({ c, kind: 'initContainer' });
  for (const c of podSpec?.ephemeralContainers ?? []) out.push({ c, kind: 'ephemeralContainer' });
  return out;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Kubernetes label-selector semantics: an empty selector ({}) selects everything. */
export function selectorMatches(sel: LabelSelector | undefined | null, labels: Record<string, string>): boolean {
  if (!sel) return false;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const val = labels[e.key];
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(val as string)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(val as string)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

export function isEmptySelector(sel: LabelSelector | undefined | null): boolean {
  if (!sel) return false;
  return Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0;
}

export function workloadFinding(
  w: Workload,
  checkId: string,
  severity: Finding['severity'],
  message: string,
  container?: string,
): Finding {
  const f: Finding = { checkId, severity, target: w.target, message };
  if (container) f.container = container;
  if (w.source) f.source = w.source;
  return f;
}

export function objFinding(
  o: KObject,
  target: string,
  checkId: string,
  severity: Finding['severity'],
  message: string,
): Finding {
  const f: Finding = { checkId, severity, target, message };
  const src = (o as { __source?: string }).__source;
  if (src) f.source = src;
  return f;
}

/** Namespaces Kubernetes itself runs in; namespace and workload checks leave them out by default. */
export const SYSTEM_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease']);
