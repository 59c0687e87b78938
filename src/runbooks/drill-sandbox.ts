// `hivectl drill --sandbox`: bring the local sandbox up, point a hivectl.yaml at it, bootstrap the
// stack on both clusters (DR as a pilot light), create the RDS primary + cross-region replica in
// moto, seed data (rows, queue tasks, agent workspaces), so that the drill that follows has something real to back up, break and move.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { CommandEnv } from '../core/command.js';
import type { RunReport } from '../core/runner.js';
import type { Runbook } from '../core/step.js';
import {
  chaosOptInStep,
  ensureNamespacesStep,
  ensureSandboxRdsStep,
  pilotLightStep,
  seedDataStep,
} from '../steps/failover/drill.js';
import { seedWorkspacesStep } from '../steps/failover/drill-workspaces.js';

export interface SandboxDrillConfig {
  configPath: string;
  /** The sandbox's environment (KUBECONFIG, AWS_* dummy credentials, PATH with its kubectl...). */
  env: Record<string, string>;
  instanceId: string;
  replicaId: string;
}

/** Bring the sandbox up and write the drill's hivectl.yaml (returns its path). */
export async function prepareSandboxConfig(progress: (m: string) => void): Promise<SandboxDrillConfig> {
  const { sandboxUp, sandboxConfigYaml } = await import('../sandbox/index.js');
  const info = await sandboxUp({}, progress);
  const doc = parse(sandboxConfigYaml(info)) as Record<string, Record<string, unknown>>;
  const stamp = Date.now().toString(36);
  const instanceId = 'hive-db';
  const replicaId = `hive-db-dr-${stamp}`;
  doc.database = { ...doc.database, instanceId, drReplicaId: replicaId };
  doc.platform = { ...(doc.platform ?? {}), env: 'dev' };
  doc.slo = { rto: '30s', rpo: '5m' };
  // A Prometheus probe in the chaos phase's hypothesis: the sandbox's Prometheus scrapes itself.
  if (doc.prometheus?.url)
    doc.drill = {
      probes: [{ type: 'prometheus', name: 'prometheus scrapes', query: 'up{job="prometheus"}', min: 1 }],
    };
  // An exec into a sandbox pod runs as a local process in the directory mapped to that pod: that
  // directory is the pod's workspace (in a cluster it is the path inside the container).
  doc.backup = { ...(doc.backup ?? {}), workspaceDir: '.' };
  const dir = join(info.stateDir, 'drill');
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, 'hivectl.yaml');
  writeFileSync(configPath, `# Written by \`hivectl drill --sandbox\`.\n${stringify(doc)}`);
  return { configPath, instanceId, replicaId, env: info.env };
}

/**
 * The setup phases, each a journalled run: state namespace, RDS, bootstrap primary, bootstrap DR,
 * DR to pilot light, chaos opt-in, seed data and agent workspaces. Returns the reports (the caller stops on a failure).
 */
export async function sandboxSetup(
  env: CommandEnv,
  sc: SandboxDrillConfig,
  run: (rb: Runbook, env: CommandEnv) => Promise<RunReport>,
): Promise<RunReport[]> {
  const { bootstrapRunbook } = await import('./bootstrap.js');
  const { createAdapters } = await import('../adapters/index.js');
  const { mapPodWorkdir } = await import('../sandbox/index.js');
  const drContext = env.config.cluster.drContext;
  const drTarget = { ...env.target, context: drContext };
  const drEnv: CommandEnv = { ...env, target: drTarget, adapters: createAdapters(drTarget) };
  const out: RunReport[] = [];
  const step = async (rb: Runbook, e: CommandEnv = env) => {
    const r = await run(rb, e);
    out.push(r);
    return r.status === 'succeeded';
  };
  const ok =
    (await step({
      name: 'drill-sandbox-setup',
      title: 'Sandbox: state namespace and RDS primary + DR replica',
      inputs: {},
      mutating: false,
      items: [
        ensureNamespacesStep([env.target.context, drContext]),
        ensureSandboxRdsStep({ instanceId: sc.instanceId, replicaId: sc.replicaId }),
      ],
    })) &&
    (await step(bootstrapRunbook({ env: 'dev', forceConflicts: true, prune: false }, {}))) &&
    (await step(bootstrapRunbook({ env: 'dev', forceConflicts: true, prune: false }, {}), drEnv)) &&
    (await step({
      name: 'drill-sandbox-seed',
      title: 'Sandbox: DR pilot light, chaos opt-in, seed data and agent workspaces',
      inputs: {},
      mutating: true,
      items: [
        pilotLightStep(),
        chaosOptInStep(),
        seedDataStep({ rows: 1000, tasks: 100 }),
        // Each agent pod gets a directory of its own, so each workspace is distinct on disk.
        seedWorkspacesStep({ mapPod: (ns, pod) => mapPodWorkdir(ns, pod, { context: env.target.context }) }),
      ],
    }));
  void ok;
  return out;
}
