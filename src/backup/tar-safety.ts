// Refuse a workspace tar that could write outside its target directory, before a byte of it is sent:
// absolute paths, `..` components, device files, FIFOs, and hard or symbolic links that resolve outside.
// Runs over the whole stream (tar-stream parser), so the check costs one read and no disk.
import path from 'node:path/posix';
import type { Readable } from 'node:stream';
import { extract } from 'tar-stream';

export interface TarProblem {
  entry: string;
  reason: string;
}

export interface TarSummary {
  entries: number;
  bytes: number;
}

/** Why one tar header is unsafe, or undefined. Pure: exported for unit tests. */
export function unsafeReason(h: { name: string; type?: string | null; linkname?: string | null }): string | undefined {
  const name = h.name;
  if (name.includes('\0')) return 'NUL byte in name';
  if (name.startsWith('/')) return 'absolute path';
  const norm = path.normalize(name);
  if (norm === '..' || norm.startsWith('../') || name.split('/').includes('..'))
    return 'path escapes the target directory';
  const type = h.type ?? 'file';
  if (type === 'block-device' || type === 'character-device') return 'device file';
  if (type === 'fifo') return 'FIFO';
  if (type === 'symlink' || type === 'link') {
    const target = h.linkname ?? '';
    if (target.startsWith('/')) return `${type === 'link' ? 'hard link' : 'symlink'} to absolute path ${target}`;
    // A symlink resolves relative to its own directory; a hard link's target is relative to the archive root.
    const base = type === 'symlink' ? path.dirname(norm) : '.';
    const resolved = path.normalize(path.join(base, target));
    if (resolved === '..' || resolved.startsWith('../'))
      return `${type === 'link' ? 'hard link' : 'symlink'} points outside the target directory (${target})`;
  }
  if (
    ![
      'file',
      'directory',
      'symlink',
      'link',
      'contiguous-file',
      'pax-header',
      'pax-global-header',
      'gnu-long-path',
      'gnu-long-link-path',
    ].includes(type)
  )
    return `unsupported entry type ${type}`;
  return undefined;
}

/** Read a whole tar stream; resolves with a summary, rejects with the first unsafe entry. */
export function checkTarStream(input: Readable): Promise<TarSummary & { problem?: TarProblem }> {
  return new Promise((resolve, reject) => {
    const ex = extract();
    let entries = 0;
    let bytes = 0;
    let problem: TarProblem | undefined;
    ex.on('entry', (header, stream, next) => {
      entries++;
      bytes += header.size ?? 0;
      if (!problem) {
        const reason = unsafeReason(header);
        if (reason) problem = { entry: header.name, reason };
      }
      stream.on('end', next);
      stream.resume();
    });
    ex.on('finish', () => resolve(problem ? { entries, bytes, problem } : { entries, bytes }));
    ex.on('error', reject);
    input.on('error', reject);
    input.pipe(ex);
  });
}
