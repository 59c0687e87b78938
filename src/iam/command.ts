// The body of `hivectl iam-policy`, loaded lazily by src/commands/iam-policy.ts.
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { UsageError } from '../core/errors.js';
import { ALL_PERMISSIONS } from './permissions.js';
import { iamPolicy, rbacObjects } from './policy.js';

export async function iamPolicyAction(cmd: Command): Promise<void> {
  const o = cmd.optsWithGlobals() as Record<string, unknown>;
  const known = ALL_PERMISSIONS.map((p) => p.command);
  const commands =
    typeof o.commands === 'string' && o.commands.trim()
      ? [
          ...new Set(
            o.commands
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean),
          ),
        ]
      : known;
  const unknown = commands.filter((c) => !known.includes(c));
  if (unknown.length)
    throw new UsageError(`--commands: no permission entry for ${unknown.join(', ')}`, {
      hint: `use some of: ${known.join(', ')}`,
    });
  const { loadConfigFromProcess } = await import('../core/config-load.js');
  const { config } = await loadConfigFromProcess(o);
  let sa = { namespace: config.cluster.namespace, name: 'hivectl' };
  if (typeof o.serviceAccount === 'string') {
    const m = /^([a-z0-9-]+)\/([a-z0-9.-]+)$/.exec(o.serviceAccount);
    if (!m) throw new UsageError(`--service-account ${o.serviceAccount}: expected NAMESPACE/NAME`);
    sa = { namespace: m[1]!, name: m[2]! };
  }
  const format = (o.format as string | undefined) ?? (o.output === 'json' ? 'json' : 'yaml');
  const policy = iamPolicy(commands, config);
  const rbac = rbacObjects(commands, config, { serviceAccount: sa, name: String(o.name ?? 'hivectl') });
  let text: string;
  if (o.part === 'aws') text = format === 'json' ? `${JSON.stringify(policy, null, 2)}\n` : stringify(policy);
  else if (o.part === 'k8s')
    text =
      format === 'json'
        ? `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rbac }, null, 2)}\n`
        : rbac.map((r) => stringify(r)).join('---\n');
  else {
    const out = {
      commands: commands.map((c) => ({ command: c, verified: ALL_PERMISSIONS.find((p) => p.command === c)!.verified })),
      aws: { policy },
      kubernetes: rbac,
    };
    text = format === 'json' ? `${JSON.stringify(out, null, 2)}\n` : stringify(out);
  }
  process.stdout.write(text);
}
