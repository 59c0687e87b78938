// `hivectl iam-policy`: the least-privilege AWS IAM policy and Kubernetes RBAC that the named
// commands need, generated from src/iam/permissions.ts. Prints; never applies.
import { type Command, Option } from 'commander';

export function register(program: Command): void {
  program
    .command('iam-policy')
    .description('print the minimal AWS IAM policy and Kubernetes Role/ClusterRole that hivectl commands need')
    .option(
      '--commands <list>',
      'comma-separated commands (default: all): scan,backup,restore,bootstrap,failover,chaos,scale,drill,doctor',
    )
    .addOption(
      new Option('--format <format>', 'output format (default: the -o format, yaml for table)').choices([
        'json',
        'yaml',
      ]),
    )
    .addOption(
      new Option('--part <part>', 'print only the IAM policy (aws) or the RBAC objects (k8s)')
        .choices(['all', 'aws', 'k8s'])
        .default('all'),
    )
    .option('--service-account <ns/name>', 'subject of the RBAC bindings (default: <cluster.namespace>/hivectl)')
    .option('--name <name>', 'name of the generated Roles and bindings', 'hivectl')
    .addHelpText(
      'after',
      `
Examples:
  hivectl iam-policy --commands scan --part k8s | kubectl apply -f -
  hivectl iam-policy --commands backup,restore --part aws --format json > policy.json
  aws iam create-policy --policy-name hivectl-backup --policy-document file://policy.json`,
    )
    .action(async (_o: Record<string, unknown>, cmd: Command) => {
      const { iamPolicyAction } = await import('../iam/command.js');
      await iamPolicyAction(cmd);
    });
}
