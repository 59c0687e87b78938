// `hivectl doctor`: checks what a run needs and says what is missing, one line a check. Read-only, so
// it calls the adapters directly (no runbook, no lock, no journal). Every network check has a short
// deadline: an unreachable cluster or endpoint fails in seconds, never hangs. The RBAC batch (a few
// hundred access reviews) only runs once /version has answered, so it gets a longer one.
import type { Command } from 'commander';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  id: string;
  status: CheckStatus;
  /** What was checked, e.g. `cluster`, `rbac apps/deployments`. */
  what: string;
  detail: string;
  /** What to do about a warn/fail, one sentence. */
  fix?: string;
}

interface DoctorOptions {
  timeoutMs: number;
  /** Check the RBAC of these commands only (default: every command). */
  commands?: string[];
}

function check(id: string, what: string, status: CheckStatus, detail: string, fix?: string): CheckResult {
  return { id, what, status, detail, ...(fix ? { fix } : {}) };
}

function hintOf(e: unknown): string | undefined {
  const h = (e as { hint?: unknown })?.hint;
  return typeof h === 'string' ? h : undefined;
}

function msgOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function runChecks(cmd: Command, o: DoctorOptions): Promise<CheckResult[]> {
  const g = cmd.optsWithGlobals() as Record<string, unknown>;
  const { loadConfigFromProcess } = await import('../core/config-load.js');
  // An invalid config is a usage error (exit 2) like everywhere else: fix that first.
  const { config, sources, files } = await loadConfigFromProcess(g);
  const env = process.env;

  const head: CheckResult[] = [
    check(
      'config',
      'config',
      'ok',
      files.length > 0 ? `valid: ${files.join(', ')}` : 'no config file; using defaults, env and flags',
    ),
  ];
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  head.push(
    nodeMajor >= 22
      ? check('node', 'node', 'ok', `v${process.versions.node}`)
      : check(
          'node',
          'node',
          'warn',
          `v${process.versions.node}: Node 20 is past end of life (April 2026)`,
          'move to Node 22 or 24 (docs/node-support.md)',
        ),
  );

  const platformNs = [...new Set([config.platform.namespaces.api, config.platform.namespaces.agents])];
  const stateNs = config.cluster.namespace;
  const access = await import('../adapters/k8s-access.js');
  let rules: ReturnType<typeof access.k8sRulesFor>;
  try {
    rules = access.k8sRulesFor(o.commands);
  } catch (e) {
    const { UsageError } = await import('../core/errors.js');
    throw new UsageError(`--commands: ${msgOf(e)}`);
  }

  const kube = async (): Promise<CheckResult[]> => {
    const out: CheckResult[] = [];
    let k: Awaited<ReturnType<typeof access.describeKubeconfig>>['k8s'];
    try {
      const d = await access.describeKubeconfig(
        { kubeconfig: config.cluster.kubeconfig, context: config.cluster.context },
        env,
      );
      k = d.k8s;
      out.push(
        check('kubeconfig', 'kubeconfig', 'ok', `context ${d.info.context} -> ${d.info.server} (${d.info.source})`),
      );
    } catch (e) {
      out.push(
        check(
          'kubeconfig',
          'kubeconfig',
          'fail',
          msgOf(e),
          hintOf(e) ?? 'pass --kubeconfig FILE or set KUBECONFIG to a readable kubeconfig',
        ),
      );
      out.push(check('cluster', 'cluster', 'skip', 'not checked: no usable kubeconfig'));
      out.push(check('rbac', 'rbac', 'skip', 'not checked: no usable kubeconfig'));
      return out;
    }
    try {
      const v = await access.serverVersion(k, o.timeoutMs);
      out.push(check('cluster', 'cluster', 'ok', `reachable at ${k.server}, Kubernetes ${v.gitVersion}`));
    } catch (e) {
      const { k8sError } = await import('../adapters/k8s.js');
      const err = k8sError(e, 'GET /version', k.server);
      const fix = err.hint?.replace(/\s*\(`hivectl doctor`\)/, '');
      out.push(
        check(
          'cluster',
          'cluster',
          'fail',
          err.message,
          fix ?? 'check that the cluster is up and --context/--kubeconfig point at it',
        ),
      );
      out.push(check('rbac', 'rbac', 'skip', 'not checked: cluster unreachable'));
      return out;
    }
    try {
      const items = access.expandPermissions({ state: stateNs, platform: platformNs }, rules);
      const results = await access.reviewAccess(k, items, o.timeoutMs * 5);
      // One line per resource: which verbs are missing in which namespace.
      const byResource = new Map<string, typeof results>();
      for (const r of results) {
        const key = `${r.group ? `${r.group}/` : ''}${r.resource}${r.subresource ? `/${r.subresource}` : ''}`;
        byResource.set(key, [...(byResource.get(key) ?? []), r]);
      }
      for (const [res, rs] of byResource) {
        const nss = [...new Set(rs.map((r) => r.namespace ?? '(cluster)'))];
        const missing = nss
          .map((ns) => {
            const verbs = rs.filter((r) => (r.namespace ?? '(cluster)') === ns && !r.allowed).map((r) => r.verb);
            return verbs.length > 0 ? `${ns}: ${verbs.join(',')}` : '';
          })
          .filter(Boolean);
        const verbs = [...new Set(rs.map((r) => r.verb))].join(',');
        const neededBy = [...new Set(rs.filter((r) => !r.allowed).flatMap((r) => r.commands))].join(', ');
        out.push(
          missing.length === 0
            ? check(`rbac:${res}`, `rbac ${res}`, 'ok', `${verbs} in ${nss.join(', ')}`)
            : check(
                `rbac:${res}`,
                `rbac ${res}`,
                'fail',
                `missing ${missing.join('; ')}`,
                `needed by ${neededBy}: grant them to ${k.kc.getCurrentUser()?.name ?? 'this identity'} (\`hivectl iam-policy --part k8s\` prints the Roles)`,
              ),
        );
      }
    } catch (e) {
      const { k8sError } = await import('../adapters/k8s.js');
      const err = k8sError(e, 'SelfSubjectAccessReview', k.server);
      out.push(check('rbac', 'rbac', 'fail', err.message, err.hint));
    }
    return out;
  };

  const aws = async (): Promise<CheckResult[]> => {
    const out: CheckResult[] = [];
    const region = config.aws.region;
    if (!region) {
      out.push(
        check(
          'aws:region',
          'aws region',
          'fail',
          'no AWS region configured',
          'pass --region, set HIVECTL_REGION or AWS_REGION, or set aws.region in hivectl.yaml',
        ),
      );
      out.push(check('aws:identity', 'aws credentials', 'skip', 'not checked: no region'));
      return out;
    }
    const dr = config.aws.drRegion;
    out.push(
      check(
        'aws:region',
        'aws region',
        'ok',
        `${region} (${sources['aws.region']})${dr ? `, DR ${dr} (${sources['aws.drRegion']})` : ', no DR region'}${
          config.aws.endpointUrl ? `, endpoint ${config.aws.endpointUrl}` : ''
        }`,
      ),
    );
    const sts = await import('../adapters/aws-sts.js');
    const target = { region, endpointUrl: config.aws.endpointUrl, profile: config.aws.profile };
    try {
      const id = await sts.getCallerIdentity(target, o.timeoutMs);
      out.push(check('aws:identity', 'aws credentials', 'ok', `${id.arn} (account ${id.account})`));
    } catch (e) {
      out.push(
        check(
          'aws:identity',
          'aws credentials',
          'fail',
          `STS GetCallerIdentity: ${sts.awsFailure(e)}`,
          'set AWS_PROFILE (or --profile) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, and check --endpoint-url',
        ),
      );
    }
    const buckets: Array<[string, string | undefined, string | undefined]> = [
      ['backup.bucket', config.backup.bucket, region],
      ['backup.drBucket', config.backup.drBucket, dr ?? region],
    ];
    for (const [key, bucket, r] of buckets) {
      if (!bucket) {
        if (key === 'backup.bucket')
          out.push(
            check(
              'aws:bucket',
              'backup bucket',
              'warn',
              'backup.bucket is not set: backups have nowhere to go',
              'set backup.bucket in hivectl.yaml or HIVECTL_BACKUP_BUCKET',
            ),
          );
        continue;
      }
      const id = key === 'backup.bucket' ? 'aws:bucket' : 'aws:dr-bucket';
      const what = key === 'backup.bucket' ? 'backup bucket' : 'DR backup bucket';
      try {
        await sts.headBucket(target, bucket, r, o.timeoutMs);
        out.push(check(id, what, 'ok', `s3://${bucket} exists (${r})`));
      } catch (e) {
        const status = (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
        const detail =
          status === 404
            ? `s3://${bucket} does not exist (${r})`
            : status === 403
              ? `s3://${bucket}: access denied (${r})`
              : `s3://${bucket}: ${sts.awsFailure(e)}`;
        out.push(
          check(
            id,
            what,
            'fail',
            detail,
            status === 404
              ? `create the bucket or fix ${key}`
              : status === 403
                ? 'grant s3:ListBucket on the bucket to this identity'
                : 'check the endpoint and credentials',
          ),
        );
      }
    }
    return out;
  };

  const tools = async (): Promise<CheckResult[]> => {
    const { which, run } = await import('../adapters/exec.js');
    const one = async (tool: string, required: boolean): Promise<CheckResult> => {
      const path = await which(tool);
      if (!path) {
        return required
          ? check(
              `tool:${tool}`,
              tool,
              'fail',
              'not on PATH',
              `install the PostgreSQL client tools (e.g. apt-get install postgresql-client) for ${tool}`,
            )
          : check(`tool:${tool}`, tool, 'warn', 'not on PATH (optional)', 'install kubectl to use `kubectl` fallbacks');
      }
      const args = tool === 'kubectl' ? ['version', '--client'] : ['--version'];
      const r = await run(tool, args, { reject: false, timeoutMs: o.timeoutMs }).catch(() => undefined);
      const ver = (r?.stdout ?? '').split('\n')[0]?.trim() ?? '';
      return check(`tool:${tool}`, tool, 'ok', `${ver || 'version unknown'} (${path})`);
    };
    return Promise.all([one('pg_dump', true), one('pg_restore', true), one('psql', true), one('kubectl', false)]);
  };

  const [k, a, t] = await Promise.all([kube(), aws(), tools()]);
  return [...head, ...k, ...a, ...t];
}

function render(results: CheckResult[], color: boolean): string {
  const paint = (s: CheckStatus, text: string) => {
    if (!color) return text;
    const c = s === 'ok' ? 32 : s === 'warn' ? 33 : s === 'fail' ? 31 : 90;
    return `\u001b[${c}m${text}\u001b[39m`;
  };
  const w = Math.max(...results.map((r) => r.what.length));
  const lines = results.map((r) => {
    const st = paint(r.status, r.status.toUpperCase().padEnd(4));
    return `${st}  ${r.what.padEnd(w)}  ${r.detail}${r.fix && r.status !== 'ok' ? `  -> fix: ${r.fix}` : ''}`;
  });
  const fails = results.filter((r) => r.status === 'fail').length;
  const warns = results.filter((r) => r.status === 'warn').length;
  lines.push(
    fails === 0
      ? `doctor: all checks passed${warns ? ` (${warns} warning${warns === 1 ? '' : 's'})` : ''}`
      : `doctor: ${fails} check${fails === 1 ? '' : 's'} failed${warns ? `, ${warns} warning${warns === 1 ? '' : 's'}` : ''}`,
  );
  return `${lines.join('\n')}\n`;
}

export function register(program: Command): void {
  program
    .command('doctor')
    .description('check kubeconfig, cluster, RBAC, AWS credentials, backup bucket and tools; exit 1 if any check fails')
    .option('--check-timeout <seconds>', 'deadline for each network check', '4')
    .option('--commands <list>', 'check the Kubernetes RBAC of these commands only (comma-separated; default: all)')
    .action(async (o: { checkTimeout: string; commands?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals() as Record<string, unknown>;
      const secs = Number(o.checkTimeout);
      if (!Number.isFinite(secs) || secs <= 0) {
        const { UsageError } = await import('../core/errors.js');
        throw new UsageError(`--check-timeout must be a positive number of seconds, got "${o.checkTimeout}"`);
      }
      const commands = o.commands
        ?.split(',')
        .map((c) => c.trim())
        .filter(Boolean);
      const results = await runChecks(cmd, { timeoutMs: secs * 1000, ...(commands ? { commands } : {}) });
      const ok = results.every((r) => r.status !== 'fail');
      if (g.output === 'json') process.stdout.write(`${JSON.stringify({ ok, checks: results }, null, 2)}\n`);
      else if (g.output === 'yaml') {
        const { toYaml } = await import('../core/config-load.js');
        process.stdout.write(toYaml({ ok, checks: results }));
      } else {
        const color = g.color !== false && !process.env.NO_COLOR && process.stdout.isTTY === true;
        process.stdout.write(render(results, color));
      }
      process.exitCode = ok ? 0 : 1;
    });
}
