// Pure parts of the sandbox: the generated wrapper go.mod, version ldflags, layout, manifests, env.
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/core/config-schema.js';
import { kubernetesLdflags, kubernetesWrapperGoMod } from '../../src/sandbox/build.js';
import { envScript, type SandboxInfo, sandboxConfigYaml } from '../../src/sandbox/index.js';
import { layout, podExecDir, sandboxRoot } from '../../src/sandbox/layout.js';
import { fakeNodes, tokenKubeconfig } from '../../src/sandbox/manifests.js';

const upstream = `module k8s.io/kubernetes

go 1.26.0

require (
\tgithub.com/foo/bar v1.0.0
)

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/client-go => ./staging/src/k8s.io/client-go
\tk8s.io/kube-openapi => k8s.io/kube-openapi v0.0.0-2026
)
`;

describe('sandbox build', () => {
  it('turns the staging replace lines of k8s.io/kubernetes into published versions', () => {
    const mod = kubernetesWrapperGoMod(upstream, '1.37.2');
    expect(mod).toContain('go 1.26.0');
    expect(mod).toContain('require k8s.io/kubernetes v1.37.2');
    expect(mod).toContain('\tk8s.io/api => k8s.io/api v0.37.2');
    expect(mod).toContain('\tk8s.io/client-go => k8s.io/client-go v0.37.2');
    expect(mod).not.toContain('kube-openapi');
  });

  it('stamps the version into both version packages', () => {
    const ld = kubernetesLdflags('1.37.2', '2026-01-01T00:00:00Z');
    for (const p of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) {
      expect(ld).toContain(`-X ${p}.gitVersion=v1.37.2`);
      expect(ld).toContain(`-X ${p}.gitMinor=37`);
    }
  });
});

describe('sandbox layout and objects', () => {
  it('keys binaries by version and honours HIVECTL_SANDBOX_DIR', () => {
    expect(sandboxRoot({ HIVECTL_SANDBOX_DIR: '/x' })).toBe('/x');
    const l = layout('/x', false);
    expect(l.k8sBin).toBe('/x/bin/k8s-v1.37.2');
    expect(l.etcdBin).toBe('/x/bin/etcd-v3.6.16');
    expect(l.kwokBin).toBe('/x/bin/kwok-v0.8.0');
    expect(l.pgDir).toBe('/x/state/pg');
    expect(layout('/x', true).pgDir).toMatch(/^\/var\/tmp\/hivectl-sandbox-pg-/);
    expect(podExecDir(l, 'ns', 'p')).toBe('/x/state/exec/ns/p');
  });

  it('spreads fake nodes over three zones with the KWOK annotation', () => {
    const nodes = fakeNodes('hive', 'us-east-1', 4) as {
      metadata: { annotations: Record<string, string>; labels: Record<string, string> };
    }[];
    expect(nodes.map((n) => n.metadata.labels['topology.kubernetes.io/zone'])).toEqual([
      'us-east-1a',
      'us-east-1b',
      'us-east-1c',
      'us-east-1a',
    ]);
    for (const n of nodes) expect(n.metadata.annotations['kwok.x-k8s.io/node']).toBe('fake');
  });

  it('writes a token-only kubeconfig', () => {
    const kc = JSON.parse(tokenKubeconfig({ server: 'https://127.0.0.1:1', caData: 'Q0E=', token: 't', name: 'n' }));
    expect(kc.users[0].user).toEqual({ token: 't' });
  });

  const info = {
    root: '/x',
    stateDir: '/x/state',
    kubeconfig: '/x/state/kubeconfig',
    context: 'kwok-hive',
    drContext: 'kwok-hive-dr',
    limitedKubeconfig: '/x/state/limited.kubeconfig',
    endpointUrl: 'http://127.0.0.1:5000',
    region: 'us-east-1',
    drRegion: 'us-west-2',
    pgUrl: 'postgres://hive@127.0.0.1:5432/postgres',
    redisUrl: 'redis://127.0.0.1:6379/0',
    prometheusUrl: 'http://127.0.0.1:9090',
    prometheusTargetsDir: '/x/state/prometheus/targets',
    binDir: '/x/bin/k8s-v1.37.2',
    execDir: '/x/state/exec',
    ports: { moto: 5000, postgres: 5432, redis: 6379, prometheus: 9090 },
    nodes: 3,
    env: { KUBECONFIG: '/x/state/kubeconfig', PATH: 'ignored', PGURL: 'postgres://hive@127.0.0.1:5432/postgres' },
  } satisfies SandboxInfo;

  it('prints export lines that keep the caller’s PATH', () => {
    const s = envScript(info);
    expect(s).toContain('export KUBECONFIG=/x/state/kubeconfig\n');
    expect(s).toMatch(/export PATH=\/x\/bin\/k8s-v1\.37\.2:.*:"\$PATH"/);
  });

  it('writes a hivectl.yaml that the config schema accepts', async () => {
    const { parse } = await import('yaml');
    const cfg = configSchema.parse(parse(sandboxConfigYaml(info)));
    expect(cfg.cluster.context).toBe('kwok-hive');
    expect(cfg.cluster.drContext).toBe('kwok-hive-dr');
    expect(cfg.aws.endpointUrl).toBe('http://127.0.0.1:5000');
    expect(cfg.database).toMatchObject({ kind: 'postgres', url: info.pgUrl });
    expect(cfg.prometheus.url).toBe('http://127.0.0.1:9090');
  });
});
