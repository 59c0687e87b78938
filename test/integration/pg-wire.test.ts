// The in-process PostgreSQL client against the sandbox's real server: it returns what psql returns (and the
// right thing where psql's line format cannot), fails like psql, honours cancellation, and authenticates
// with SCRAM, md5 and cleartext passwords from the URL, PGPASSWORD or a pgpass file.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPg } from '../../src/adapters/pg.js';
import {
  planConnection,
  type WireParams,
  WireSession,
  WireUnsupported,
  wireQuery,
} from '../../src/adapters/pg-wire.js';
import { ExitCode, StepError } from '../../src/core/errors.js';
import { createDatabase, psql, sandbox, uniqueName } from '../helpers/sandbox.js';

const pg = createPg();
/** A libpq-only URL parameter that changes nothing for one server: the adapter then runs psql. */
const viaPsql = (url: string) => `${url}${url.includes('?') ? '&' : '?'}target_session_attrs=any`;

function params(url: string, env: Record<string, string | undefined> = process.env): WireParams {
  const p = planConnection(url, env);
  if (p.kind !== 'wire') throw new Error(`expected the wire client, planConnection said psql: ${p.reason}`);
  return p.params;
}

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

let db: string;
let dir: string;
beforeAll(async () => {
  db = await createDatabase(uniqueName('pgwire').replace(/-/g, '_'));
  dir = mkdtempSync(join(tmpdir(), 'pgwire-'));
  await psql(
    `CREATE TABLE t (id int PRIMARY KEY, n numeric, s text, b boolean, ts timestamptz, j jsonb, a int[], by bytea);
     INSERT INTO t VALUES
       (1, 3.14, 'plain', true, '2026-01-02 03:04:05+00', '{"k": [1, 2]}', '{1,2,3}', '\\xdeadbeef'),
       (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
       (3, -1e20, 'ünïcödé ✓ 日本', false, 'infinity', '"x"', '{}', '\\x');`,
    db,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pg-wire against the sandbox PostgreSQL', () => {
  it('gives the same rows as psql: types, NULLs, several rows, several statements, empty results', async () => {
    expect(planConnection(db, process.env).kind).toBe('wire');
    expect(planConnection(viaPsql(db), process.env).kind).toBe('psql');
    for (const sql of [
      'SELECT * FROM t ORDER BY id',
      'SELECT id, s FROM t WHERE id > 100',
      'SELECT 1; SELECT 2, 3',
      "SELECT current_setting('server_encoding'), 1::bigint << 40, 1.5::float8, interval '1 day 2 hours'",
      'CREATE TEMP TABLE x (i int)',
    ]) {
      const wire = await wireQuery(params(db), sql);
      expect(wire, sql).toEqual(await pg.query(viaPsql(db), sql));
    }
    expect(await wireQuery(params(db), 'SELECT * FROM t WHERE id = 2')).toEqual([['2', '', '', '', '', '', '', '']]);
    // a large value spans many socket reads; many rows arrive in one
    const [[big]] = (await wireQuery(params(db), "SELECT repeat('ab', 3000000)")) as [[string]];
    expect(big.length).toBe(6_000_000);
    const many = await wireQuery(params(db), 'SELECT g, g * 2 FROM generate_series(1, 50000) g');
    expect(many.length).toBe(50_000);
    expect(many[49_999]).toEqual(['50000', '100000']);
    expect(await wireQuery(params(db), "SELECT current_setting('application_name')")).toEqual([['hivectl']]);
  });

  it('keeps a newline and the unit separator inside a value (where psql output splits them)', async () => {
    const sql = `SELECT E'a\\nb', E'c\\x1fd'`;
    expect(await wireQuery(params(db), sql)).toEqual([['a\nb', 'c\x1fd']]);
    expect(await pg.query(viaPsql(db), sql)).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('creates and drops a database through createPg().query', async () => {
    const name = uniqueName('pgwire_new').replace(/-/g, '_');
    await pg.query(db, `CREATE DATABASE "${name}"`);
    expect(await psql(`SELECT count(*) FROM pg_database WHERE datname = '${name}'`)).toBe('1');
    await pg.query(db, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    expect(await psql(`SELECT count(*) FROM pg_database WHERE datname = '${name}'`)).toBe('0');
    expect(await pg.query(db, 'SELECT count(*) FROM t')).toEqual([['3']]);
  });

  it('fails on an SQL error with what psql prints, as a step failure', async () => {
    const e = await failure(pg.query(db, 'SELECT * FROM no_such_table_here'));
    expect(e).toBeInstanceOf(StepError);
    expect((e as StepError).exitCode).toBe(ExitCode.stepFailed);
    expect(e.message).toBe('ERROR:  relation "no_such_table_here" does not exist');
    // the psql path fails too (its message is the tail of psql's stderr)
    const viaTool = await failure(pg.query(viaPsql(db), 'SELECT * FROM no_such_table_here'));
    expect(viaTool).toBeInstanceOf(StepError);
    expect(viaTool.message).toMatch(/^psql: /);
    // a failing statement stops the rest, like psql's ON_ERROR_STOP
    const d = await failure(pg.query(db, 'SELECT 1/0'));
    expect(d.message).toBe('ERROR:  division by zero');
  });

  it('says what libpq says for a port nobody listens on, a missing database and a required SSL', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const a = srv.address() as { port: number };
        srv.close(() => resolve(a.port));
      });
    });
    const e = await failure(pg.query(`postgres://hive@127.0.0.1:${port}/postgres`, 'SELECT 1'));
    expect(e).toBeInstanceOf(StepError);
    expect(e.message).toBe(`connection to server at "127.0.0.1", port ${port} failed: Connection refused`);
    const u = new URL(db);
    const missing = await failure(pg.query(`postgres://hive@127.0.0.1:${u.port}/no_such_db_here`, 'SELECT 1'));
    expect(missing.message).toBe(
      `connection to server at "127.0.0.1", port ${u.port} failed: FATAL:  database "no_such_db_here" does not exist`,
    );
    // the sandbox server has no TLS: prefer goes plain, require fails like psql does
    const ssl = await failure(pg.query(`${db}?sslmode=require`, 'SELECT 1'));
    expect(ssl.message).toBe(
      `connection to server at "127.0.0.1", port ${u.port} failed: server does not support SSL, but SSL was required`,
    );
    const sslTool = await failure(pg.query(viaPsql(`${db}?sslmode=require`), 'SELECT 1'));
    expect(sslTool.message).toContain('server does not support SSL, but SSL was required');
  });

  it('rejects promptly when the signal is cancelled', async () => {
    const ac = new AbortController();
    const q = pg.query(db, 'SELECT pg_sleep(5)', ac.signal);
    setTimeout(() => ac.abort(), 200);
    const e = await failure(q);
    expect(e).toBeInstanceOf(StepError);
    expect(e.message).toMatch(/cancelled/);
    const already = await failure(pg.query(db, 'SELECT 1', AbortSignal.abort()));
    expect(already.message).toMatch(/cancelled/);
  });
});

