// The drill's workspace comparison: a tar's fingerprint equals the files it was made of, and a file
// missing, changed or added is named in one sentence.
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { drillJunit, drillMarkdown, drillSummary } from '../../src/report/drill.js';
import type { DrillReport } from '../../src/runbooks/drill.js';
import {
  compareFingerprints,
  describeDiff,
  fingerprintFiles,
  fingerprintTar,
  seedFiles,
} from '../../src/steps/failover/drill-workspaces.js';

async function tarOf(files: Array<{ path: string; data: Buffer }>): Promise<Readable> {
  const p = pack();
  p.entry({ name: './', type: 'directory' });
  for (const f of files) p.entry({ name: `./${f.path}` }, f.data);
  p.entry({ name: './link', type: 'symlink', linkname: 'README.md' });
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Readable.from([Buffer.concat(chunks)]);
}

describe('drill workspaces', () => {
  it('seeds deterministic, distinct files per pod, one in a nested directory', () => {
    expect(fingerprintFiles(seedFiles(0))).toEqual(fingerprintFiles(seedFiles(0)));
    expect(fingerprintFiles(seedFiles(0))).not.toEqual(fingerprintFiles(seedFiles(1)));
    expect(seedFiles(0).some((f) => f.path.split('/').length > 2)).toBe(true);
  });

  it('fingerprints the regular files of a tar like the files themselves', async () => {
    const files = seedFiles(2);
    expect(await fingerprintTar(await tarOf(files))).toEqual(fingerprintFiles(files));
  });

  it('names missing, changed and unexpected files', async () => {
    const files = seedFiles(0);
    const tampered = files
      .filter((f) => f.path !== 'notes/todo.md')
      .map((f) => (f.path === 'src/main.py' ? { ...f, data: Buffer.from('print("x")\n') } : f));
    tampered.push({ path: 'extra.txt', data: Buffer.from('?') });
    const d = compareFingerprints(fingerprintFiles(files), await fingerprintTar(await tarOf(tampered)));
    expect(d).toEqual({ missing: ['notes/todo.md'], changed: ['src/main.py'], extra: ['extra.txt'] });
    expect(describeDiff(d)).toBe(
      '1 file(s) missing (notes/todo.md), 1 file(s) changed (src/main.py), 1 file(s) unexpected (extra.txt)',
    );
    expect(describeDiff(compareFingerprints(fingerprintFiles(files), fingerprintFiles(files)))).toBeUndefined();
  });

  it('reports the workspace figures in markdown, JUnit properties and the summary', () => {
    const r: DrillReport = {
      scenario: 'backup-restore',
      startedAt: '2026-11-27T02:00:00.000Z',
      durationMs: 2000,
      status: 'failed',
      exitCode: 3,
      slo: { rtoMs: 30_000, rpoMs: 300_000 },
      cpuMs: 100,
      phases: [
        {
          phase: 'restore',
          runbook: 'restore',
          runId: 'r1',
          status: 'rolled-back',
          exitCode: 3,
          durationMs: 900,
          journal: '/j/r1.ndjson',
          steps: [{ id: 'verify-workspaces', title: 'v', status: 'failed', error: 'restored workspaces do not match' }],
        },
      ],
      gates: [
        {
          name: 'restored agent workspaces match (file count + SHA-256)',
          ok: false,
          measured: 'mismatch',
          target: 'every file matches',
        },
      ],
      workspaces: {
        backedUp: 2,
        tarBytes: 40960,
        pods: 0,
        files: 0,
        bytes: 0,
        seedChecked: 0,
        verified: false,
        problem: 'restored workspaces do not match: 1 file(s) missing (notes/todo.md)',
      },
    };
    expect(drillMarkdown(r)).toContain(
      '- 2 workspace(s) backed up (40.0 KiB of tar); 0 restored into scratch directories, 0 files (0 B), **NOT verified**: restored workspaces do not match: 1 file(s) missing (notes/todo.md)',
    );
    expect(drillJunit(r)).toContain('<property name="workspaces.verified" value="false"/>');
    expect(drillSummary(r)).toMatch(/workspaces: 2 workspace\(s\) backed up .*NOT verified/);
  });
});
