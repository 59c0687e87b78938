// `hivectl scan`: security posture of the live cluster (or rendered manifests), the AWS account
// and the images. Read-only: no runbook, lock or journal. Results on stdout; exit 0 clean,
// 3 when --fail-on's gate fails, 2 on usage errors, 1 when the scan itself could not run.
import { type Command, Option } from 'commander';

const SEVERITY_CHOICES = ['critical', 'high', 'medium', 'low', 'note'];

function list(v: string, prev: string[] = []): string[] {
  return [
    ...prev,
    ...v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ];
}

export function register(program: Command): void {
  program
    .command('scan')
    .description('security posture of the cluster (or rendered manifests), AWS backups and images, for people and CI')
    .option('--manifests <path>', 'scan rendered YAML instead of the cluster: a directory, a file, or - for stdin')
    .option(
      '--scope <list>',
      'what to scan: k8s,aws,images (default: k8s,images, plus aws when a region is configured)',
      list,
    )
    .addOption(
      new Option('--format <format>', 'report format (default: the -o format)').choices([
        'table',
        'json',
        'yaml',
        'sarif',
        'junit',
        'markdown',
      ]),
    )
    .option(
      '--report <file>',
      'write the report to FILE (format from --format or the extension); stdout gets the -o format',
    )
    .addOption(
      new Option('--fail-on <severity>', 'exit 3 when an unsuppressed finding is at or above this severity').choices(
        SEVERITY_CHOICES,
      ),
    )
    .addOption(
      new Option(
        '--min-severity <severity>',
        'show only findings at or above this severity (display only: never changes the gate)',
      ).choices(SEVERITY_CHOICES),
    )
    .option('--exceptions <file>', 'YAML file of accepted findings: check, target, reason, expires')
    .option('--show-suppressed', 'also list findings suppressed by exceptions, annotations or the baseline', false)
    .option('--baseline <file>', 'suppress findings recorded in this baseline, so only new ones count')
    .option('--write-baseline', 'record the current findings into --baseline FILE and exit 0', false)
    .option('--include-system-namespaces', 'also scan kube-system, kube-public and kube-node-lease', false)
    .option(
      '--bucket <name>',
      'S3 bucket to check as a backup bucket (repeatable; default: backup.bucket and backup.drBucket, else every bucket)',
      list,
    )
    .option(
      '--db-instance <id>',
      'RDS instance to check (repeatable; default: database.instanceId, else every instance)',
      list,
    )
    .addHelpText(
      'after',
      `
Examples:
  hivectl scan                                   # live cluster + images, table on stdout
  hivectl scan --fail-on high --report scan.sarif  # CI: SARIF for code scanning, exit 3 on high+
  hivectl bootstrap --render -o yaml | hivectl scan --manifests - --fail-on high
  hivectl scan --baseline .hivectl-baseline.json --write-baseline   # accept today's findings
  hivectl scan --scope aws --region us-east-1 --dr-region us-west-2

Checks and their IDs: docs/checks.md. Exit codes: 0 clean, 3 gate failed, 2 usage, 1 could not scan.`,
    )
    .action(async (_opts: Record<string, unknown>, cmd: Command) => {
      const { scanAction } = await import('../scan/command.js');
      await scanAction(cmd);
    });
}
