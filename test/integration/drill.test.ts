// `hivectl drill --scenario backup-restore` against the sandbox: a JUnit report that parses, with a
// test per step and per SLO gate; a missed SLO exits 3; agent workspaces are backed up, restored into
// scratch directories and verified file by file, and a file missing or changed against what was seeded
// fails the drill (exit 3).
// Each agent pod gets its own exec directory (podWorkdir), which is its workspace: backup.workspaceDir '.'.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { sandboxConfigYaml } from '../../src/sandbox/index.js';
import { fingerprintFiles, SEED_RECORD, seedFiles } from '../../src/steps/failover/drill-workspaces.js';
import { createDatabase, kubectl, podWorkdir, psql, runCli, sandbox, uniqueName } from '../helpers/sandbox.js';

const dir = mkdtempSync(join(tmpdir(), 'hivectl-drill-'));
const env = { HIVECTL_STATE_DIR: join(dir, 'state') };
let cfg = '';
/** The agent pods of the main config and their workspace directories on this machine. */
let workspaces: Array<{ pod: string; dir: string }> = [];

function config(slo: { rto: string; rpo: string }, dbUrl: string): string {
  const doc = parse(sandboxConfigYaml(sandbox())) as Record<string, Record<string, unknown>>;
  doc.cluster = { ...doc.cluster, namespace: uniqueName('dr-state') };
  doc.platform = { env: 'dev', namespaces: { api: uniqueName('dr-api'), agents: uniqueName('dr-agents') } };
  doc.backup = { bucket: uniqueName('dr-bk-east'), drBucket: uniqueName('dr-bk-west'), workspaceDir: '.' };
  doc.database = { kind: 'postgres', url: dbUrl };
  // backup-restore drills query no Prometheus (and a sandbox started before it had one has no URL).
  delete doc.prometheus;
  doc.slo = slo;
  const file = join(dir, `${uniqueName('cfg')}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
}

const cfgDoc = (file: string) =>
  parse(readFileSync(file, 'utf8')) as {
    cluster: { namespace: string };
    platform: { namespaces: { agents: string } };
    database: { url: string };
  };

/**
 * Give each agent pod a workspace of its own and seed it as `drill --sandbox` does (same files, same
 * seed record ConfigMap), then wait until an exec into the pod reads it (KWOK picks the mapping up from a watch).
 */
async function seedWorkspaces(file: string): Promise<Array<{ pod: string; dir: string }>> {
  const c = cfgDoc(file);
  const ns = c.platform.namespaces.agents;
  const pods = (
    await kubectl(['get', 'pods', '-n', ns, '-l', 'app.kubernetes.io/name=agent-worker', '-o', 'name'])
  ).stdout
    .split('\n')
    .filter(Boolean)
    .map((n) => n.replace('pod/', ''))
    .sort();
  expect(pods.length).toBeGreaterThan(0);
  const out: Array<{ pod: string; dir: string }> = [];
  const record: Record<string, string> = {};
  for (const [i, pod] of pods.entries()) {
    const dir = await podWorkdir(ns, pod);
    for (const e of readdirSync(dir)) rmSync(join(dir, e), { recursive: true, force: true });
    for (const f of seedFiles(i)) {
      mkdirSync(dirname(join(dir, f.path)), { recursive: true });
      writeFileSync(join(dir, f.path), f.data);
    }
    record[`${ns}.${pod}`] = JSON.stringify(fingerprintFiles(seedFiles(i)));
    for (let t = 0; ; t++) {
      const r = await kubectl(['exec', '-n', ns, pod, '--', 'cat', 'README.md']);
      if (r.code === 0 && r.stdout === `# workspace of agent ${i}\n`) break;
      if (t > 100) throw new Error(`exec into ${ns}/${pod} never ran in ${dir}: ${r.stderr}`);
      await new Promise((res) => setTimeout(res, 200));
    }
    out.push({ pod, dir });
  }
  const cm = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: SEED_RECORD, namespace: c.cluster.namespace },
    data: record,
  };
  const a = await kubectl(['apply', '-f', '-'], { input: JSON.stringify(cm) });
  expect(a.code, a.stderr).toBe(0);
  return out;
}

