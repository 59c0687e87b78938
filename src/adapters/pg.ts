// PostgreSQL. One-off queries and sessions run in process (pg-wire.ts) when the connection is a plain
// postgres:// URL that client handles exactly as libpq would, through psql otherwise. Dumps and restores
// run pg_dump and pg_restore as child processes: the dump streams through stdout; a restore reads stdin
// or (for pg_restore -j) a local dump file. A session keeps one transaction open so that pg_dump
// (--snapshot) and the row checksums read the very same snapshot.
import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { StepError } from '../core/errors.js';
import { planConnection, type WireParams, WireSession, WireUnsupported, wireQuery } from './pg-wire.js';

export interface PgProcess {
  stdout: Readable;
  stdin: Writable | null;
  /** Resolves when the process exits 0; rejects with its stderr tail otherwise. */
  done: Promise<void>;
  kill(): void;
  /** The last lines the process wrote on stderr so far. */
  stderrTail?(): string;
}

export interface PgSession {
  /** Run one statement; rows as arrays of text fields. */
  query(sql: string): Promise<string[][]>;
  close(): Promise<void>;
}

export interface Pg {
  query(url: string, sql: string, signal?: AbortSignal): Promise<string[][]>;
  dump(url: string, opts: { compress: number; snapshot?: string; signal?: AbortSignal }): PgProcess;
  /** From stdin, or with `file` from that local dump file (needed for `jobs` > 1: pg_restore -j seeks). */
  restore(url: string, opts: { clean: boolean; signal?: AbortSignal; jobs?: number; file?: string }): PgProcess;
  /** One connection for several statements (a transaction whose snapshot pg_dump shares). */
  session(url: string): Promise<PgSession>;
}

/** The last ~64 KiB a stream wrote: a failing tool's message, without holding everything it said. */
function tailOf(r: Readable): () => string {
  const chunks: Buffer[] = [];
  let n = 0;
  r.on('data', (c: Buffer) => {
    chunks.push(c);
    n += c.length;
    while (n > 64 * 1024 && chunks.length > 1) n -= (chunks.shift() as Buffer).length;
  });
  return () => Buffer.concat(chunks).toString('utf8').trim();
}

// node:child_process, not execa: the drill runs about fifteen of these, and execa's stream plumbing cost
// several ms of CPU per process on top of the spawn itself. The environment is inherited (PGPASSWORD
// etc. come from the URL or the environment the user gave us).
function proc(cmd: string, args: string[], stdin: boolean, signal?: AbortSignal): PgProcess {
  const child = spawn(cmd, args, { stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], ...(signal ? { signal } : {}) });
  const stderr = tailOf(child.stderr as Readable);
  // A tool that exits early makes writes to its stdin fail (EPIPE): its exit status says why, not that.
  child.stdin?.on('error', () => {});
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (e: NodeJS.ErrnoException) => {
      // A process that never started: no 'close' may follow.
      if (child.pid === undefined)
        reject(
          e.code === 'ENOENT'
            ? new StepError(`${cmd} is not installed or not on PATH`, {
                hint: `install the PostgreSQL client tools (${cmd})`,
              })
            : new StepError(`${cmd} could not start: ${e.message}`),
        );
    });
    child.on('close', (code, sig) => {
      if (code === 0) return resolve();
      if (signal?.aborted) return reject(new StepError(`${cmd} was cancelled`));
      const tail = stderr().split('\n').slice(-3).join(' | ');
      reject(new StepError(`${cmd} exited ${code ?? sig}${tail ? `: ${tail}` : ''}`));
    });
  });
  return {
    stdout: child.stdout as Readable,
    stdin: child.stdin ?? null,
    done,
    kill: () => {
      child.kill('SIGTERM');
    },
    stderrTail: stderr,
  };
}

