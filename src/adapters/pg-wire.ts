// A minimal PostgreSQL (protocol v3) client for simple queries (one-off, or a session), so that hivectl's small
// queries cost no fork of the whole process (a psql child costs ~6 ms of our own CPU). It is used only when
// it can connect exactly as libpq would: planConnection() says "psql" for anything it does not fully
// understand (conninfo strings, unix sockets, several hosts, verify-ca, services, client certificates...),
// and connection-time surprises (an auth method we lack, a password psql would prompt for) surface as
// WireUnsupported before the query is sent, so the caller can still run psql instead.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { StepError } from '../core/errors.js';

/** The connection needs something only libpq (psql) does; nothing was executed. */
export class WireUnsupported extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'WireUnsupported';
  }
}

export interface WireParams {
  host: string;
  port: number;
  user: string;
  database: string;
  password?: string;
  /** The pgpass file the password came from (libpq names it when that password is rejected). */
  passwordFile?: string;
  sslmode: 'disable' | 'prefer' | 'require';
  /** libpq's connect_timeout in ms (0: none). */
  connectTimeoutMs: number;
  applicationName: string;
}

export type WirePlan = { kind: 'wire'; params: WireParams } | { kind: 'psql'; reason: string };

/** What planConnection reads from the machine (injectable for tests). */
export interface WireSystem {
  user(): string;
  home(): string;
  exists(path: string): boolean;
  /** A pgpass file: its text, or undefined when absent, not a plain file, or group/other-accessible. */
  readPgpass(path: string): string | undefined;
  /** A Kerberos credential cache is around (libpq would then try GSS encryption first). */
  hasKerberosCache(): boolean;
}

export const nodeSystem: WireSystem = {
  user: () => userInfo().username,
  home: () => homedir(),
  exists: (p) => existsSync(p),
  readPgpass(p) {
    try {
      const st = statSync(p, { throwIfNoEntry: false }); // no exception (and its stack) per query
      // libpq ignores a password file that is not a plain file or that group/others may access.
      if (!st?.isFile() || (st.mode & 0o077) !== 0) return undefined;
      return readFileSync(p, 'utf8');
    } catch {
      return undefined;
    }
  },
  hasKerberosCache: () =>
    Boolean(process.env.KRB5CCNAME) ||
    (typeof process.getuid === 'function' && existsSync(`/tmp/krb5cc_${process.getuid()}`)),
};

// The PG* variables this client honours; PGHOST only matters without a URL host (then psql runs anyway).
const HANDLED_ENV = new Set([
  'PGHOST',
  'PGPORT',
  'PGUSER',
  'PGPASSWORD',
  'PGDATABASE',
  'PGPASSFILE',
  'PGSSLMODE',
  'PGCONNECT_TIMEOUT',
  'PGAPPNAME',
]);
// Set by tools and by our sandbox, never read by libpq.
const NOT_LIBPQ_ENV = new Set(['PGURL', 'PGDATA']);
const URL_PARAMS = new Set(['sslmode', 'connect_timeout', 'application_name']);