/** Minimal XML well-formedness: every element closed in order, one root. */
function parseXml(xml: string): Array<{ name: string; attrs: Record<string, string>; children: unknown[] }> {
  const body = xml.replace(/^<\?xml[^>]*\?>\s*/, '');
  const stack: Array<{ name: string; attrs: Record<string, string>; children: unknown[] }> = [
    { name: '#root', attrs: {}, children: [] },
  ];
  const re = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[\w:.-]+="[^"]*")*)\s*(\/?)>|([^<]+)/g;
  let consumed = 0;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    consumed += m[0].length;
    if (m[5] !== undefined) continue;
    const [, close, name, rawAttrs, selfClose] = m as unknown as [string, string, string, string, string];
    if (close) {
      const top = stack.pop();
      if (!top || top.name !== name) throw new Error(`mismatched </${name}>`);
      continue;
    }
    const attrs = Object.fromEntries([...rawAttrs.matchAll(/([\w:.-]+)="([^"]*)"/g)].map((a) => [a[1], a[2]]));
    const el = { name, attrs, children: [] };
    (stack.at(-1) as { children: unknown[] }).children.push(el);
    if (!selfClose) stack.push(el);
  }
  if (consumed !== body.length) throw new Error('stray characters in the XML');
  if (stack.length !== 1) throw new Error(`unclosed <${stack.at(-1)?.name}>`);
  return stack[0]?.children as Array<{ name: string; attrs: Record<string, string>; children: unknown[] }>;
}

beforeAll(async () => {
  const url = await createDatabase(uniqueName('drill_db').replace(/-/g, '_'));
  await psql(
    'CREATE TABLE orders (id int PRIMARY KEY, amount numeric); INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 500) g',
    url,
  );
  cfg = config({ rto: '30s', rpo: '5m' }, url);
  const b = await runCli(['--config', cfg, 'bootstrap', '-y'], { env });
  expect(b.code, b.stderr).toBe(0);
  workspaces = await seedWorkspaces(cfg);
});

