// The sandbox's PostgreSQL 15 and Redis are real servers: a pg_dump of a seeded database restores
// into an empty one with the same rows, and Redis answers on its URL.
import { describe, expect, it } from 'vitest';
import { createDatabase, psql, runProcess, sandbox, uniqueName } from '../helpers/sandbox.js';

const checksum = `SELECT count(*) || ':' || md5(string_agg(id || '/' || payload || '/' || created_at::text, ',' ORDER BY id)) FROM tasks`;

describe('sandbox postgresql + redis', () => {
  it('pg_dump of a seeded database restores into an empty one with equal row counts and checksums', async () => {
    const base = uniqueName('sbpg').replace(/-/g, '_');
    const src = await createDatabase(`${base}_src`);
    const dst = await createDatabase(`${base}_dst`);
    await psql(
      `CREATE TABLE tasks (id bigserial PRIMARY KEY, payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
       INSERT INTO tasks (payload, created_at)
         SELECT md5(g::text), timestamptz '2026-01-01' + g * interval '1 second' FROM generate_series(1, 20000) g;
       CREATE INDEX tasks_payload ON tasks (payload);`,
      src,
    );
    const before = await psql(checksum, src);
    expect(before.startsWith('20000:')).toBe(true);

    const s = sandbox();
    const r = await runProcess(
      'sh',
      ['-c', `pg_dump -Fc "${src}" | pg_restore --no-owner -d "${dst}" && psql "${dst}" -XAtc "SELECT 1"`],
      { env: s.env },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(await psql(checksum, dst)).toBe(before);
    // The dump tools are the server's version, not an older client's from PATH.
    const v = await runProcess('pg_dump', ['--version'], { env: s.env });
    expect(v.stdout).toMatch(/\b15\./);
  });

  it('answers Redis commands on REDIS_URL', async () => {
    const s = sandbox();
    const key = uniqueName('sb-redis');
    const set = await runProcess('redis-cli', ['-u', s.redisUrl, 'RPUSH', key, 'a', 'b'], { env: s.env });
    expect(set.stdout.trim()).toBe('2');
    const len = await runProcess('redis-cli', ['-u', s.redisUrl, 'LLEN', key], { env: s.env });
    expect(len.stdout.trim()).toBe('2');
  });
});