/** Whether `url` plus the environment can go through this client, and with which parameters (libpq's defaults). */
export function planConnection(
  url: string,
  env: Record<string, string | undefined>,
  sys: WireSystem = nodeSystem,
): WirePlan {
  const psql = (reason: string): WirePlan => ({ kind: 'psql', reason });
  for (const k of Object.keys(env))
    if (k.startsWith('PG') && env[k] !== undefined && !HANDLED_ENV.has(k) && !NOT_LIBPQ_ENV.has(k))
      return psql(`environment variable ${k}`);
  const uri = parseUri(url);
  if (typeof uri === 'string') return psql(uri);
  const q: Record<string, string> = {};
  for (const [k, v] of uri.params) {
    if (!URL_PARAMS.has(k)) return psql(`URL parameter ${k}`);
    q[k] = v;
  }
  const host = uri.host;
  if (host === '' || host.startsWith('/') || host.includes(',')) return psql('host');
  const portText = uri.port || env.PGPORT || '5432';
  if (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) return psql('port');
  let user = uri.user || env.PGUSER || '';
  try {
    user ||= sys.user();
  } catch {
    return psql('no OS user name');
  }
  const database = uri.database || env.PGDATABASE || user;
  const sslmode = q.sslmode ?? env.PGSSLMODE ?? 'prefer';
  if (sslmode !== 'disable' && sslmode !== 'prefer' && sslmode !== 'require') return psql(`sslmode=${sslmode}`);
  if (sslmode !== 'disable') {
    // With these files libpq verifies the server's certificate or presents a client certificate.
    for (const f of ['root.crt', 'root.crl', 'postgresql.crt', 'postgresql.key'])
      if (sys.exists(join(sys.home(), '.postgresql', f))) return psql(`~/.postgresql/${f}`);
  }
  if (sys.hasKerberosCache()) return psql('Kerberos credential cache (gssencmode=prefer)');
  const timeoutText = q.connect_timeout ?? env.PGCONNECT_TIMEOUT ?? '';
  if (timeoutText !== '' && !/^\s*-?\d+\s*$/.test(timeoutText)) return psql('connect_timeout');
  const t = timeoutText === '' ? 0 : Number(timeoutText);
  const connectTimeoutMs = t <= 0 ? 0 : Math.max(t, 2) * 1000;
  const params: WireParams = {
    host,
    port: Number(portText),
    user,
    database,
    sslmode,
    connectTimeoutMs,
    applicationName: q.application_name ?? env.PGAPPNAME ?? 'hivectl',
  };
  const password = uri.password || env.PGPASSWORD;
  if (password) params.password = password;
  else {
    const file = env.PGPASSFILE || join(sys.home(), '.pgpass');
    const text = sys.readPgpass(file);
    const p = text === undefined ? undefined : pgpassLookup(text, { host, port: portText, database, user });
    if (p !== undefined) {
      params.password = p;
      params.passwordFile = file;
    }
  }
  return { kind: 'wire', params };
}

/**
 * A postgres:// URI split the way libpq splits it (not WHATWG URL: libpq takes no `+` for a space, strips
 * no whitespace, knows no fragment). Every part is percent-decoded. A string means: leave it to psql.
 */
export function parseUri(
  url: string,
):
  | { user: string; password: string; host: string; port: string; database: string; params: [string, string][] }
  | string {
  const m = /^postgres(?:ql)?:\/\/([^/?]*)(?:\/([^?]*))?(?:\?(.*))?$/s.exec(url);
  if (!m) return 'not a postgres:// URL';
  const [, authority = '', path = '', query] = m;
  // libpq looks for the user-info `@` up to the first `/` only; anything unusual is psql's to judge.
  if (/[\s#]/.test(url) || (authority.match(/@/g) ?? []).length > 1) return 'URL libpq must parse';
  const at = authority.indexOf('@');
  const userinfo = at < 0 ? '' : authority.slice(0, at);
  const hostport = authority.slice(at + 1);
  const colon = userinfo.indexOf(':');
  const hp = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(hostport);
  if (!hp) return 'host';
  const params: [string, string][] = [];
  try {
    for (const kv of query ? query.split('&') : []) {
      const eq = kv.indexOf('=');
      if (eq < 0 || kv.indexOf('=', eq + 1) >= 0) return 'URL parameter syntax';
      params.push([decodeURIComponent(kv.slice(0, eq)), decodeURIComponent(kv.slice(eq + 1))]);
    }
    const rawHost = decodeURIComponent(hp[1] ?? '');
    return {
      user: decodeURIComponent(colon < 0 ? userinfo : userinfo.slice(0, colon)),
      password: colon < 0 ? '' : decodeURIComponent(userinfo.slice(colon + 1)),
      host: rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost,
      port: decodeURIComponent(hp[2] ?? ''),
      database: decodeURIComponent(path),
      params,
    };
  } catch {
    return 'URL percent-encoding';
  }
}

/** libpq's pgpass matching: the first line whose four fields match (`*` matches anything), `\` escapes. */
export function pgpassLookup(
  text: string,
  want: { host: string; port: string; database: string; user: string },
): string | undefined {
  const wanted = [want.host, want.port, want.database, want.user];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/\r$/, '');
    if (line === '' || line.startsWith('#')) continue;
    const fields: string[] = [];
    const wild: boolean[] = [];
    let cur = '';
    for (let i = 0; i < line.length; i++) {
      const c = line[i] as string;
      if (c === '\\' && i + 1 < line.length) cur += line[++i];
      else if (c === ':') {
        fields.push(cur);
        cur = '';
        if (fields.length === 5) break; // the password ends at its first unescaped ':'
      } else cur += c;
    }
    if (fields.length < 4) continue;
    if (fields.length === 4) fields.push(cur);
    // A field is a wildcard only when it is exactly an unescaped `*`.
    for (let f = 0, start = 0; f < 4; f++) {
      const end = nextSep(line, start);
      wild.push(line.slice(start, end) === '*');
      start = end + 1;
    }
    // An empty password counts as none, as in libpq.
    if (wanted.every((w, i) => wild[i] || fields[i] === w)) return fields[4] || undefined;
  }
  return undefined;
}

