// Child processes (pg_dump, kubectl, go, ...) through execa. Every call honours an AbortSignal, so
// Ctrl-C reaches the child; failures become StepErrors naming the command.
import { execa, type Options, type ResultPromise } from 'execa';
import { StepError } from '../core/errors.js';

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Extra environment only (merged over process.env). */
  input?: string | Buffer;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Don't throw on a non-zero exit; return it. */
  reject?: boolean;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

function baseOptions(o: RunOptions): Options {
  return {
    cwd: o.cwd,
    env: o.env,
    extendEnv: true,
    cancelSignal: o.signal,
    timeout: o.timeoutMs,
    reject: false,
    stripFinalNewline: true,
  };
}

/** Run to completion and capture output. Throws StepError on failure unless reject: false. */
export async function run(cmd: string, args: readonly string[], o: RunOptions = {}): Promise<RunResult> {
  let r: Awaited<ResultPromise>;
  try {
    r = await execa(cmd, args, { ...baseOptions(o), input: o.input, encoding: 'utf8' });
  } catch (e) {
    throw new StepError(`${cmd}: ${(e as Error).message}`, { cause: e });
  }
  if ((r as { isCanceled?: boolean }).isCanceled) throw new StepError(`${cmd} was cancelled`);
  const out: RunResult = { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), exitCode: r.exitCode ?? -1 };
  if (
    (r as { code?: string }).code === 'ENOENT' ||
    (r.failed && r.exitCode === undefined && /ENOENT/.test(String(r.message)))
  ) {
    throw new StepError(`${cmd} is not installed or not on PATH`, { hint: `install ${cmd} (see \`hivectl doctor\`)` });
  }
  if (o.reject !== false && out.exitCode !== 0) {
    const tail = out.stderr.trim().split('\n').slice(-3).join(' | ');
    throw new StepError(`${cmd} ${args.join(' ')} exited ${out.exitCode}${tail ? `: ${tail}` : ''}`);
  }
  return out;
}

/** Start a process with streams (for pipes such as pg_dump -> S3). The caller awaits the promise. */
export function spawn(cmd: string, args: readonly string[], o: RunOptions & { stdin?: 'pipe' | 'ignore' } = {}) {
  return execa(cmd, args, {
    ...baseOptions(o),
    stdin: o.stdin ?? 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: { stdout: false, stderr: true },
    encoding: 'buffer',
  });
}

/** Absolute path of an executable on PATH, or undefined. */
export async function which(cmd: string): Promise<string | undefined> {
  const r = await execa('sh', ['-c', `command -v ${JSON.stringify(cmd)}`], { reject: false });
  const p = String(r.stdout ?? '').trim();
  return r.exitCode === 0 && p ? p : undefined;
}
