// What the least-privilege integration tests (iam-*.test.ts, scan-k8s.test.ts) share: an identity
// holding exactly the RBAC that `hivectl iam-policy` generates, a Role with one grant taken away,
// and a retry while the authorizer's cache still allows the old grant.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubectl, type ProcResult, runCli, sandbox, serviceAccountKubeconfig, uniqueName } from './sandbox.js';

export interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are open-ended JSON
export type Rbac = { items: any[] };

/**
 * One test file's names for `hivectl <command>`: its three namespaces (`<prefix>-sys|api|agt-…`),
 * the ServiceAccount `<command>-runner`, the cluster-scoped RBAC name `<sys>-<command>`, and a temp
 * dir holding hivectl.yaml and the ServiceAccount's kubeconfig.
 */
export function testNames(prefix: string, command: string) {
  const sys = uniqueName(`${prefix}-sys`);
  const sa = `${command}-runner`;
  const tmp = mkdtempSync(join(tmpdir(), `hivectl-iam-${command}-`));
  return {
    sys,
    api: uniqueName(`${prefix}-api`),
    agents: uniqueName(`${prefix}-agt`),
    sa,
    name: `${sys}-${command}`,
    tmp,
    cfg: join(tmp, 'hivectl.yaml'),
    kc: join(tmp, `${sa}.kubeconfig`),
  };
}

/** kubectl as the sandbox admin (primary cluster, or `context`); throws with the command and stderr on a non-zero exit. */
export async function ok(args: string[], input?: string, context?: string): Promise<string> {
  const r = await kubectl(args, { context, input });
  const at = context === undefined ? '' : `--context ${context} `;
  if (r.code !== 0) throw new Error(`kubectl ${at}${args.join(' ')} -> ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** The CLI with `--config cfg` and a journal under `tmp`, run in `tmp` with `env` (the limited identity's). */
export function cliWith(tmp: string, cfg: string, env: Record<string, string>) {
  return (args: string[]) =>
    runCli(['--config', cfg, ...args, '--journal-dir', join(tmp, 'journal')], { cwd: tmp, env });
}

/** A minimal Deployment: `replicas` pods of image `<app>:1.0.0`, labelled app.kubernetes.io/name=<app>. */
export function deployment(namespace: string, app: string, replicas: number) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: app, namespace, labels: { 'app.kubernetes.io/name': app } },
    spec: {
      replicas,
      selector: { matchLabels: { 'app.kubernetes.io/name': app } },
      template: {
        metadata: { labels: { 'app.kubernetes.io/name': app } },
        spec: { containers: [{ name: app, image: `${app}:1.0.0` }] },
      },
    },
  };
}

/** `hivectl [--config cfg] iam-policy --commands C --part k8s --format json` for `namespace/name`; the raw result. */
export function iamPolicyK8s(o: { config?: string; commands: string; serviceAccount: string; name: string }) {
  return runCli([
    ...(o.config === undefined ? [] : ['--config', o.config]),
    'iam-policy',
    '--commands',
    o.commands,
    '--part',
    'k8s',
    '--format',
    'json',
    '--service-account',
    o.serviceAccount,
    '--name',
    o.name,
  ]);
}

/** The generated RBAC (a List) for a command; throws if iam-policy fails. */
export async function generateRbac(o: Parameters<typeof iamPolicyK8s>[0]): Promise<Rbac> {
  const gen = await iamPolicyK8s(o);
  if (gen.code !== 0) throw new Error(`iam-policy failed (${gen.code}): ${gen.stderr}`);
  return JSON.parse(gen.stdout);
}

/**
 * Generates the RBAC for `commands`, applies it as the admin, and writes `kubeconfig`: the
 * ServiceAccount's token only (no client certificate, no admin fallback), its context named like it.
 */
export async function grantGeneratedRbac(o: {
  config: string;
  commands: string;
  namespace: string;
  serviceAccount: string;
  name: string;
  kubeconfig: string;
}): Promise<Rbac> {
  const { namespace, serviceAccount } = o;
  const rbac = await generateRbac({ ...o, serviceAccount: `${namespace}/${serviceAccount}` });
  await ok(['apply', '-f', '-'], JSON.stringify(rbac));
  await serviceAccountKubeconfig({ namespace, serviceAccount, file: o.kubeconfig, contextName: serviceAccount });
  return rbac;
}

/**
 * Applies a copy of the generated Role of `namespace` (the ClusterRole when namespace is undefined)
 * with its rules edited; `(x) => x` puts the generated rules back.
 */
export async function applyRole(
  rbac: Rbac,
  namespace: string | undefined,
  edit: (rules: Rule[]) => Rule[],
  context?: string,
): Promise<void> {
  const role = structuredClone(
    rbac.items.find((o) =>
      namespace === undefined ? o.kind === 'ClusterRole' : o.kind === 'Role' && o.metadata.namespace === namespace,
    ),
  );
  role.rules = edit(role.rules as Rule[]);
  await ok(['apply', '-f', '-'], JSON.stringify(role), context);
}

/** Rule edits for applyRole: one verb less on the rules naming `resource`. */
export const withoutVerb = (resource: string, verb: string) => (rules: Rule[]) =>
  rules.map((r) => (r.resources.includes(resource) ? { ...r, verbs: r.verbs.filter((v) => v !== verb) } : r));
/** `resource` taken out of every rule (rules left with none dropped). */
export const withoutResource = (resource: string) => (rules: Rule[]) =>
  rules
    .map((r) => ({ ...r, resources: r.resources.filter((x) => x !== resource) }))
    .filter((r) => r.resources.length > 0);
/** Every rule naming `resource` dropped. */
export const withoutRule = (resource: string) => (rules: Rule[]) =>
  rules.filter((r) => !r.resources.includes(resource));

/**
 * Runs `run(attempt)` again while it still succeeds, up to 20 retries 250 ms apart: after a Role
 * change the authorizer's cache catches up within moments. `between` (undoing what a successful
 * attempt changed) runs before each retry.
 */
export async function untilDenied(
  run: (attempt: number) => Promise<ProcResult>,
  between?: () => Promise<unknown>,
): Promise<ProcResult> {
  let r = await run(0);
  for (let i = 0; i < 20 && r.code === 0; i++) {
    await between?.();
    await new Promise((res) => setTimeout(res, 250));
    r = await run(i + 1);
  }
  return r;
}

/** An S3 bucket in the sandbox's moto (the SDK loaded only by the files that need one). */
export async function createBucket(bucket: string): Promise<void> {
  const { CreateBucketCommand, S3Client } = await import('@aws-sdk/client-s3');
  const s = sandbox();
  await new S3Client({
    region: s.region,
    endpoint: s.endpointUrl,
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  }).send(new CreateBucketCommand({ Bucket: bucket }));
}

/** The `error` lines of the CLI's stderr. */
export const errorLines = (stderr: string) => stderr.split('\n').filter((l) => / error /.test(l));

/**
 * afterAll: deletes the namespaces (on each of `contexts`, default the primary), the cluster-scoped
 * RBAC named `clusterRbac` if given, and the temp dir `tmp` if given.
 */
export async function removeTestObjects(o: {
  namespaces: string[];
  clusterRbac?: string;
  contexts?: string[];
  tmp?: string;
}): Promise<void> {
  for (const context of o.contexts ?? [undefined])
    await kubectl(['delete', 'namespace', ...o.namespaces, '--wait=false'], { context });
  if (o.clusterRbac) await kubectl(['delete', 'clusterrole,clusterrolebinding', o.clusterRbac, '--ignore-not-found']);
  if (o.tmp) rmSync(o.tmp, { recursive: true, force: true });
}