function nextSep(line: string, from: number): number {
  for (let i = from; i < line.length; i++) {
    if (line[i] === '\\') i++;
    else if (line[i] === ':') return i;
  }
  return line.length;
}

// ------------------------------------------------------------------ SCRAM-SHA-256 (RFC 5802 / 7677)

const hmac = (key: Buffer, data: string | Buffer) => createHmac('sha256', key).update(data).digest();
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();

/** client-first-message-bare (PostgreSQL sends an empty user name: the startup message names the role). */
export function scramClientFirstBare(user: string, clientNonce: string): string {
  return `n=${user.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${clientNonce}`;
}

/** client-final-message and the server signature it must answer with. The GS2 header is `n,,`: no channel binding. */
export function scramClientFinal(o: {
  password: string;
  clientFirstBare: string;
  serverFirst: string;
  clientNonce: string;
}): { message: string; serverSignature: string } {
  const attrs = new Map(o.serverFirst.split(',').map((kv) => [kv.slice(0, 1), kv.slice(2)] as const));
  const nonce = attrs.get('r') ?? '';
  const salt = Buffer.from(attrs.get('s') ?? '', 'base64');
  const iterations = Number(attrs.get('i'));
  if (!nonce.startsWith(o.clientNonce) || nonce.length === o.clientNonce.length || !salt.length || !(iterations > 0))
    throw new StepError('invalid SCRAM message from the server');
  const salted = pbkdf2Sync(o.password, salt, iterations, 32, 'sha256');
  const clientKey = hmac(salted, 'Client Key');
  const withoutProof = `c=${Buffer.from('n,,').toString('base64')},r=${nonce}`;
  const authMessage = `${o.clientFirstBare},${o.serverFirst},${withoutProof}`;
  const clientSig = hmac(sha256(clientKey), authMessage);
  const proof = Buffer.from(clientKey.map((b, i) => b ^ (clientSig[i] as number)));
  const serverSig = hmac(hmac(salted, 'Server Key'), authMessage);
  return { message: `${withoutProof},p=${proof.toString('base64')}`, serverSignature: serverSig.toString('base64') };
}

// ------------------------------------------------------------------ the protocol

function msg(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}
const cstr = (s: string) => Buffer.from(`${s}\0`, 'utf8');
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

/** ErrorResponse / NoticeResponse fields by their one-letter code. */
function fields(body: Buffer): Map<string, string> {
  const m = new Map<string, string>();
  let i = 0;
  while (i < body.length && body[i] !== 0) {
    const code = String.fromCharCode(body[i] as number);
    const end = body.indexOf(0, i + 1);
    m.set(code, body.toString('utf8', i + 1, end));
    i = end + 1;
  }
  return m;
}

/** How psql prints a server error: `ERROR:  message`, then DETAIL and HINT. */
export function formatServerError(f: Map<string, string>): string {
  const sev = f.get('S') ?? 'ERROR';
  const parts = [`${sev}:  ${f.get('M') ?? ''}`];
  if (f.get('D')) parts.push(`DETAIL:  ${f.get('D')}`);
  if (f.get('H')) parts.push(`HINT:  ${f.get('H')}`);
  return parts.join(' | ');
}

