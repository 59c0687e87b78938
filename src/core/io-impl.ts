// The IO host behind io.ts: results on stdout (table / JSON / YAML), everything else on stderr.
// Off a TTY (CI, pipes, -o json) every stderr line carries an ISO timestamp so a CI log reads as a
// timeline. Everything printed passes through the run's redactor.
import { Chalk, type ChalkInstance } from 'chalk';
import type { IoHost, LogLevel } from './io.js';
import { Redactor } from './redact.js';
import type { OutputFormat } from './step.js';

export interface IoOptions {
  format: OutputFormat;
  verbose?: boolean;
  quiet?: boolean;
  /** commander's --no-color gives color: false. */
  color?: boolean;
  env?: Record<string, string | undefined>;
  stdout?: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean };
  stderr?: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean };
  stdin?: NodeJS.ReadStream;
  redactor?: Redactor;
  /** Force TTY behaviour (tests). */
  isTTY?: boolean;
}

export interface IoHostImpl extends IoHost {
  readonly redactor: Redactor;
  readonly chalk: ChalkInstance;
  readonly verbose: boolean;
  readonly quiet: boolean;
  /** Line-per-event mode: no TTY, CI, or -o json/yaml. */
  readonly lineMode: boolean;
  /** Write a raw (already formatted) line to stderr, redacted, timestamped in line mode. */
  line(text: string): void;
  /** Write raw text to stdout, redacted. */
  out(text: string): void;
  error(message: string): void;
  /** Load what -o yaml needs (result() is synchronous). */
  ready(): Promise<void>;
}

/** chalk ignores NO_COLOR, so decide the level ourselves. */
export function colorEnabled(o: { color?: boolean; env: Record<string, string | undefined>; isTTY: boolean }): boolean {
  if (o.color === false) return false;
  if (o.env.NO_COLOR !== undefined && o.env.NO_COLOR !== '') return false;
  if (o.env.FORCE_COLOR !== undefined && o.env.FORCE_COLOR !== '0') return true;
  return o.isTTY && o.env.TERM !== 'dumb';
}

export function createIoHost(o: IoOptions): IoHostImpl {
  const env = o.env ?? process.env;
  const stdout = o.stdout ?? process.stdout;
  const stderr = o.stderr ?? process.stderr;
  const isTTY = o.isTTY ?? Boolean(stderr.isTTY && (o.stdin ?? process.stdin).isTTY);
  const ci = Boolean(env.CI && env.CI !== 'false' && env.CI !== '0');
  const color = colorEnabled({ color: o.color, env, isTTY: Boolean(stderr.isTTY) });
  const chalk = new Chalk({ level: color ? 1 : 0 });
  const redactor = o.redactor ?? new Redactor();
  const verbose = Boolean(o.verbose);
  const quiet = Boolean(o.quiet) && !verbose;
  const lineMode = !isTTY || ci || o.format !== 'table';

  const line = (text: string) => {
    const t = redactor.string(text);
    if (lineMode) {
      const ts = new Date().toISOString();
      stderr.write(
        t
          .split('\n')
          .map((l) => `${ts} ${l}`)
          .join('\n') + '\n',
      );
    } else stderr.write(`${t}\n`);
  };
  const paint: Record<LogLevel, (s: string) => string> = {
    debug: chalk.dim,
    info: (s) => s,
    warn: chalk.yellow,
    error: chalk.red,
  };
  const log = (level: LogLevel, message: string) => {
    if (level === 'debug' && !verbose) return;
    if (level === 'info' && quiet) return;
    const prefix = lineMode ? `${level.padEnd(5)} ` : level === 'warn' || level === 'error' ? `${level}: ` : '';
    line(paint[level](`${prefix}${message}`));
  };
  let yamlMod: typeof import('yaml') | undefined;

  const host: IoHostImpl = {
    isTTY,
    color,
    format: o.format,
    redactor,
    chalk,
    verbose,
    quiet,
    lineMode,
    line,
    out(text) {
      stdout.write(redactor.string(text));
    },
    log,
    info: (m) => log('info', m),
    warn: (m) => log('warn', m),
    debug: (m) => log('debug', m),
    error: (m: string) => log('error', m),
    result(data, table) {
      const clean = redactor.value(data);
      if (o.format === 'json') stdout.write(`${JSON.stringify(clean, null, 2)}\n`);
      else if (o.format === 'yaml') {
        if (!yamlMod) throw new Error('io.result with -o yaml before io.ready()');
        stdout.write(yamlMod.stringify(clean));
      } else if (table) stdout.write(redactor.string(ensureNl(table(data))));
      else stdout.write(`${JSON.stringify(clean, null, 2)}\n`);
    },
    async confirm(question) {
      if (!isTTY) return false;
      const { createInterface } = await import('node:readline/promises');
      const rl = createInterface({ input: o.stdin ?? process.stdin, output: stderr as NodeJS.WritableStream });
      try {
        const a = await rl.question(`${question} [y/N] `);
        return /^y(es)?$/i.test(a.trim());
      } finally {
        rl.close();
      }
    },
    async ready() {
      if (o.format === 'yaml' && !yamlMod) {
        // yaml is CommonJS: bundled, its functions may sit on the default export.
        const m = (await import('yaml')) as typeof import('yaml') & { default?: typeof import('yaml') };
        yamlMod = typeof m.stringify === 'function' ? m : m.default;
      }
    },
  };
  return host;
}

function ensureNl(s: string): string {
  return s.endsWith('\n') || s === '' ? s : `${s}\n`;
}