describe('drill', () => {
  it('refuses (exit 5) without --yes when there is no terminal, before changing anything', async () => {
    const r = await runCli(['--config', cfg, 'drill', '--scenario', 'backup-restore'], { env });
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/needs confirmation/);
  });

  it('backup-restore writes a JUnit report that parses: a test per step and per SLO gate', async () => {
    const report = join(dir, 'drill.xml');
    const r = await runCli(
      ['--config', cfg, 'drill', '--scenario', 'backup-restore', '--report', report, '--format', 'junit', '-y'],
      { env },
    );
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/drill backup-restore: passed/);
    const [root] = parseXml(readFileSync(report, 'utf8'));
    expect(root?.name).toBe('testsuites');
    const suites = root?.children as Array<{
      name: string;
      attrs: Record<string, string>;
      children: Array<{ attrs: Record<string, string>; children: Array<{ name: string }> }>;
    }>;
    expect(suites.map((s) => s.attrs.name)).toEqual(['drill.preflight', 'drill.backup', 'drill.restore', 'drill.slo']);
    const restore = suites.find((s) => s.attrs.name === 'drill.restore');
    expect(restore?.children.map((c) => c.attrs.name)).toEqual(
      expect.arrayContaining([
        'scratch-db',
        'restore-db',
        'verify-db',
        'drop-scratch-db',
        'scratch-workspaces',
        'restore-workspaces',
        'verify-workspaces',
        'drop-scratch-workspaces',
      ]),
    );
    const slo = suites.find((s) => s.attrs.name === 'drill.slo');
    expect(slo?.children.map((c) => c.attrs.name)).toEqual([
      'restore RTO',
      'restore RPO (backup age at restore)',
      'restored agent workspaces match (file count + SHA-256)',
    ]);
    expect(Number(root?.attrs.failures)).toBe(0);
  });

  it('a missed SLO exits 3 and the gate fails in the report', async () => {
    const strict = config({ rto: '1ms', rpo: '5m' }, cfgDoc(cfg).database.url);
    const b = await runCli(['--config', strict, 'bootstrap', '-y'], { env });
    expect(b.code, b.stderr).toBe(0);
    await seedWorkspaces(strict);
    const report = join(dir, 'strict.md');
    const r = await runCli(['--config', strict, 'drill', '--scenario', 'backup-restore', '--report', report, '-y'], {
      env,
    });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(3);
    expect(readFileSync(report, 'utf8')).toMatch(/\| restore RTO \| [\d.]+s \| <= 0\.00s \| \*\*MISSED\*\* \|/);
  });

  it('backs up the seeded agent workspaces, restores them into scratch directories and verifies every file', async () => {
    const report = join(dir, 'ws.json');
    const r = await runCli(['--config', cfg, 'drill', '--scenario', 'backup-restore', '--report', report, '-y'], {
      env,
    });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const seeded = workspaces.map((_, i) => seedFiles(i));
    const rep = JSON.parse(readFileSync(report, 'utf8'));
    expect(rep.workspaces).toEqual({
      backedUp: workspaces.length,
      tarBytes: expect.any(Number),
      pods: workspaces.length,
      files: seeded.flat().length,
      bytes: seeded.flat().reduce((a, f) => a + f.data.length, 0),
      seedChecked: workspaces.length,
      verified: true,
    });
    expect(rep.workspaces.tarBytes).toBeGreaterThan(rep.workspaces.bytes);
    expect(r.stdout).toMatch(
      /workspaces: 2 workspace\(s\) backed up .*; 2 restored into scratch directories, 10 files/,
    );
    // The scratch directories are gone and the live workspaces untouched.
    for (const [i, w] of workspaces.entries()) {
      expect(readdirSync(w.dir).sort()).toEqual(['README.md', 'data', 'notes', 'src']);
      expect(readFileSync(join(w.dir, 'src', 'lib', 'util.py'))).toEqual(seedFiles(i)[3]?.data);
    }
  });

  it('a file missing or changed against what was seeded fails the drill with exit 3 and one sentence', async () => {
    const [w] = workspaces;
    if (!w) throw new Error('no agent workspace');
    rmSync(join(w.dir, 'notes', 'todo.md'));
    writeFileSync(join(w.dir, 'src', 'main.py'), 'print("tampered")\n');
    const report = join(dir, 'ws-bad.json');
    const r = await runCli(['--config', cfg, 'drill', '--scenario', 'backup-restore', '--report', report, '-y'], {
      env,
    });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(3);
    const msg = `${r.stdout}\n${r.stderr}`;
    expect(msg).toMatch(
      new RegExp(
        `restored workspaces do not match: .*${w.pod}: 1 file\\(s\\) missing \\(notes/todo\\.md\\), 1 file\\(s\\) changed \\(src/main\\.py\\)`,
      ),
    );
    const rep = JSON.parse(readFileSync(report, 'utf8'));
    expect(rep.status).toBe('failed');
    expect(rep.workspaces).toMatchObject({ verified: false, problem: expect.stringMatching(/notes\/todo\.md/) });
    expect(rep.gates.find((g: { name: string }) => /workspaces/.test(g.name))).toMatchObject({ ok: false });
    // Rolled back: no scratch directory left behind in the workspace.
    expect(readdirSync(w.dir).filter((e) => e.startsWith('.hivectl-drill-'))).toEqual([]);
    expect(existsSync(join(w.dir, 'notes', 'todo.md'))).toBe(false);
  });
});