/** Splits the byte stream into (type, body) messages; byte() reads the one-byte answer to SSLRequest. */
class Reader {
  private buf: Buffer = Buffer.alloc(0);
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private waiters: (() => void)[] = [];
  private ended: Error | undefined;
  private rejectFailed: (e: Error) => void = () => {};
  /** Rejects with the first failure (socket error or close, abort, timeout). */
  readonly failed: Promise<never>;
  constructor(private sock: Socket) {
    this.failed = new Promise<never>((_, reject) => {
      this.rejectFailed = reject;
    });
    this.failed.catch(() => {});
    this.attach(sock);
  }
  attach(sock: Socket) {
    this.sock = sock;
    sock.on('data', (d: Buffer) => {
      this.pending.push(d);
      this.pendingBytes += d.length;
      this.wake();
    });
    sock.on('close', () => this.fail(new Error('closed')));
    sock.on('error', (e) => this.fail(e));
  }
  fail(e: Error) {
    this.ended ??= e;
    this.rejectFailed(this.ended);
    this.wake();
  }
  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }
  private async need(n: number): Promise<void> {
    // Chunks are joined only once enough arrived: a large message costs one copy, not one per chunk.
    while (this.buf.length + this.pendingBytes < n) {
      if (this.ended) throw this.ended;
      await new Promise<void>((r) => this.waiters.push(r));
    }
    if (this.buf.length < n) {
      this.buf = Buffer.concat([this.buf, ...this.pending.splice(0)]);
      this.pendingBytes = 0;
    }
  }
  async byte(): Promise<string> {
    await this.need(1);
    const c = String.fromCharCode(this.buf[0] as number);
    this.buf = this.buf.subarray(1);
    return c;
  }
  async next(): Promise<{ type: string; body: Buffer }> {
    await this.need(5);
    const len = this.buf.readInt32BE(1);
    await this.need(1 + len);
    const type = String.fromCharCode(this.buf[0] as number);
    const body = this.buf.subarray(5, 1 + len);
    this.buf = this.buf.subarray(1 + len);
    return { type, body };
  }
  get socket() {
    return this.sock;
  }
}

const errnoText: Record<string, string> = {
  ECONNREFUSED: 'Connection refused',
  ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  ECONNRESET: 'Connection reset by peer',
};

/**
 * One connection, queries in turn (simple query protocol). open() throws WireUnsupported (nothing
 * executed: run psql instead) or StepError (what psql would have failed to connect with); query()
 * returns the rows of every result set in order, fields as text (NULL as '', like `psql -A`).
 */
export class WireSession {
  private last: Promise<unknown> = Promise.resolve();
  private constructor(
    private readonly s: Socket,
    private readonly reader: Reader,
  ) {}

