// PostgreSQL through its own tools (pg_dump, pg_restore, psql) as child processes: the dump streams
// through stdout; a restore reads stdin or (for pg_restore -j) a local dump file. A PsqlSession keeps one transaction open so
// that pg_dump (--snapshot) and the row checksums read the very same snapshot.
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { execa } from 'execa';
import { StepError } from '../core/errors.js';

export interface PgProcess {
  stdout: Readable;
  stdin: Writable | null;
  /** Resolves when the process exits 0; rejects with its stderr tail otherwise. */
  done: Promise<void>;
  kill(): void;
}

export interface Pg {
  query(url: string, sql: string, signal?: AbortSignal): Promise<string[][]>;
  dump(url: string, opts: { compress: number; snapshot?: string; signal?: AbortSignal }): PgProcess;
  /** From stdin, or with `file` from that local dump file (needed for `jobs` > 1: pg_restore -j seeks). */
  restore(url: string, opts: { clean: boolean; signal?: AbortSignal; jobs?: number; file?: string }): PgProcess;
  session(url: string): Promise<PsqlSession>;
}

function proc(cmd: string, args: string[], stdin: boolean, signal?: AbortSignal): PgProcess {
  const p = execa(cmd, args, {
    stdin: stdin ? 'pipe' : 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: { stdout: false, stderr: true },
    encoding: 'buffer',
    reject: false,
    cancelSignal: signal,
    // PGPASSWORD etc. come from the URL or the environment the user gave us.
    extendEnv: true,
  });
  const done = p.then((r) => {
    if (r.exitCode === 0) return;
    if ((r as { code?: string }).code === 'ENOENT' || /ENOENT/.test(String(r.message)))
      throw new StepError(`${cmd} is not installed or not on PATH`, {
        hint: `install the PostgreSQL client tools (${cmd})`,
      });
    const tail = Buffer.from(r.stderr as unknown as Uint8Array)
      .toString('utf8')
      .trim()
      .split('\n')
      .slice(-3)
      .join(' | ');
    if (r.isCanceled) throw new StepError(`${cmd} was cancelled`);
    throw new StepError(`${cmd} exited ${r.exitCode ?? r.signal}${tail ? `: ${tail}` : ''}`);
  });
  return { stdout: p.stdout!, stdin: p.stdin ?? null, done, kill: () => p.kill('SIGTERM') };
}

export class PsqlSession {
  private readonly lines: AsyncIterator<string>;
  private n = 0;
  constructor(private readonly p: ReturnType<typeof execa>) {
    this.lines = createInterface({ input: p.stdout as Readable })[Symbol.asyncIterator]();
  }
  /** Run one statement; rows as arrays of text fields (unit separator between fields). */
  async query(sql: string): Promise<string[][]> {
    const marker = `__hivectl_end_${++this.n}__`;
    (this.p.stdin as Writable).write(`${sql.trim().replace(/;?$/, ';')}\n\\echo ${marker}\n`);
    const rows: string[][] = [];
    for (;;) {
      const r = await this.lines.next();
      if (r.done) throw new StepError(`psql session ended unexpectedly while running: ${sql.slice(0, 80)}`);
      if (r.value === marker) return rows;
      if (r.value !== '') rows.push(r.value.split('\x1f'));
    }
  }
  async close(): Promise<void> {
    (this.p.stdin as Writable).end('\\q\n');
    await this.p.catch(() => {});
  }
}

export function createPg(): Pg {
  return {
    async query(url, sql, signal) {
      const r = await execa(
        'psql',
        ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-F', '\x1f', '-d', url, '-c', sql],
        {
          reject: false,
          cancelSignal: signal,
          encoding: 'utf8',
        },
      );
      if (r.exitCode !== 0) {
        if ((r as { code?: string }).code === 'ENOENT') throw new StepError('psql is not installed or not on PATH');
        throw new StepError(`psql: ${String(r.stderr).trim().split('\n').slice(-2).join(' | ') || r.message}`);
      }
      return String(r.stdout)
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
      const p = execa('psql', ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-F', '\x1f', '-d', url], {
        stdin: 'pipe',
        stdout: 'pipe',
        stderr: 'pipe',
        buffer: false,
        reject: false,
        encoding: 'utf8',
      });
      const s = new PsqlSession(p);
      await s.query('SELECT 1');
      return s;
    },
  };
}
