// The IO host: the engine and steps never print; they talk to this. Results go to stdout,
// everything else (progress, logs, prompts) to stderr.
import type { OutputFormat } from './step.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface IoHost {
  readonly isTTY: boolean;
  readonly color: boolean;
  readonly format: OutputFormat;
  log(level: LogLevel, message: string): void;
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
  /** Print a command's result on stdout: as JSON/YAML with -o json|yaml, else through `table`. */
  result(data: unknown, table?: (data: unknown) => string): void;
  /** Ask yes/no on the TTY. Never called without a TTY: the runner refuses first. */
  confirm(question: string): Promise<boolean>;
}