describe('pg-wire password authentication (pg_hba.conf: scram-sha-256, md5, password roles)', () => {
  const roles = [
    { role: 'hive_scram', encryption: 'scram-sha-256', password: 'scr@m:pw/1' },
    { role: 'hive_md5', encryption: 'md5', password: 'md5-pw' },
    { role: 'hive_cleartext', encryption: 'scram-sha-256', password: 'clear pw' },
  ];
  const roleUrl = (role: string, password?: string) => {
    const u = new URL(db);
    u.username = role;
    u.password = password === undefined ? '' : encodeURIComponent(password);
    return u.toString();
  };

  beforeAll(async () => {
    for (const r of roles)
      await psql(
        `DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${r.role}') THEN CREATE ROLE ${r.role} LOGIN; END IF; END$$;
         SET password_encryption = '${r.encryption}';
         ALTER ROLE ${r.role} LOGIN PASSWORD '${r.password}';`,
      );
  });

  for (const r of roles)
    it(`${r.role}: the password from the URL, PGPASSWORD or a pgpass file; a wrong one is refused`, async () => {
      const who = 'SELECT current_user';
      expect(await wireQuery(params(roleUrl(r.role, r.password)), who)).toEqual([[r.role]]);
      // psql agrees with the same URL
      expect(await pg.query(viaPsql(roleUrl(r.role, r.password)), who)).toEqual([[r.role]]);
      expect(await wireQuery(params(roleUrl(r.role), { PGPASSWORD: r.password }), who)).toEqual([[r.role]]);

      const u = new URL(db);
      const file = join(dir, `pgpass-${r.role}`);
      const escaped = r.password.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
      writeFileSync(file, `127.0.0.1:${u.port}:${u.pathname.slice(1)}:${r.role}:${escaped}\n`, { mode: 0o600 });
      chmodSync(file, 0o600);
      const fromFile = params(roleUrl(r.role), { PGPASSFILE: file });
      expect(fromFile.password).toBe(r.password);
      expect(await wireQuery(fromFile, who)).toEqual([[r.role]]);
      // a group-readable file is ignored, as libpq does: no password, so psql (which may prompt) takes over
      chmodSync(file, 0o640);
      const ignored = params(roleUrl(r.role), { PGPASSFILE: file });
      expect(ignored.password).toBeUndefined();
      expect(await failure(wireQuery(ignored, who))).toBeInstanceOf(WireUnsupported);

      const wrong = await failure(wireQuery(params(roleUrl(r.role, 'not-the-password')), who));
      expect(wrong).toBeInstanceOf(StepError);
      expect(wrong.message).toBe(
        `connection to server at "127.0.0.1", port ${u.port} failed: FATAL:  password authentication failed for user "${r.role}"`,
      );
    });

  it('sandbox().pgUrl itself stays trust (no password needed for hive)', async () => {
    expect(await wireQuery(params(sandbox().pgUrl), 'SELECT current_user')).toEqual([['hive']]);
  });
});

