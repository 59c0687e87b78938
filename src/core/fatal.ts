// The last line of defence: any error -> one or two lines on stderr and an exit code. Never a stack
// trace unless -v.
import { ExitCode, isHivectlError } from './errors.js';

interface CommanderLike {
  code: string;
  exitCode: number;
  message: string;
}

function isCommanderError(e: unknown): e is CommanderLike {
  return (
    typeof e === 'object' &&
    e !== null &&
    'code' in e &&
    typeof (e as CommanderLike).code === 'string' &&
    String((e as CommanderLike).code).startsWith('commander.')
  );
}

export function handleFatal(e: unknown, verbose: boolean): number {
  if (isCommanderError(e)) {
    // commander already printed help/version/the usage error.
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help')
      return ExitCode.ok;
    return e.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  if (isHivectlError(e)) {
    process.stderr.write(`hivectl: ${e.message}\n`);
    if (e.hint) process.stderr.write(`  -> ${e.hint}\n`);
    if (verbose && e.stack) process.stderr.write(`${e.stack}\n`);
    return e.exitCode;
  }
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`hivectl: unexpected error: ${msg}\n`);
  if (verbose && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  else process.stderr.write('  -> run again with -v for details, and report it if it persists\n');
  return ExitCode.stepFailed;
}