  static async open(p: WireParams, signal?: AbortSignal): Promise<WireSession> {
    if (signal?.aborted) throw new StepError('the query was cancelled');
    let where = `connection to server at "${p.host}", port ${p.port} failed: `;
    const sock = netConnect({ host: p.host, port: p.port });
    sock.on('lookup', (_e, address) => {
      // libpq names the address too when the host is a name.
      if (address && !isIP(p.host)) where = `connection to server at "${p.host}" (${address}), port ${p.port} failed: `;
    });
    const reader = new Reader(sock);
    let preferredTls = false; // sslmode=prefer got TLS: libpq retries without it after any startup failure
    let timedOut = false;
    const onAbort = () => reader.fail(new StepError('the query was cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer =
      p.connectTimeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            reader.fail(new StepError(`${where}timeout expired`));
          }, p.connectTimeoutMs)
        : undefined;
    try {
      await Promise.race([new Promise((resolve) => sock.once('connect', resolve)), reader.failed]);
      sock.setNoDelay(true);
      sock.setKeepAlive(true);
      let s: Socket = sock;
      if (p.sslmode !== 'disable') {
        s.write(Buffer.concat([int32(8), int32(80877103)]));
        const answer = await reader.byte();
        if (answer === 'S') {
          s = await Promise.race([startTls(s, p.host), reader.failed]);
          reader.attach(s);
          preferredTls = p.sslmode === 'prefer';
        } else if (answer === 'N') {
          if (p.sslmode === 'require') throw new StepError(`${where}server does not support SSL, but SSL was required`);
        } else throw new StepError(`${where}received invalid response to SSL negotiation: ${answer}`);
      }
      const startup = Buffer.concat([
        int32(196608),
        ...[
          ['user', p.user],
          ['database', p.database],
          ['application_name', p.applicationName],
          ['client_encoding', 'UTF8'],
        ].flatMap(([k, v]) => [cstr(k as string), cstr(v as string)]),
        Buffer.from([0]),
      ]);
      s.write(Buffer.concat([int32(startup.length + 4), startup]));
      await authenticate(p, s, reader, where);
      // Until ReadyForQuery: ParameterStatus, BackendKeyData, or a FATAL ErrorResponse (no such database...).
      for (;;) {
        const m = await reader.next();
        if (m.type === 'Z') break;
        if (m.type === 'E') throw new StepError(`${where}${formatServerError(fields(m.body))}`);
      }
      if (signal?.aborted) throw new StepError('the query was cancelled');
      return new WireSession(s, reader);
    } catch (e) {
      reader.socket.destroy();
      sock.destroy();
      if (preferredTls && !timedOut && !signal?.aborted)
        throw new WireUnsupported(`over TLS (sslmode=prefer) the connection failed: ${(e as Error).message}`);
      if (e instanceof StepError || e instanceof WireUnsupported) throw e;
      if (signal?.aborted) throw new StepError('the query was cancelled');
      const code = (e as NodeJS.ErrnoException).code ?? '';
      if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
        throw new StepError(
          `could not translate host name "${p.host}" to address: ${code === 'EAI_AGAIN' ? 'Temporary failure in name resolution' : 'Name or service not known'}`,
        );
      if (code in errnoText) throw new StepError(`${where}${errnoText[code]}`);
      throw new StepError(`${where}server closed the connection unexpectedly (${(e as Error).message})`);
    } finally {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** One statement (or several in one string); queries of one session run one after another. */
  query(sql: string, signal?: AbortSignal): Promise<string[][]> {
    const run = this.last.then(() => this.exec(sql, signal));
    this.last = run.catch(() => {});
    return run;
  }

  private async exec(sql: string, signal?: AbortSignal): Promise<string[][]> {
    if (signal?.aborted) throw new StepError('the query was cancelled');
    const { s, reader } = this;
    let error: string | undefined;
    const rows: string[][] = [];
    const onAbort = () => reader.fail(new StepError('the query was cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      s.write(msg('Q', cstr(sql)));
      let copyText = '';
      for (;;) {
        const m = await reader.next();
        if (m.type === 'D') rows.push(dataRow(m.body));
        else if (m.type === 'E') error = formatServerError(fields(m.body));
        else if (m.type === 'd') copyText += m.body.toString('utf8');
        else if (m.type === 'G') s.write(msg('f', cstr('COPY FROM STDIN is not supported')));
        else if (m.type === 'c') {
          // psql writes COPY TO STDOUT data as is; the psql path then splits it into lines and fields.
          for (const l of copyText.split('\n')) if (l !== '') rows.push(l.split('\x1f'));
          copyText = '';
        } else if (m.type === 'Z') break;
      }
    } catch (e) {
      // The connection is unusable (closed, cancelled mid-query): drop it, as a killed psql would.
      s.destroy();
      if (e instanceof StepError) throw e;
      if (signal?.aborted) throw new StepError('the query was cancelled');
      // A FATAL error (terminated by an administrator...) arrives just before the server closes.
      if (error) throw new StepError(error);
      const code = (e as NodeJS.ErrnoException).code ?? '';
      throw new StepError(`server closed the connection unexpectedly (${errnoText[code] ?? (e as Error).message})`);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    // An ErrorResponse followed by ReadyForQuery: the statement failed, the connection is fine.
    if (error) throw new StepError(error);
    return rows;
  }

  /** Terminate and close (a failed connection is just closed). */
  close(): void {
    if (this.s.destroyed) return;
    this.s.end(msg('X', Buffer.alloc(0)));
  }
}

/** Run one simple query on a connection of its own (see WireSession). */
export async function wireQuery(p: WireParams, sql: string, signal?: AbortSignal): Promise<string[][]> {
  const c = await WireSession.open(p, signal);
  try {
    return await c.query(sql, signal);
  } finally {
    c.close();
  }
}

function dataRow(body: Buffer): string[] {
  const n = body.readInt16BE(0);
  const row: string[] = [];
  let i = 2;
  for (let f = 0; f < n; f++) {
    const len = body.readInt32BE(i);
    i += 4;
    if (len < 0) row.push('');
    else {
      row.push(body.toString('utf8', i, i + len));
      i += len;
    }
  }
  return row;
}

/** TLS as libpq's sslmode=prefer/require does it without a root certificate: encrypted, not verified; SNI for names. */
function startTls(sock: Socket, host: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    sock.removeAllListeners('data');
    const t = tlsConnect({
      socket: sock,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      ...(isIP(host) ? {} : { servername: host }),
    });
    t.once('secureConnect', () => {
      t.removeListener('error', reject);
      resolve(t);
    });
    t.once('error', reject);
  });
}

async function authenticate(p: WireParams, s: Socket, reader: Reader, where: string): Promise<void> {
  const password = () => {
    // psql would prompt for it on the terminal: leave that to psql.
    if (p.password === undefined) throw new WireUnsupported('the server asks for a password');
    return p.password;
  };
  for (;;) {
    const m = await reader.next();
    if (m.type === 'E') {
      const f = fields(m.body);
      const fromFile =
        f.get('C') === '28P01' && p.passwordFile ? ` | password retrieved from file "${p.passwordFile}"` : '';
      throw new StepError(`${where}${formatServerError(f)}${fromFile}`);
    }
    if (m.type === 'v' || m.type === 'N') continue; // NegotiateProtocolVersion, a notice
    if (m.type !== 'R')
      throw new StepError(`${where}expected authentication request from server, but received ${m.type}`);
    const code = m.body.readInt32BE(0);
    if (code === 0) return;
    if (code === 3) s.write(msg('p', cstr(password())));
    else if (code === 5) {
      const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
      const inner = md5(Buffer.concat([Buffer.from(password(), 'utf8'), Buffer.from(p.user, 'utf8')]));
      s.write(msg('p', cstr(`md5${md5(Buffer.concat([Buffer.from(inner), m.body.subarray(4, 8)]))}`)));
    } else if (code === 10) await scram(m.body.subarray(4), password, s, reader, where);
    else throw new WireUnsupported(`authentication method ${code}`);
  }
}

async function scram(mechs: Buffer, password: () => string, s: Socket, reader: Reader, where: string): Promise<void> {
  if (!mechs.toString('utf8').split('\0').includes('SCRAM-SHA-256')) throw new WireUnsupported('SASL mechanisms');
  const pw = password();
  // libpq runs SASLprep over the password; for ASCII that changes nothing, otherwise let libpq do it.
  if (!/^[\x20-\x7e]*$/.test(pw)) throw new WireUnsupported('a non-ASCII password needs SASLprep');
  const clientNonce = randomBytes(18).toString('base64');
  const clientFirstBare = scramClientFirstBare('', clientNonce);
  const first = Buffer.from(`n,,${clientFirstBare}`);
  s.write(msg('p', Buffer.concat([cstr('SCRAM-SHA-256'), int32(first.length), first])));
  const cont = await expectAuth(reader, 11, where);
  const final = scramClientFinal({ password: pw, clientFirstBare, serverFirst: cont.toString('utf8'), clientNonce });
  s.write(msg('p', Buffer.from(final.message)));
  const fin = (await expectAuth(reader, 12, where)).toString('utf8');
  const v = Buffer.from(fin.startsWith('v=') ? fin.slice(2) : '', 'base64');
  const want = Buffer.from(final.serverSignature, 'base64');
  if (v.length !== want.length || !timingSafeEqual(v, want)) throw new StepError(`${where}incorrect server signature`);
}

async function expectAuth(reader: Reader, code: number, where: string): Promise<Buffer> {
  for (;;) {
    const m = await reader.next();
    if (m.type === 'N') continue;
    if (m.type === 'E') throw new StepError(`${where}${formatServerError(fields(m.body))}`);
    if (m.type === 'R' && m.body.readInt32BE(0) === code) return m.body.subarray(4);
    throw new StepError(`${where}unexpected message during SCRAM authentication`);
  }
}
