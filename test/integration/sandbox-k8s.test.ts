// The sandbox's Kubernetes is a real control plane: admission, controllers, scheduler, RBAC and
// server-side apply behave as on a cluster, and exec into a fake pod runs in a local directory.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl, podWorkdir, runProcess, sandbox, uniqueName } from '../helpers/sandbox.js';

const ns = uniqueName('sbk8s');
const restricted = uniqueName('sbk8s-pss');

async function ok(args: string[], input?: string) {
  const r = await kubectl(args, { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} -> ${r.code}: ${r.stderr}`);
  return r.stdout;
}

interface PodList {
  items: {
    metadata: { name: string; deletionTimestamp?: string };
    spec: { nodeName?: string };
    status: { phase: string };
  }[];
}

async function runningPods(selector: string): Promise<PodList['items']> {
  const list = JSON.parse(await ok(['get', 'pods', '-n', ns, '-l', selector, '-o', 'json'])) as PodList;
  return list.items.filter((p) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp);
}

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  await ok(['create', 'namespace', ns]);
  await ok(['create', 'namespace', restricted]);
  await ok(['label', 'namespace', restricted, 'pod-security.kubernetes.io/enforce=restricted']);
});

afterAll(async () => {
  await kubectl(['delete', 'namespace', ns, restricted, '--wait=false']);
});

describe('sandbox kubernetes', () => {
  it('has 3 Ready fake nodes spread over us-east-1a/b/c, and a DR cluster in us-west-2', async () => {
    const nodes = JSON.parse(await ok(['get', 'nodes', '-l', 'hivectl.dev/sandbox-node=true', '-o', 'json'])) as {
      items: {
        metadata: { labels: Record<string, string> };
        status: { conditions: { type: string; status: string }[] };
      }[];
    };
    expect(nodes.items.length).toBeGreaterThanOrEqual(3);
    const zones = new Set(nodes.items.map((n) => n.metadata.labels['topology.kubernetes.io/zone']));
    expect([...zones].sort()).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
    for (const n of nodes.items) expect(n.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');

    const dr = await kubectl(['get', 'nodes', '-L', 'topology.kubernetes.io/zone', '--no-headers'], {
      context: sandbox().drContext,
    });
    expect(dr.code).toBe(0);
    expect(dr.stdout).toContain('us-west-2a');
  });

  it('rejects a privileged pod in a PSS-restricted namespace with the apiserver message', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'priv', namespace: restricted },
      spec: { containers: [{ name: 'c', image: 'busybox', securityContext: { privileged: true } }] },
    };
    const r = await kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/violates PodSecurity "restricted:latest"/);
    expect(r.stderr).toMatch(/privileged/);
  });

  it('runs a 3-replica Deployment on fake nodes and replaces a deleted pod', async () => {
    const dep = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: ns },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
      },
    };
    await ok(['apply', '-f', '-'], JSON.stringify(dep));
    await ok(['rollout', 'status', '-n', ns, 'deployment/web', '--timeout=120s']);
    const pods = await until('3 running pods', async () => {
      const p = await runningPods('app=web');
      return p.length === 3 ? p : undefined;
    });
    for (const p of pods) expect(p.spec.nodeName).toMatch(/^hive-node-\d+$/);

    const victim = pods[0]!.metadata.name;
    await ok(['delete', 'pod', '-n', ns, victim, '--wait=false']);
    const after = await until('a replacement pod', async () => {
      const p = await runningPods('app=web');
      return p.length === 3 && !p.some((x) => x.metadata.name === victim) ? p : undefined;
    });
    expect(after.map((p) => p.metadata.name)).not.toContain(victim);
  });

  it('reports a server-side apply conflict between two field managers', async () => {
    const cm = (level: string) =>
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'ssa', namespace: ns },
        data: { level },
      });
    await ok(['apply', '--server-side', '--field-manager=hivectl', '-f', '-'], cm('1'));
    const r = await kubectl(['apply', '--server-side', '--field-manager=someone-else', '-f', '-'], { input: cm('2') });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/conflict with "hivectl"/);
    expect(r.stderr).toContain('.data.level');
  });

  it('gives the limited identity read access and a 403 on delete', async () => {
    const kc = sandbox().limitedKubeconfig;
    const cfg = readFileSync(kc, 'utf8');
    expect(cfg).toContain('token');
    expect(cfg).not.toContain('client-certificate');
    await ok(['create', 'configmap', 'guarded', '-n', ns, '--from-literal=a=b']);
    const get = await kubectl(['get', 'configmap', 'guarded', '-n', ns], { kubeconfig: kc });
    expect(get.code).toBe(0);
    const del = await kubectl(['delete', 'configmap', 'guarded', '-n', ns], { kubeconfig: kc });
    expect(del.code).not.toBe(0);
    expect(del.stderr).toMatch(/Forbidden/);
    expect(del.stderr).toContain('system:serviceaccount:default:hivectl-limited');
  });

  it('runs exec into a fake pod in that pod’s own local directory (tar both ways)', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'agent-0', namespace: ns },
      spec: { containers: [{ name: 'agent', image: 'agent' }] },
    };
    await ok(['apply', '-f', '-'], JSON.stringify(pod));
    await ok(['wait', '-n', ns, 'pod/agent-0', '--for=condition=Ready', '--timeout=60s']);
    const dir = await podWorkdir(ns, 'agent-0');
    expect(dir).toBe(join(sandbox().execDir, ns, 'agent-0'));
    writeFileSync(join(dir, 'state.txt'), 'remembered\n');

    // KWOK picks the Exec mapping up from a watch: retry until exec runs in the pod's directory.
    const cat = await until('exec in the mapped dir', async () => {
      const r = await kubectl(['exec', '-n', ns, 'agent-0', '--', 'cat', 'state.txt']);
      return r.code === 0 ? r.stdout : undefined;
    });
    expect(cat).toBe('remembered\n');

    // Restore direction: a tar stream written through exec lands in the same directory.
    const src = mkdtempSync(join(tmpdir(), 'sbexec-'));
    writeFileSync(join(src, 'restored.txt'), 'from a backup\n');
    const s = sandbox();
    const pipe = await runProcess('sh', [
      '-c',
      `tar -cf - -C "${src}" . | "${s.binDir}/kubectl" --kubeconfig "${s.kubeconfig}" --context ${s.context} exec -i -n ${ns} agent-0 -- tar -xf -`,
    ]);
    expect(pipe.code, pipe.stderr).toBe(0);
    expect(existsSync(join(dir, 'restored.txt'))).toBe(true);
    expect(readFileSync(join(dir, 'restored.txt'), 'utf8')).toBe('from a backup\n');

    // A failing command inside the pod surfaces as a failed exec (KWOK reports exit 1, not the real code).
    const fail = await kubectl(['exec', '-n', ns, 'agent-0', '--', 'cat', 'missing-file']);
    expect(fail.code).not.toBe(0);
  });
});
