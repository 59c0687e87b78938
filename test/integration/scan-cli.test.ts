// The scan CLI as a process: the bootstrap stack piped in scans clean at high and above, report
// files in every format, and usage errors exit 2.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, runProcess, sandbox } from '../helpers/sandbox.js';

const tmp = mkdtempSync(join(tmpdir(), 'hivectl-scan-cli-'));
const bin = join(process.cwd(), 'bin', 'hivectl.js');

describe('hivectl scan (CLI)', () => {
  it('`hivectl bootstrap --render -o yaml | hivectl scan --manifests -` passes --fail-on high', async () => {
    const r = await runProcess(
      'sh',
      [
        '-c',
        `node ${bin} bootstrap --render --env prod -o yaml | node ${bin} scan --manifests - --fail-on high -o json`,
      ],
      { env: { ...sandbox().env, NO_COLOR: '1' }, cwd: tmp },
    );
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.gate).toEqual({ failOn: 'high', failed: false, count: 0 });
    expect(json.stats.workloads).toBeGreaterThanOrEqual(2);
    expect(json.counts.active.critical + json.counts.active.high + json.counts.active.medium).toBe(0);
    // Trivy is not installed here: the report says so instead of passing silently.
    expect(json.findings.some((f: { checkId: string }) => f.checkId === 'HIVE-IMG-000')).toBe(true);
  });

  it('writes SARIF, JUnit and Markdown reports while stdout keeps the table', async () => {
    const manifests = join(process.cwd(), 'test', 'fixtures', 'scan', 'manifests');
    for (const [file, marker] of [
      ['out.sarif', '"version": "2.1.0"'],
      ['out.xml', '<testsuites name="hivectl scan"'],
      ['out.md', '# hivectl scan'],
    ] as const) {
      const path = join(tmp, file);
      const r = await runCli(['scan', '--manifests', manifests, '--report', path], { cwd: tmp });
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(path, 'utf8')).toContain(marker);
      expect(r.stdout).toContain('Framework summary');
    }
  });

  // Trivy needs its vulnerability database from the internet, which this machine cannot reach: a
  // stand-in `trivy` on PATH prints Trivy's JSON shape so the merge path runs for real.
  it('merges Trivy findings when trivy is on PATH, and reports a failed Trivy as "did not run"', async () => {
    const manifests = join(process.cwd(), 'test', 'fixtures', 'scan', 'manifests');
    const binDir = join(tmp, 'trivy-bin');
    mkdirSync(binDir, { recursive: true });
    const trivy = join(binDir, 'trivy');
    const doc = {
      Results: [
        {
          Target: 'nginx:latest (debian 12)',
          Vulnerabilities: [
            {
              VulnerabilityID: 'CVE-2026-0001',
              Severity: 'CRITICAL',
              PkgName: 'openssl',
              InstalledVersion: '3.0.1',
              FixedVersion: '3.0.9',
              Title: 'stand-in',
            },
          ],
        },
      ],
    };
    writeFileSync(trivy, `#!/bin/sh\ncat <<'JSON'\n${JSON.stringify(doc)}\nJSON\n`);
    chmodSync(trivy, 0o755);
    const path = `${binDir}:${sandbox().env.PATH ?? process.env.PATH}`;
    const r = await runCli(['scan', '--manifests', manifests, '-o', 'json'], { env: { PATH: path } });
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    const img = json.findings.filter((f: { checkId: string }) => ['HIVE-IMG-000', 'HIVE-IMG-010'].includes(f.checkId));
    expect(
      img.map((f: { checkId: string; severity: string; target: string }) => [f.checkId, f.severity, f.target]),
    ).toEqual([['HIVE-IMG-010', 'critical', 'image:nginx:latest']]);

    writeFileSync(
      trivy,
      '#!/bin/sh\necho "FATAL: init error: DB error: failed to download vulnerability DB" >&2\nexit 1\n',
    );
    const failed = await runCli(['scan', '--manifests', manifests, '-o', 'json'], { env: { PATH: path } });
    const note = JSON.parse(failed.stdout).findings.find((f: { checkId: string }) => f.checkId === 'HIVE-IMG-000');
    expect(note.message).toContain('image check did not run: trivy failed on every image');
  });

  it('usage errors exit 2 with one line and a hint', async () => {
    const a = await runCli(['scan', '--scope', 'k8s,cloud']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('--scope: unknown scope cloud');
    const b = await runCli(['scan', '--write-baseline']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('--write-baseline needs --baseline FILE');
    const c = await runCli(['scan', '--manifests', join(tmp, 'nope')]);
    expect(c.code).toBe(2);
  });
});