describe('pg-wire sessions (the snapshot a backup shares with pg_dump)', () => {
  it('keeps one transaction: an exported snapshot hides a later insert until COMMIT', async () => {
    await psql('CREATE TABLE IF NOT EXISTS snap (i int)', db);
    const w = await WireSession.open(params(db));
    try {
      await w.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const [[snapshot]] = (await w.query('SELECT pg_export_snapshot()')) as [[string]];
      expect(snapshot).toMatch(/^[0-9A-F]+-[0-9A-F]+-\d+$/);
      const before = (await w.query('SELECT count(*) FROM snap'))[0]?.[0];
      await psql('INSERT INTO snap VALUES (1)', db);
      // The session still reads its snapshot; another connection can adopt it while it is open.
      expect((await w.query('SELECT count(*) FROM snap'))[0]?.[0]).toBe(before);
      const other = await psql(
        `BEGIN ISOLATION LEVEL REPEATABLE READ; SET TRANSACTION SNAPSHOT '${snapshot}'; SELECT count(*) FROM snap; COMMIT`,
        db,
      );
      expect(
        other
          .trim()
          .split('\n')
          .filter((l) => /^\d+$/.test(l)),
      ).toEqual([before]);
      await w.query('COMMIT');
      expect(Number((await w.query('SELECT count(*) FROM snap'))[0]?.[0])).toBe(Number(before) + 1);
    } finally {
      w.close();
    }
  });

  it('a failed statement is a StepError and the connection stays usable; queries run one after another', async () => {
    const w = await WireSession.open(params(db));
    try {
      const e = await failure(w.query('SELECT * FROM no_such_table'));
      expect(e).toBeInstanceOf(StepError);
      expect(e.message).toMatch(/^ERROR: {2}relation "no_such_table" does not exist/);
      // Three at once on one connection: each gets its own answer.
      const rs = await Promise.all([1, 2, 3].map((n) => w.query(`SELECT ${n}, pg_sleep(0.0${n})`)));
      expect(rs.map((r) => r[0]?.[0])).toEqual(['1', '2', '3']);
    } finally {
      w.close();
    }
  });

  it('createPg().session runs in process for a plain URL and through psql otherwise, with the same answers', async () => {
    for (const url of [db, viaPsql(db)]) {
      const s = await pg.session(url);
      try {
        await s.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        expect(await s.query('SELECT id FROM t ORDER BY id')).toEqual([['1'], ['2'], ['3']]);
        await s.query('COMMIT');
      } finally {
        await s.close();
      }
    }
  });
});
