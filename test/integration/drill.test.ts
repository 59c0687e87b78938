// `hivectl drill --scenario backup-restore` against the sandbox: a JUnit report that parses, with a
// test per step and per SLO gate; a missed SLO exits 3.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { sandboxConfigYaml } from '../../src/sandbox/index.js';
import { createDatabase, psql, runCli, sandbox, uniqueName } from '../helpers/sandbox.js';

const dir = mkdtempSync(join(tmpdir(), 'hivectl-drill-'));
const env = { HIVECTL_STATE_DIR: join(dir, 'state') };
let cfg = '';

function config(slo: { rto: string; rpo: string }, dbUrl: string): string {
  const doc = parse(sandboxConfigYaml(sandbox())) as Record<string, Record<string, unknown>>;
  doc.cluster = { ...doc.cluster, namespace: uniqueName('dr-state') };
  doc.platform = { env: 'dev', namespaces: { api: uniqueName('dr-api'), agents: uniqueName('dr-agents') } };
  doc.backup = { bucket: uniqueName('dr-bk-east'), drBucket: uniqueName('dr-bk-west') };
  doc.database = { kind: 'postgres', url: dbUrl };
  doc.slo = slo;
  const file = join(dir, `${uniqueName('cfg')}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
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
      expect.arrayContaining(['scratch-db', 'restore-db', 'verify-db', 'drop-scratch-db']),
    );
    const slo = suites.find((s) => s.attrs.name === 'drill.slo');
    expect(slo?.children.map((c) => c.attrs.name)).toEqual(['restore RTO', 'restore RPO (backup age at restore)']);
    expect(Number(root?.attrs.failures)).toBe(0);
  });

  it('a missed SLO exits 3 and the gate fails in the report', async () => {
    const strict = config(
      { rto: '1ms', rpo: '5m' },
      (parse(readFileSync(cfg, 'utf8')) as { database: { url: string } }).database.url,
    );
    const b = await runCli(['--config', strict, 'bootstrap', '-y'], { env });
    expect(b.code, b.stderr).toBe(0);
    const report = join(dir, 'strict.md');
    const r = await runCli(['--config', strict, 'drill', '--scenario', 'backup-restore', '--report', report, '-y'], {
      env,
    });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(3);
    expect(readFileSync(report, 'utf8')).toMatch(/\| restore RTO \| [\d.]+s \| <= 0\.00s \| \*\*MISSED\*\* \|/);
  });
});
