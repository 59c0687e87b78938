// A tiny Redis client (RESP2 over node:net): just what hivectl needs to read and seed the agents'
// task queue. No dependency; one connection, commands answered in order.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { StepError } from '../core/errors.js';

export type RespValue = string | number | null | RespValue[] | Error;

export interface Redis {
  ping(): Promise<string>;
  llen(key: string): Promise<number>;
  rpush(key: string, ...values: string[]): Promise<number>;
  lrange(key: string, start: number, stop: number): Promise<string[]>;
  del(...keys: string[]): Promise<number>;
  command(...args: string[]): Promise<RespValue>;
  quit(): Promise<void>;
}

function encode(args: string[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.from(a, 'utf8');
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Parse one RESP value from buf at offset; undefined when incomplete. */
export function parseResp(buf: Buffer, offset = 0): { value: RespValue; next: number } | undefined {
  const eol = buf.indexOf('\r\n', offset);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[offset] as number);
  const line = buf.toString('utf8', offset + 1, eol);
  const after = eol + 2;
  switch (type) {
    case '+':
      return { value: line, next: after };
    case '-':
      return { value: new Error(line), next: after };
    case ':':
      return { value: Number(line), next: after };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, next: after };
      if (buf.length < after + len + 2) return undefined;
      return { value: buf.toString('utf8', after, after + len), next: after + len + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, next: after };
      const items: RespValue[] = [];
      let pos = after;
      for (let i = 0; i < n; i++) {
        const r = parseResp(buf, pos);
        if (!r) return undefined;
        items.push(r.value);
        pos = r.next;
      }
      return { value: items, next: pos };
    }
    default:
      throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
  }
}

/** Connect to redis://[user:pass@]host:port[/db] (rediss:// for TLS). */
export async function connectRedis(url: string, o: { timeoutMs?: number } = {}): Promise<Redis> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new StepError(`not a Redis URL: ${url.replace(/:[^:@/]*@/, ':***@')}`, {
      hint: 'use redis://host:port[/db]',
    });
  }
  const host = u.hostname || '127.0.0.1';
  const port = Number(u.port || 6379);
  const where = `${host}:${port}`;
  const sock: Socket = await new Promise((resolve, reject) => {
    const s = u.protocol === 'rediss:' ? tlsConnect({ host, port, servername: host }) : netConnect({ host, port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new StepError(`cannot reach Redis at ${where}: no answer in ${o.timeoutMs ?? 5000} ms`));
    }, o.timeoutMs ?? 5000);
    s.once(u.protocol === 'rediss:' ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(
        new StepError(`cannot reach Redis at ${where}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, {
          hint: 'check redis.url in hivectl.yaml (or REDIS_URL) and that Redis is up',
          cause: e,
        }),
      );
    });
  });
  let buf = Buffer.alloc(0);
  const waiting: { resolve(v: RespValue): void; reject(e: Error): void }[] = [];
  sock.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      const r = parseResp(buf);
      if (!r) break;
      buf = buf.subarray(r.next);
      const w = waiting.shift();
      if (w) w.resolve(r.value);
    }
  });
  const fail = (e: Error) => {
    for (const w of waiting.splice(0)) w.reject(e);
  };
  sock.on('error', (e) => fail(new StepError(`Redis at ${where}: ${e.message}`, { cause: e })));
  sock.on('close', () => fail(new StepError(`Redis at ${where} closed the connection`)));

  const command = (...args: string[]): Promise<RespValue> =>
    new Promise((resolve, reject) => {
      // A connection kept for several reads may have been closed since: no reply would ever come.
      if (sock.destroyed) return reject(new StepError(`Redis at ${where} closed the connection`));
      waiting.push({
        resolve: (v) => (v instanceof Error ? reject(new StepError(`Redis ${args[0]}: ${v.message}`)) : resolve(v)),
        reject,
      });
      sock.write(encode(args));
    });

  if (u.password)
    await command(
      ...(u.username ? ['AUTH', decodeURIComponent(u.username)] : ['AUTH']),
      decodeURIComponent(u.password),
    );
  const db = u.pathname.replace(/^\//, '');
  if (db && db !== '0') await command('SELECT', db);

  return {
    command,
    ping: async () => String(await command('PING')),
    llen: async (key) => Number(await command('LLEN', key)),
    rpush: async (key, ...values) => Number(await command('RPUSH', key, ...values)),
    lrange: async (key, start, stop) => (await command('LRANGE', key, String(start), String(stop))) as string[],
    del: async (...keys) => Number(await command('DEL', ...keys)),
    quit: async () => {
      try {
        await command('QUIT');
      } catch {
        /* already closed */
      }
      sock.destroy();
    },
  };
}

/** Short name used by callers that seed or read the queue: `connect(url)`. */
export const connect = connectRedis;