export class PsqlSession implements PgSession {
  private readonly lines: AsyncIterator<string>;
  private n = 0;
  constructor(
    private readonly p: PgProcess,
    private readonly stderr: () => string,
  ) {
    this.lines = createInterface({ input: p.stdout })[Symbol.asyncIterator]();
  }
  /** Run one statement; rows as arrays of text fields (unit separator between fields). */
  async query(sql: string): Promise<string[][]> {
    const marker = `__hivectl_end_${++this.n}__`;
    (this.p.stdin as Writable).write(`${sql.trim().replace(/;?$/, ';')}\n\\echo ${marker}\n`);
    const rows: string[][] = [];
    for (;;) {
      const r = await this.lines.next();
      if (r.done) {
        const why = this.stderr().split('\n').slice(-2).join(' | ');
        throw new StepError(
          `psql session ended unexpectedly while running: ${sql.slice(0, 80)}${why ? ` (${why})` : ''}`,
        );
      }
      if (r.value === marker) return rows;
      if (r.value !== '') rows.push(r.value.split('\x1f'));
    }
  }
  async close(): Promise<void> {
    (this.p.stdin as Writable).end('\\q\n');
    await this.p.done.catch(() => {});
  }
}

/**
 * `run` in process when the URL is one the wire client handles exactly as libpq would: a psql child costs
 * a fork of this whole process (~6 ms of our CPU each). Undefined when psql must do it (nothing ran yet).
 */
async function overWire<T>(url: string, run: (p: WireParams) => Promise<T>): Promise<T | undefined> {
  const plan = planConnection(url, process.env);
  if (plan.kind !== 'wire') return undefined;
  try {
    return await run(plan.params);
  } catch (e) {
    if (e instanceof WireUnsupported) return undefined;
    throw e;
  }
}

export function createPg(): Pg {
  return {
    async query(url, sql, signal) {
      const rows = await overWire(url, (p) => wireQuery(p, sql, signal));
      if (rows) return rows;
      // A plain execFile, not execa: a drill runs a dozen of these, and execa's stream plumbing cost
      // several ms of CPU per call on top of the spawn itself.
      const r = await new Promise<{ code: number | string | null; stdout: string; stderr: string; error?: Error }>(
        (resolve) => {
          execFile(
            'psql',
            ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-F', '\x1f', '-d', url, '-c', sql],
            { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...(signal ? { signal } : {}) },
            (error, stdout, stderr) =>
              resolve({
                code: error ? ((error as { code?: number | string }).code ?? 1) : 0,
                stdout,
                stderr,
                ...(error ? { error } : {}),
              }),
          );
        },
      );
      if (r.code !== 0) {
        if (r.code === 'ENOENT') throw new StepError('psql is not installed or not on PATH');
        if (signal?.aborted) throw new StepError('psql was cancelled');
        throw new StepError(`psql: ${r.stderr.trim().split('\n').slice(-2).join(' | ') || r.error?.message}`);
      }
      return r.stdout
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => l.split('\x1f'));
    },
    dump(url, o) {
      const args = ['-Fc', `-Z${o.compress}`, '--no-owner', '-d', url];
      if (o.snapshot) args.push(`--snapshot=${o.snapshot}`);
      return proc('pg_dump', args, false, o.signal);
    },
    restore(url, o) {
      const args = ['--no-owner', '--exit-on-error', '-d', url];
      if (o.clean) args.push('--clean', '--if-exists');
      if (!o.file) return proc('pg_restore', args, true, o.signal);
      if (o.jobs && o.jobs > 1) args.push(`--jobs=${o.jobs}`);
      return proc('pg_restore', [...args, o.file], false, o.signal);
    },
    async session(url) {
      const w = await overWire(url, (p) => WireSession.open(p));
      if (w) return { query: (sql: string) => w.query(sql), close: async () => w.close() };
      const p = proc('psql', ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-F', '\x1f', '-d', url], true);
      p.done.catch(() => {}); // a failure surfaces through query()
      const s = new PsqlSession(p, p.stderrTail ?? (() => ''));
      await s.query('SELECT 1');
      return s;
    },
  };
}
