// Process and port plumbing for the local sandbox (src/sandbox/): free ports, health probes,
// long-lived detached servers, and builds whose output is streamed line by line. Kept here because
// only adapters may spawn processes or open sockets.
import { spawn as cpSpawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { StepError } from '../core/errors.js';

export { run, which } from './exec.js';

/** A TCP port that nothing listens on right now (on 127.0.0.1). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** HTTP status of a GET, or undefined when nothing answers. */
export async function httpStatus(url: string, timeoutMs = 2000): Promise<number | undefined> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await r.arrayBuffer();
    return r.status;
  } catch {
    return undefined;
  }
}

/** Redis PING over a raw socket (no client library needed): true on +PONG. */
export function redisPing(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    let buf = '';
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
    s.once('error', () => done(false));
  });
}

/** Whether a pid is alive (signal 0); zombies and reused pids are the caller's concern (see cmdline). */
export function pidAlive(pid: number | undefined): boolean {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // A zombie (exited, not reaped) is not running.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return true;
  }
}

/** The command line of a pid, joined with spaces ('' when unknown). */
export function pidCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** Resident memory of a pid in bytes (0 when unknown). */
export function pidRss(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Start a server that outlives this process: its own session, stdout+stderr appended to logFile,
 * no stdin. Returns its pid.
 */
export function spawnDetached(
  cmd: string,
  args: readonly string[],
  o: { logFile: string; cwd?: string; env?: Record<string, string | undefined> },
): number {
  const fd = openSync(o.logFile, 'a');
  try {
    const child = cpSpawn(cmd, [...args], {
      cwd: o.cwd,
      env: { ...process.env, ...o.env },
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    child.on('error', () => {});
    child.unref();
    if (!child.pid) throw new StepError(`could not start ${cmd}`, { hint: `check that ${cmd} exists and runs` });
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** SIGTERM a pid, wait up to timeoutMs for it to go, then SIGKILL. */
export async function stopPid(pid: number, timeoutMs = 10_000): Promise<void> {
  if (!pidAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!pidAlive(pid)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

/**
 * Run a command to completion, calling onLine for every line of stdout/stderr (builds print their
 * progress this way). Throws StepError with the output's tail on a non-zero exit.
 */
export function runStreaming(
  cmd: string,
  args: readonly string[],
  o: { cwd?: string; env?: Record<string, string | undefined>; onLine?: (line: string) => void; signal?: AbortSignal },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = cpSpawn(cmd, [...args], {
      cwd: o.cwd,
      env: { ...process.env, ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: o.signal,
    });
    const tail: string[] = [];
    const feed = (stream: NodeJS.ReadableStream) => {
      let rest = '';
      stream.on('data', (d: Buffer) => {
        const lines = (rest + d.toString()).split('\n');
        rest = lines.pop() ?? '';
        for (const l of lines) {
          tail.push(l);
          if (tail.length > 20) tail.shift();
          o.onLine?.(l);
        }
      });
    };
    feed(child.stdout!);
    feed(child.stderr!);
    child.on('error', (e) =>
      reject(
        new StepError(`${cmd}: ${e.message}`, {
          hint: (e as NodeJS.ErrnoException).code === 'ENOENT' ? `install ${cmd}` : undefined,
        }),
      ),
    );
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new StepError(`${cmd} ${args.join(' ')} exited ${code}:\n${tail.join('\n')}`));
    });
  });
}
