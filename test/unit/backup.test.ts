import { describe, expect, it } from 'vitest';
import { decryptValue, deriveKey, ENC_PREFIX, encryptValue, newKeyParams } from '../../src/backup/crypto.js';
import { backupIdTime, isBackupId, newBackupId } from '../../src/backup/ids.js';
import { isSystemObject, protectSecret, revealSecret, stripServerFields } from '../../src/backup/k8s-state.js';
import { parseComponents, parseManifest } from '../../src/backup/manifest.js';
import { mapWorkspaces } from '../../src/steps/exec/workspace-restore.js';
import { compareChecks } from '../../src/steps/pg/table-checks.js';

describe('backup ids', () => {
  it('are stable, sortable by time, and round-trip their time', () => {
    const a = newBackupId(new Date('2026-11-27T01:02:03.999Z'), 'abcd');
    expect(a).toBe('20261127T010203Z-abcd');
    expect(isBackupId(a)).toBe(true);
    expect(backupIdTime(a).toISOString()).toBe('2026-11-27T01:02:03.000Z');
    const ids = ['2026-12-01T00:00:00Z', '2026-11-27T23:59:59Z', '2027-01-01T00:00:00Z'].map((t) =>
      newBackupId(new Date(t)),
    );
    expect([...ids].sort()).toEqual([ids[1], ids[0], ids[2]]);
    expect(isBackupId('20261127T010203Z')).toBe(false);
    expect(isBackupId('../20261127T010203Z-abcd')).toBe(false);
  });
});

describe('secret encryption', () => {
  const params = newKeyParams();
  const key = deriveKey('correct horse battery staple', params);
  it('round-trips, and a wrong key, another secret or a flipped byte fails', () => {
    const c = encryptValue(key, Buffer.from('s3cr3t'), 'ns/name/password');
    expect(c.startsWith(ENC_PREFIX)).toBe(true);
    expect(c).not.toContain('s3cr3t');
    expect(decryptValue(key, c, 'ns/name/password').toString()).toBe('s3cr3t');
    expect(() => decryptValue(deriveKey('wrong', params), c, 'ns/name/password')).toThrow();
    expect(() => decryptValue(key, c, 'ns/other/password')).toThrow();
    const flipped = c.slice(0, -3) + (c.at(-3) === 'A' ? 'B' : 'A') + c.slice(-2);
    expect(() => decryptValue(key, flipped, 'ns/name/password')).toThrow();
  });

  it('protectSecret omits or encrypts every value, revealSecret restores encrypted ones only', () => {
    const s = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db', namespace: 'api' },
      data: { password: Buffer.from('pw-123').toString('base64') },
      stringData: { user: 'hive' },
    };
    const omitted = protectSecret(s, 'omit');
    expect(omitted.data).toEqual({ password: '', user: '' });
    expect(JSON.stringify(omitted)).not.toContain(Buffer.from('pw-123').toString('base64'));
    expect(revealSecret(omitted, key)).toBeUndefined();
    const enc = protectSecret(s, 'encrypt', key);
    expect(JSON.stringify(enc)).not.toMatch(/pw-123|cHctMTIz|hive"/);
    const back = revealSecret(enc, key)!;
    expect(Buffer.from(back.data.password, 'base64').toString()).toBe('pw-123');
    expect(Buffer.from(back.data.user, 'base64').toString()).toBe('hive');
    expect(back.metadata.annotations).toBeUndefined();
  });
});

describe('cluster state cleaning', () => {
  it('strips server-owned fields and allocated Service IPs', () => {
    const o = stripServerFields('Service', 'v1', {
      metadata: {
        name: 's',
        namespace: 'n',
        uid: 'u',
        resourceVersion: '5',
        managedFields: [],
        creationTimestamp: 'x',
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
      },
      spec: { clusterIP: '10.0.0.1', clusterIPs: ['10.0.0.1'], ports: [{ port: 80, nodePort: 30000 }] },
      status: { loadBalancer: {} },
    });
    expect(o).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's', namespace: 'n' },
      spec: { ports: [{ port: 80 }] },
    });
  });
  it('skips objects the cluster makes itself', () => {
    expect(isSystemObject('ConfigMap', { metadata: { name: 'kube-root-ca.crt' } })).toBe(true);
    expect(isSystemObject('Secret', { type: 'kubernetes.io/service-account-token', metadata: { name: 'x' } })).toBe(
      true,
    );
    expect(isSystemObject('ConfigMap', { metadata: { name: 'app' } })).toBe(false);
  });
});

describe('manifest', () => {
  it('parses components and refuses unknown ones', () => {
    expect(parseComponents(undefined)).toEqual(['db', 'workspaces', 'k8s']);
    expect(parseComponents('k8s, db,db')).toEqual(['k8s', 'db']);
    expect(() => parseComponents('db,files')).toThrow(/unknown component "files"/);
  });
  it('refuses a manifest of another format or shape', () => {
    expect(() => parseManifest('{"format":3,"id":"x","objects":[],"rpoReference":"t"}', 'm')).toThrow(/format 3/);
    // Format 1 (one object per cluster object) is still read, so older backups stay restorable.
    for (const f of [1, 2])
      expect(parseManifest(`{"format":${f},"id":"x","objects":[],"rpoReference":"t"}`, 'm').format).toBe(f);
    expect(() => parseManifest('nope', 'm')).toThrow(/not JSON/);
    expect(() => parseManifest('{"a":1}', 'm')).toThrow(/not a hivectl backup manifest/);
  });
  it('compares table checks', () => {
    const exp = [
      { table: 'public.a', rows: 2, checksum: '10' },
      { table: 'public.b', rows: 1, checksum: '5' },
      { table: 'public.c', rows: 1, checksum: '5' },
    ];
    expect(
      compareChecks(exp, [
        { table: 'public.a', rows: 2, checksum: '10' },
        { table: 'public.b', rows: 1, checksum: '6' },
      ]),
    ).toEqual(['public.b: row checksum differs', 'public.c: missing']);
  });
});

describe('workspace mapping on restore', () => {
  it('keeps pod names that still exist and hands the rest to new pods in order', () => {
    const e = (pod: string) => ({ namespace: 'a', pod, key: `workspaces/a/${pod}.tar`, dir: '/w' });
    const m = mapWorkspaces([e('w-1'), e('w-2'), e('w-3')], ['w-2', 'x-9', 'x-1']);
    expect(m.map((x) => [x.entry.pod, x.pod])).toEqual([
      ['w-1', 'x-9'],
      ['w-2', 'w-2'],
      ['w-3', 'x-1'],
    ]);
  });
});
