// The in-process PostgreSQL client's pure pieces: SCRAM-SHA-256 against RFC 7677's example, libpq's pgpass
// matching, and which URLs/environments it takes over from psql (everything else stays with psql).
import { describe, expect, it } from 'vitest';
import {
  formatServerError,
  pgpassLookup,
  planConnection,
  scramClientFinal,
  scramClientFirstBare,
  type WireSystem,
} from '../../src/adapters/pg-wire.js';

describe('SCRAM-SHA-256 (RFC 7677 section 3)', () => {
  const clientNonce = 'rOprNGfwEbeRWgbNEkqO';
  const serverFirst = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';

  it('builds the client-first message', () => {
    expect(`n,,${scramClientFirstBare('user', clientNonce)}`).toBe('n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
  });

  it('computes the client proof and the server signature of the published exchange', () => {
    const r = scramClientFinal({
      password: 'pencil',
      clientFirstBare: scramClientFirstBare('user', clientNonce),
      serverFirst,
      clientNonce,
    });
    expect(r.message).toBe(
      'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
    );
    expect(r.serverSignature).toBe('6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
  });

  it('refuses a server nonce that does not extend ours', () => {
    expect(() =>
      scramClientFinal({
        password: 'pencil',
        clientFirstBare: scramClientFirstBare('user', clientNonce),
        serverFirst: 'r=someoneelse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
        clientNonce,
      }),
    ).toThrow(/invalid SCRAM/);
  });
});

describe('pgpass', () => {
  const want = { host: 'db.internal', port: '5432', database: 'hive', user: 'app' };

  it('matches field by field with * wildcards, first match wins', () => {
    const text = ['# comment', 'other:5432:hive:app:nope', 'db.internal:*:hive:app:first', '*:*:*:*:second'].join('\n');
    expect(pgpassLookup(text, want)).toBe('first');
    expect(pgpassLookup(text, { ...want, host: 'elsewhere' })).toBe('second');
    expect(pgpassLookup('db.internal:5433:hive:app:x\n', want)).toBeUndefined();
  });

  it('understands \\: and \\\\ escapes, in keys and in the password', () => {
    expect(pgpassLookup('db.internal:5432:hi\\:ve:app:p\\:w\\\\d\n', { ...want, database: 'hi:ve' })).toBe('p:w\\d');
    // an escaped * is a literal star, not a wildcard
    expect(pgpassLookup('\\*:5432:hive:app:x', want)).toBeUndefined();
    expect(pgpassLookup('\\*:5432:hive:app:x', { ...want, host: '*' })).toBe('x');
  });

  it('needs all four separators; the password ends at an unescaped colon; CRLF is fine', () => {
    expect(pgpassLookup('db.internal:5432:hive:app', want)).toBeUndefined();
    expect(pgpassLookup('db.internal:5432:hive:app:pw:extra', want)).toBe('pw');
    expect(pgpassLookup('db.internal:5432:hive:app:pw\r\n', want)).toBe('pw');
  });
});

function fakeSystem(o: { files?: Record<string, string>; existing?: string[]; krb?: boolean } = {}): WireSystem {
  return {
    user: () => 'osuser',
    home: () => '/home/osuser',
    exists: (p) => (o.existing ?? []).includes(p),
    readPgpass: (p) => o.files?.[p],
    hasKerberosCache: () => o.krb ?? false,
  };
}

describe('planConnection: the in-process client or psql', () => {
  const sys = fakeSystem();
  const wire = (url: string, env: Record<string, string> = {}, s = sys) => {
    const p = planConnection(url, env, s);
    if (p.kind !== 'wire') throw new Error(`expected wire, got psql: ${p.reason}`);
    return p.params;
  };
  const psqlReason = (url: string, env: Record<string, string> = {}, s = sys) => {
    const p = planConnection(url, env, s);
    return p.kind === 'psql' ? p.reason : undefined;
  };

  it('takes a plain URL with libpq defaults', () => {
    expect(wire('postgres://hive@127.0.0.1:40315/postgres')).toEqual({
      host: '127.0.0.1',
      port: 40315,
      user: 'hive',
      database: 'postgres',
      sslmode: 'prefer',
      connectTimeoutMs: 0,
      applicationName: 'hivectl',
    });
    const d = wire('postgresql://db.internal');
    expect([d.port, d.user, d.database]).toEqual([5432, 'osuser', 'osuser']);
    const e = wire('postgresql://db.internal/', { PGPORT: '6000', PGUSER: 'u', PGDATABASE: 'd', PGAPPNAME: 'x' });
    expect([e.port, e.user, e.database, e.applicationName]).toEqual([6000, 'u', 'd', 'x']);
    expect(wire('postgres://[::1]:5433/db').host).toBe('::1');
  });

  it('percent-decodes user, password and database, and splits the URL like libpq', () => {
    const p = wire('postgres://us%40er:p%3Aw%2Fd@h/my%20db');
    expect([p.user, p.password, p.database]).toEqual(['us@er', 'p:w/d', 'my db']);
    // `+` is not a space for libpq; a colon in the password separates only once
    const q = wire('postgres://u:a:b+c@h/d/e?application_name=a+b');
    expect([q.password, q.database, q.applicationName]).toEqual(['a:b+c', 'd/e', 'a+b']);
    expect(psqlReason('postgres://u:p@ss@h/db')).toBe('URL libpq must parse');
    expect(psqlReason('postgres://h/db#x')).toBe('URL libpq must parse');
    expect(psqlReason(' postgres://h/db')).toMatch(/not a postgres/);
    expect(psqlReason('postgres://h/db?sslmode')).toBe('URL parameter syntax');
    expect(psqlReason('postgres://h/db%zz')).toBe('URL percent-encoding');
    expect(psqlReason('postgres://h:port/db')).toBe('port');
  });

  it('takes the password from the URL, then PGPASSWORD, then the pgpass file', () => {
    const files = { '/home/osuser/.pgpass': 'h:5432:db:u:fromfile\n', '/tmp/pp': 'h:*:*:*:fromenvfile\n' };
    const s = fakeSystem({ files });
    expect(wire('postgres://u:inurl@h/db', { PGPASSWORD: 'env' }, s).password).toBe('inurl');
    expect(wire('postgres://u@h/db', { PGPASSWORD: 'env' }, s).password).toBe('env');
    const f = wire('postgres://u@h/db', {}, s);
    expect([f.password, f.passwordFile]).toEqual(['fromfile', '/home/osuser/.pgpass']);
    expect(wire('postgres://u@h/db', { PGPASSFILE: '/tmp/pp' }, s).password).toBe('fromenvfile');
    expect(wire('postgres://u@h/other', {}, s).password).toBeUndefined();
  });

  it('honours sslmode and connect_timeout from the URL, then the environment', () => {
    expect(wire('postgres://h/db?sslmode=disable').sslmode).toBe('disable');
    expect(wire('postgres://h/db', { PGSSLMODE: 'require' }).sslmode).toBe('require');
    expect(wire('postgres://h/db?sslmode=prefer', { PGSSLMODE: 'require' }).sslmode).toBe('prefer');
    expect(wire('postgres://h/db?connect_timeout=1').connectTimeoutMs).toBe(2000); // libpq's minimum
    expect(wire('postgres://h/db', { PGCONNECT_TIMEOUT: '10' }).connectTimeoutMs).toBe(10_000);
    expect(wire('postgres://h/db?connect_timeout=0').connectTimeoutMs).toBe(0);
    expect(wire('postgres://h/db?application_name=probe').applicationName).toBe('probe');
  });

  it('ignores variables libpq never reads (the sandbox sets PGURL)', () => {
    expect(wire('postgres://h/db', { PGURL: 'postgres://x', PGDATA: '/var/lib/pg' }).host).toBe('h');
  });

  it('leaves to psql whatever it does not fully understand', () => {
    expect(psqlReason('host=h dbname=d')).toMatch(/not a postgres/);
    expect(psqlReason('postgres:///db')).toBe('host');
    expect(psqlReason('postgres://%2Fvar%2Frun%2Fpostgresql/db')).toBe('host');
    expect(psqlReason('postgres://a,b/db')).toBe('host');
    expect(psqlReason('postgres://a:1,b:2/db')).toBeDefined();
    expect(psqlReason('postgres://h/db?target_session_attrs=read-write')).toMatch(/target_session_attrs/);
    expect(psqlReason('postgres://h/db?options=-c%20x%3D1')).toMatch(/options/);
    for (const mode of ['allow', 'verify-ca', 'verify-full', 'bogus'])
      expect(psqlReason(`postgres://h/db?sslmode=${mode}`)).toBe(`sslmode=${mode}`);
    expect(psqlReason('postgres://h/db', { PGSSLMODE: 'verify-full' })).toBe('sslmode=verify-full');
    expect(psqlReason('postgres://h/db?connect_timeout=soon')).toBe('connect_timeout');
    for (const v of ['PGSERVICE', 'PGSSLCERT', 'PGOPTIONS', 'PGHOSTADDR', 'PGGSSENCMODE', 'PGTARGETSESSIONATTRS'])
      expect(psqlReason('postgres://h/db', { [v]: 'x' })).toBe(`environment variable ${v}`);
  });

  it('leaves to psql what libpq would verify or present with files in ~/.postgresql, or GSS encryption', () => {
    const withRoot = fakeSystem({ existing: ['/home/osuser/.postgresql/root.crt'] });
    expect(psqlReason('postgres://h/db', {}, withRoot)).toMatch(/root\.crt/);
    expect(wire('postgres://h/db?sslmode=disable', {}, withRoot).sslmode).toBe('disable');
    const withCert = fakeSystem({ existing: ['/home/osuser/.postgresql/postgresql.crt'] });
    expect(psqlReason('postgres://h/db?sslmode=require', {}, withCert)).toMatch(/postgresql\.crt/);
    expect(psqlReason('postgres://h/db', {}, fakeSystem({ krb: true }))).toMatch(/Kerberos/);
  });
});

describe('server errors read like psql prints them', () => {
  it('severity, two spaces, message, then DETAIL and HINT', () => {
    expect(
      formatServerError(
        new Map([
          ['S', 'ERROR'],
          ['M', 'relation "x" does not exist'],
        ]),
      ),
    ).toBe('ERROR:  relation "x" does not exist');
    expect(
      formatServerError(
        new Map([
          ['S', 'ERROR'],
          ['M', 'database "d" is being accessed by other users'],
          ['D', 'There is 1 other session using the database.'],
          ['H', 'try again'],
        ]),
      ),
    ).toBe(
      'ERROR:  database "d" is being accessed by other users | DETAIL:  There is 1 other session using the database. | HINT:  try again',
    );
  });
});
