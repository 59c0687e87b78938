// The redaction layer, the IO host (colours, line mode, output formats) and journal helpers.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { colorEnabled, createIoHost } from '../../src/core/io-impl.js';
import { defaultJournalDir, findJournal, newRunId, readJournal } from '../../src/core/journal.js';
import { holderIdentity, holderRunId } from '../../src/core/lock.js';
import { isSecretKey, REDACTED, Redactor } from '../../src/core/redact.js';

describe('redaction', () => {
  it('hides registered secrets, their base64 form, and leaves other text alone', () => {
    const r = new Redactor();
    r.add('hunter2-canary');
    expect(r.string('pw=hunter2-canary;')).toBe(`pw=${REDACTED};`);
    expect(r.string(Buffer.from('hunter2-canary').toString('base64'))).toBe(REDACTED);
    expect(r.string('nothing to see')).toBe('nothing to see');
    r.add('ab'); // too short to replace inside text
    expect(r.string('about')).toBe('about');
  });

  it('hides URL passwords and bearer tokens', () => {
    const r = new Redactor();
    expect(r.string('postgres://hive:s3cr3t@db:5432/hive')).toBe(`postgres://hive:${REDACTED}@db:5432/hive`);
    expect(r.string('redis://:pw@cache:6379')).toBe(`redis://:${REDACTED}@cache:6379`);
    expect(r.string('https://example.com/path')).toBe('https://example.com/path');
    expect(r.string('Authorization: Bearer abcdefghijklmnop')).toBe(`Authorization: Bearer ${REDACTED}`);
  });

  it('hides values under secret-looking keys, not names, ids, counts or flags', () => {
    for (const k of [
      'password',
      'dbPassword',
      'secret',
      'clientSecret',
      'token',
      'accessKey',
      'apiKey',
      'privateKey',
      'credentials',
      'secretAccessKey',
    ])
      expect(isSecretKey(k), k).toBe(true);
    for (const k of [
      'kmsKeyId',
      'secretName',
      'encryptionKeyEnv',
      'tokenExpiry',
      'keyCount',
      'key',
      'queueKey',
      'secretKeys',
      'name',
    ])
      expect(isSecretKey(k), k).toBe(false);
    const r = new Redactor();
    const out = r.value({
      password: 'p',
      nested: { conn: { token: 'abc', user: 'bob' } },
      list: [{ secret: 'x' }],
      keyCount: 2,
      secretName: 'hive-db',
      credentials: { user: 'u', pass: 'v' },
      when: new Date(0),
      err: new Error('failed for postgres://a:b@h/db'),
    });
    expect(out).toEqual({
      password: REDACTED,
      nested: { conn: { token: REDACTED, user: 'bob' } },
      list: [{ secret: REDACTED }],
      keyCount: 2,
      secretName: 'hive-db',
      credentials: { user: REDACTED, pass: REDACTED },
      when: '1970-01-01T00:00:00.000Z',
      err: { name: 'Error', message: `failed for postgres://a:${REDACTED}@h/db` },
    });
  });

  it('survives cycles', () => {
    const a: Record<string, unknown> = { x: 1 };
    a.self = a;
    expect(new Redactor().value(a)).toEqual({ x: 1, self: '[circular]' });
  });
});

function capture() {
  return {
    text: '',
    write(s: string) {
      this.text += s;
      return true;
    },
  };
}

describe('io host', () => {
  it('honours NO_COLOR and --no-color (chalk alone ignores NO_COLOR)', () => {
    expect(colorEnabled({ env: {}, isTTY: true })).toBe(true);
    expect(colorEnabled({ env: { NO_COLOR: '1' }, isTTY: true })).toBe(false);
    expect(colorEnabled({ color: false, env: {}, isTTY: true })).toBe(false);
    expect(colorEnabled({ env: {}, isTTY: false })).toBe(false);
    const io = createIoHost({
      format: 'table',
      env: { NO_COLOR: '1' },
      isTTY: true,
      stderr: capture(),
      stdout: capture(),
    });
    expect(io.chalk.red('x')).toBe('x');
  });

  it('off a TTY every stderr line carries an ISO timestamp; results go to stdout', async () => {
    const err = capture();
    const out = capture();
    const io = createIoHost({ format: 'json', env: {}, isTTY: false, stderr: err, stdout: out });
    io.info('hello');
    io.result({ a: 1, password: 'x' });
    expect(err.text).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info {2}hello\n$/);
    expect(JSON.parse(out.text)).toEqual({ a: 1, password: REDACTED });
  });

  it('-o yaml prints YAML; -q hides info but not warnings', async () => {
    const err = capture();
    const out = capture();
    const io = createIoHost({ format: 'yaml', quiet: true, env: {}, isTTY: false, stderr: err, stdout: out });
    await io.ready();
    io.result({ a: [1, 2] });
    io.info('quiet please');
    io.warn('careful');
    expect(out.text).toBe('a:\n  - 1\n  - 2\n');
    expect(err.text).not.toContain('quiet please');
    expect(err.text).toContain('careful');
  });
});

describe('journal helpers and lock identity', () => {
  it('run ids sort by time', () => {
    const a = newRunId(new Date('2026-01-01T00:00:00.001Z'));
    const b = newRunId(new Date('2026-01-01T00:00:00.002Z'));
    const c = newRunId(new Date('2026-12-31T23:59:59.999Z'));
    expect([c, a, b].sort()).toEqual([a, b, c]);
    expect(a).toMatch(/^20260101T000000001Z-[0-9a-f]{6}$/);
  });

  it('journal dir: HIVECTL_STATE_DIR, else XDG_STATE_HOME, else ~/.local/state', () => {
    expect(defaultJournalDir({ HIVECTL_STATE_DIR: '/s' }, '/h')).toBe('/s/runs');
    expect(defaultJournalDir({ XDG_STATE_HOME: '/x' }, '/h')).toBe('/x/hivectl/runs');
    expect(defaultJournalDir({}, '/h')).toBe('/h/.local/state/hivectl/runs');
  });

  it('reads a journal with a torn last line (SIGKILL during a write) and finds runs by prefix', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hivectl-journal-'));
    try {
      const id = newRunId();
      writeFileSync(join(dir, `${id}.ndjson`), '{"type":"run","ts":"2026-01-01T00:00:00Z"}\n{"type":"apply-st');
      expect(readJournal(join(dir, `${id}.ndjson`))).toHaveLength(1);
      expect(findJournal(dir, id.slice(0, 20))).toBe(join(dir, `${id}.ndjson`));
      expect(() => findJournal(dir, 'nope')).toThrow(/no run "nope"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the lock holder names user@host and the run', () => {
    const h = holderIdentity('20260101T000000001Z-abcdef', 'ann@box');
    expect(h).toBe('ann@box/20260101T000000001Z-abcdef');
    expect(holderRunId(h)).toBe('20260101T000000001Z-abcdef');
  });
});
