// One exit-code table for every command (docs/exit-codes.md). Errors that a user can act on carry
// the code and a one-sentence hint; anything else is a bug and exits 1 with its message (stack with -v).

export const ExitCode = {
  ok: 0,
  stepFailed: 1,
  usage: 2,
  gateFailed: 3,
  partial: 4,
  refused: 5,
  rollbackFailed: 6,
  sigint: 130,
  sigterm: 143,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface HivectlErrorOptions {
  /** What the user should do next, one sentence. */
  hint?: string;
  cause?: unknown;
  /** Extra structured details for -o json and the journal (never secrets). */
  details?: Record<string, unknown>;
}

export class HivectlError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  constructor(exitCode: ExitCodeValue, message: string, opts: HivectlErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'HivectlError';
    this.exitCode = exitCode;
    this.hint = opts.hint;
    this.details = opts.details;
  }
}

/** Bad flag, bad config, missing region: nothing was touched. */
export class UsageError extends HivectlError {
  constructor(message: string, opts: HivectlErrorOptions = {}) {
    super(ExitCode.usage, message, opts);
    this.name = 'UsageError';
  }
}

/** Needs --yes, declined, lock held, safety guard. Nothing was changed. */
export class RefusedError extends HivectlError {
  constructor(message: string, opts: HivectlErrorOptions = {}) {
    super(ExitCode.refused, message, opts);
    this.name = 'RefusedError';
  }
}

/** A step could not do its job (API error, permission denied, timeout, corrupted backup...). */
export class StepError extends HivectlError {
  constructor(message: string, opts: HivectlErrorOptions = {}) {
    super(ExitCode.stepFailed, message, opts);
    this.name = 'StepError';
  }
}

/** The run worked but a gate did not pass: scan findings, missed RTO/RPO, deviated hypothesis. */
export class GateError extends HivectlError {
  constructor(message: string, opts: HivectlErrorOptions = {}) {
    super(ExitCode.gateFailed, message, opts);
    this.name = 'GateError';
  }
}

export class AbortedError extends HivectlError {
  readonly signalName: 'SIGINT' | 'SIGTERM';
  constructor(signalName: 'SIGINT' | 'SIGTERM' = 'SIGINT') {
    super(signalName === 'SIGTERM' ? ExitCode.sigterm : ExitCode.sigint, `interrupted by ${signalName}`);
    this.name = 'AbortedError';
    this.signalName = signalName;
  }
}

export function isHivectlError(e: unknown): e is HivectlError {
  return e instanceof HivectlError;
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
