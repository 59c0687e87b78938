import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { checkTarStream, unsafeReason } from '../../src/backup/tar-safety.js';

type Entry = {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'fifo';
  linkname?: string;
  body?: string;
};

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const p = pack();
  for (const e of entries) {
    if (e.type === 'file' || e.type === undefined) p.entry({ name: e.name }, e.body ?? '');
    else p.entry({ name: e.name, type: e.type, ...(e.linkname ? { linkname: e.linkname } : {}) });
  }
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('tar safety filter', () => {
  it('accepts an ordinary workspace (files, dirs, links that stay inside)', async () => {
    const t = await tarOf([
      { name: './', type: 'directory' },
      { name: './src/', type: 'directory' },
      { name: './src/a.txt', body: 'hello' },
      { name: './src/link', type: 'symlink', linkname: '../README' },
      { name: './hard', type: 'link', linkname: './src/a.txt' },
      { name: './dots..name', body: 'x' },
    ]);
    const r = await checkTarStream(Readable.from([t]));
    expect(r.problem).toBeUndefined();
    expect(r.entries).toBe(6);
  });

  it.each([
    [{ name: '../evil' }, 'path escapes the target directory'],
    [{ name: './a/../../evil' }, 'path escapes the target directory'],
    [{ name: '/etc/passwd' }, 'absolute path'],
    [{ name: './l', type: 'symlink', linkname: '/etc/shadow' }, 'symlink to absolute path /etc/shadow'],
    [{ name: './a/l', type: 'symlink', linkname: '../../x' }, 'symlink points outside the target directory (../../x)'],
    [{ name: './h', type: 'link', linkname: '../x' }, 'hard link points outside the target directory (../x)'],
    [{ name: './dev', type: 'character-device' }, 'device file'],
    [{ name: './p', type: 'fifo' }, 'FIFO'],
  ] as [Entry, string][])('refuses %o', async (entry, reason) => {
    expect(unsafeReason({ name: entry.name, type: entry.type ?? 'file', linkname: entry.linkname ?? null })).toBe(
      reason,
    );
    const t = await tarOf([{ name: './ok.txt', body: 'fine' }, entry]);
    const r = await checkTarStream(Readable.from([t]));
    expect(r.problem).toEqual({ entry: entry.name, reason });
  });

  it('reports the first unsafe entry of a stream with a ../ entry and an absolute symlink', async () => {
    const t = await tarOf([
      { name: './fine', body: 'a' },
      { name: '../escape', body: 'b' },
      { name: './abs', type: 'symlink', linkname: '/root' },
    ]);
    const r = await checkTarStream(Readable.from([t]));
    expect(r.problem?.entry).toBe('../escape');
    expect(r.entries).toBe(3);
  });

  it('rejects a stream that is not a tar', async () => {
    await expect(checkTarStream(Readable.from([Buffer.alloc(1024, 7)]))).rejects.toThrow();
  });
});
