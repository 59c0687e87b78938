// The commander program: global flags, one register() per command, errors -> exit codes.
// Keep this file and every src/commands/*.ts light at top level: SDKs, listr2 and runbooks are
// imported inside actions, so `hivectl --help` starts at close to `node -e 0`.
import { Command, Option } from 'commander';
import { registerAll } from './commands/index.js';
import { handleFatal } from './core/fatal.js';

export function buildProgram(): Command {
  const program = new Command('hivectl')
    .description('Operations CLI for the Agent Hive platform on Kubernetes and AWS')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ showGlobalOptions: true })
    .option('--config <file>', 'hivectl.yaml to read (default: ./hivectl.yaml, then ~/.config/hivectl/config.yaml)')
    .option('--kubeconfig <file>', 'kubeconfig file (default: KUBECONFIG, ~/.kube/config, in-cluster)')
    .option('--context <name>', 'kube context')
    .option('-n, --namespace <ns>', "namespace for hivectl's own state (lock, revisions)")
    .option('--profile <name>', 'AWS profile')
    .option('--region <region>', 'AWS region (primary)')
    .option('--dr-region <region>', 'AWS disaster-recovery region')
    .option('--endpoint-url <url>', 'S3/RDS endpoint (S3-compatible stores, the sandbox)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'yaml']).default('table'))
    .option('--dry-run', 'show the plan, change nothing', false)
    .option('-y, --yes', 'do not ask for confirmation of destructive steps', false)
    .option('--timeout <duration>', 'how long to wait for rollouts and waiters (e.g. 90s, 5m)')
    .addOption(
      new Option('--rollback <when>', 'roll back completed steps').choices(['auto', 'never', 'always']).default('auto'),
    )
    .option('--force-unlock', 'take over the run lock when its holder stopped renewing it', false)
    .option(
      '--journal-dir <dir>',
      'where run journals are written (default: $HIVECTL_STATE_DIR or ~/.local/state/hivectl/runs)',
    )
    .option('-v, --verbose', 'more detail, stack traces on errors', false)
    .option('-q, --quiet', 'only results and errors', false)
    .option('--no-color', 'no colours (NO_COLOR is honoured too)');
  program.exitOverride();
  registerAll(program);
  return program;
}

/**
 * The AWS SDK prints an eight-line NodeVersionSupportWarning on Node < 22 when its first client is
 * made, in the middle of a run's progress. Say it in one line instead (docs/node-support.md).
 */
function shortenSdkNodeWarning(): void {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (typeof warning === 'string' && warning.startsWith('NodeVersionSupportWarning')) {
      process.stderr.write(
        `hivectl: note: Node ${process.versions.node} is past end of life; AWS SDK releases after early January 2027 need Node >= 22 (see docs/node-support.md)\n`,
      );
      return;
    }
    return (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
}

export async function main(argv: string[]): Promise<number> {
  shortenSdkNodeWarning();
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    return handleFatal(e, argv.includes('-v') || argv.includes('--verbose'));
  }
}

// Only run when executed (bin/hivectl.js imports this bundle), not when a test imports buildProgram.
if (process.env.HIVECTL_NO_MAIN !== '1') {
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
