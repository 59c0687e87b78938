// Exceptions, annotations, expiry, baseline, gate, display filters, reporters (SARIF validated
// against the 2.1.0 schema), manifests parsing, and the bootstrap stack scanning clean.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import type { HivectlConfig } from '../../src/core/config.js';
import { configSchema } from '../../src/core/config-schema.js';
import { renderStack } from '../../src/render/stack.js';
import {
  EXEMPT_ANNOTATION,
  evaluate,
  gateFindings,
  makeBaseline,
  parseExemptAnnotation,
} from '../../src/scan/engine.js';
import { buildK8sInventory } from '../../src/scan/inventory.js';
import { parseManifestText } from '../../src/scan/manifests.js';
import { CHECKS } from '../../src/scan/registry.js';
import { render } from '../../src/scan/report/index.js';
import { makeReport } from '../../src/scan/report/model.js';
import { loadExceptions } from '../../src/scan/run.js';
import { looksHighEntropy, secretInEnv } from '../../src/scan/secrets.js';
import type { KObject } from '../../src/scan/types.js';
import { withWeb } from '../fixtures/scan/k8s-good.js';

const NOW = new Date('2026-11-27T12:00:00Z');

/** Two findings: a LoadBalancer (medium) and a privileged container (critical). */
function badObjects(): KObject[] {
  return withWeb((_p, c, objs) => {
    c.securityContext.privileged = true;
    objs.find((o) => o.kind === 'Service')!.spec.type = 'LoadBalancer';
  });
}
const inv = (objs: KObject[]) => ({ k8s: buildK8sInventory(objs, 'live') });
const ids = (list: { checkId: string; suppressed?: unknown }[]) =>
  list
    .filter((f) => !f.suppressed)
    .map((f) => f.checkId)
    .sort();

describe('exceptions, annotations and baseline', () => {
  it('without suppressions both findings are active', () => {
    const r = evaluate(inv(badObjects()), { scopes: ['k8s'], now: NOW });
    expect(ids(r.findings)).toEqual(['HIVE-NET-004', 'HIVE-PSS-001']);
  });

  it('an exception (globs allowed) suppresses until it expires, then the finding returns with a warning', () => {
    const exceptions = [
      { check: 'HIVE-NET-*', target: 'Service/shop/*', reason: 'public shop front', expires: '2026-12-31' },
    ];
    const live = evaluate(inv(badObjects()), { scopes: ['k8s'], exceptions, now: NOW });
    expect(ids(live.findings)).toEqual(['HIVE-PSS-001']);
    const sup = live.findings.find((f) => f.checkId === 'HIVE-NET-004')!;
    expect(sup.suppressed).toEqual({ by: 'exception', reason: 'public shop front', expires: '2026-12-31' });
    expect(live.warnings).toEqual([]);

    const expired = evaluate(inv(badObjects()), { scopes: ['k8s'], exceptions, now: new Date('2027-01-01T00:00:01Z') });
    expect(ids(expired.findings)).toEqual(['HIVE-NET-004', 'HIVE-PSS-001']);
    expect(expired.warnings).toEqual([
      'exception for HIVE-NET-* on Service/shop/* expired on 2026-12-31: its findings are reported again',
    ]);
  });

  it('the expiry date counts as a whole day (UTC)', () => {
    const exceptions = [{ check: 'HIVE-NET-004', target: 'Service/shop/web', reason: 'r', expires: '2026-11-27' }];
    const r = evaluate(inv(badObjects()), { scopes: ['k8s'], exceptions, now: new Date('2026-11-27T23:00:00Z') });
    expect(ids(r.findings)).toEqual(['HIVE-PSS-001']);
  });

  it('the hive.dev/scan-exempt annotation suppresses the named check on that object only', () => {
    const objs = badObjects();
    const svc = objs.find((o) => o.kind === 'Service')!;
    svc.metadata!.annotations = { [EXEMPT_ANNOTATION]: 'HIVE-NET-004: the public entry point' };
    const r = evaluate(inv(objs), { scopes: ['k8s'], now: NOW });
    expect(ids(r.findings)).toEqual(['HIVE-PSS-001']);
    expect(r.findings.find((f) => f.checkId === 'HIVE-NET-004')!.suppressed).toEqual({
      by: 'annotation',
      reason: 'the public entry point',
    });
  });

  it('the annotation on a Namespace covers the objects in it', () => {
    const objs = badObjects();
    objs[0]!.metadata!.annotations = { [EXEMPT_ANNOTATION]: 'HIVE-PSS-*: legacy namespace, being migrated' };
    const r = evaluate(inv(objs), { scopes: ['k8s'], now: NOW });
    expect(ids(r.findings)).toEqual(['HIVE-NET-004']);
  });

  it('an exceptions file is validated: a missing reason is a usage error naming the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scan-exc-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'exceptions:\n  - check: HIVE-NET-004\n    target: "*"\n    expires: 2027-01-01\n');
    await expect(loadExceptions(bad)).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('exceptions.0.reason'),
    });
    const good = join(dir, 'good.yaml');
    writeFileSync(
      good,
      'exceptions:\n  - check: HIVE-NET-004\n    target: "*"\n    reason: ok\n    expires: 2027-01-01\n',
    );
    expect(await loadExceptions(good)).toEqual([
      { check: 'HIVE-NET-004', target: '*', reason: 'ok', expires: '2027-01-01' },
    ]);
  });

  it('parses several annotation entries', () => {
    expect(parseExemptAnnotation('HIVE-NET-004: public; HIVE-POD-006: single replica\nHIVE-PSS-*')).toEqual([
      { check: 'HIVE-NET-004', reason: 'public' },
      { check: 'HIVE-POD-006', reason: 'single replica' },
      { check: 'HIVE-PSS-*', reason: '' },
    ]);
  });

  it('a baseline suppresses recorded findings; a new one still counts', () => {
    const first = evaluate(
      inv(
        withWeb((_p, c) => {
          c.securityContext.privileged = true;
        }),
      ),
      { scopes: ['k8s'], now: NOW },
    );
    const baseline = new Set(makeBaseline(first).findings.map((f) => f.fingerprint));
    const second = evaluate(inv(badObjects()), { scopes: ['k8s'], baseline, now: NOW });
    expect(ids(second.findings)).toEqual(['HIVE-NET-004']);
    expect(second.findings.find((f) => f.checkId === 'HIVE-PSS-001')!.suppressed?.by).toBe('baseline');
  });
});

describe('gate and display filters', () => {
  const r = evaluate(inv(badObjects()), { scopes: ['k8s'], now: NOW });
  it('--fail-on counts unsuppressed findings at or above the threshold', () => {
    expect(gateFindings(r, 'critical').map((f) => f.checkId)).toEqual(['HIVE-PSS-001']);
    expect(gateFindings(r, 'medium').length).toBe(2);
    expect(gateFindings(r, undefined)).toEqual([]);
  });
  it('--min-severity hides findings but never changes the gate or the counts', () => {
    const rep = makeReport(r, { version: 't', sources: {}, stats: { durationMs: 1 }, failOn: 'medium', now: NOW });
    const json = JSON.parse(render(rep, 'json', { minSeverity: 'critical' }));
    expect(json.findings.map((f: { checkId: string }) => f.checkId)).toEqual(['HIVE-PSS-001']);
    expect(json.gate).toEqual({ failOn: 'medium', failed: true, count: 2 });
    expect(json.counts.active.medium).toBe(1);
  });
  it('the framework summary counts checks passed and failed', () => {
    const pssR = r.frameworks.find((f) => f.id === 'pss-restricted')!;
    expect(pssR.failedChecks).toEqual(['HIVE-PSS-001']);
    expect(pssR.passed + pssR.failed).toBe(pssR.checks);
    expect(r.frameworks.find((f) => f.id === 'cis-rbac')!.failed).toBe(0);
  });
});

describe('reporters', () => {
  const exceptions = [{ check: 'HIVE-NET-004', target: 'Service/shop/web', reason: 'public', expires: '2027-01-01' }];
  const inventory = {
    ...inv(badObjects()),
    images: { ran: false, reason: 'trivy not found on PATH', images: ['x:1'], vulns: [] },
  };
  const r = evaluate(inventory, { scopes: ['k8s', 'images'], exceptions, now: NOW });
  const rep = makeReport(r, {
    version: '0.1.0',
    sources: { kubernetes: 'sandbox (https://127.0.0.1:1)' },
    stats: { durationMs: 5, k8sRequests: 16 },
    failOn: 'high',
    now: NOW,
  });

  it('SARIF is valid against the SARIF 2.1.0 schema and carries rules, levels and suppressions', () => {
    const schema = JSON.parse(
      readFileSync(new URL('../fixtures/scan/sarif-schema-2.1.0.json', import.meta.url), 'utf8'),
    );
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats.default(ajv);
    const validate = ajv.compile(schema);
    const sarif = JSON.parse(render(rep, 'sarif'));
    const ok = validate(sarif);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    const run = sarif.runs[0];
    expect(run.tool.driver.rules.map((x: { id: string }) => x.id)).toContain('HIVE-PSS-001');
    const priv = run.results.find((x: { ruleId: string }) => x.ruleId === 'HIVE-PSS-001');
    expect(priv.level).toBe('error');
    expect(run.tool.driver.rules[priv.ruleIndex].id).toBe('HIVE-PSS-001');
    const lb = run.results.find((x: { ruleId: string }) => x.ruleId === 'HIVE-NET-004');
    expect(lb.suppressions[0].kind).toBe('external');
    // GitHub code scanning needs a repository-relative artifact URI on every result.
    for (const res of run.results) expect(res.locations[0].physicalLocation.artifactLocation.uri).toMatch(/^[^:@]+$/);
    expect(priv.locations[0].physicalLocation.artifactLocation.uri).toBe('kubernetes/Deployment/shop/web');
  });

  it('SARIF from manifests points at file and line', () => {
    const objs = parseManifestText(
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: a\nspec:\n  containers:\n  - name: c\n    image: nginx\n',
      'deploy/app.yaml',
    );
    const rr = evaluate({ k8s: buildK8sInventory(objs, 'manifests') }, { scopes: ['k8s'] });
    const sarif = JSON.parse(render(makeReport(rr, { version: 't', sources: {}, stats: { durationMs: 0 } }), 'sarif'));
    const res = sarif.runs[0].results.find((x: { ruleId: string }) => x.ruleId === 'HIVE-IMG-001');
    expect(res.locations[0].physicalLocation).toEqual({
      artifactLocation: { uri: 'deploy/app.yaml' },
      region: { startLine: 6 },
    });
  });

  it('JUnit has one testcase per check; images are skipped because Trivy did not run', () => {
    const x = render(rep, 'junit');
    expect((x.match(/<testcase /g) ?? []).length).toBe(CHECKS.length - 1);
    expect(x).toMatch(/name="HIVE-PSS-001: Privileged container" time="0"><failure message="1 finding\(s\)"/);
    expect(x).toMatch(
      /name="HIVE-IMG-010: [^"]*" time="0"><skipped message="image check did not run: trivy not found on PATH/,
    );
    expect(x).toMatch(/name="HIVE-S3-001: [^"]*" time="0"><skipped message="scope aws was not scanned"/);
    // suppressed finding: the case passes
    expect(x).toMatch(/name="HIVE-NET-004: [^"]*" time="0"><\/testcase>/);
  });

  it('the images framework says "not run" when Trivy did not run, instead of passing', () => {
    expect(r.frameworks.find((f) => f.id === 'images')).toMatchObject({ checks: 1, passed: 0, failed: 0, skipped: 1 });
    expect(render(rep, 'table')).toMatch(/Image vulnerabilities \(Trivy\)\s+0 \/ 1\s+not run: 1/);
  });

  it('table and markdown show findings, the note, frameworks and the gate', () => {
    const t = render(rep, 'table');
    expect(t).toContain('HIVE-PSS-001');
    expect(t).toContain('image check did not run: trivy not found on PATH');
    expect(t).not.toContain('HIVE-NET-004');
    expect(t).toContain('Gate FAILED: 1 finding(s) at high or above');
    expect(render(rep, 'table', { showSuppressed: true })).toContain('suppressed by exception: public');
    const md = render(rep, 'markdown');
    expect(md).toContain('| critical | HIVE-PSS-001 |');
    expect(md).toContain('## Frameworks');
  });
});

describe('secrets in env: precision', () => {
  const yes: [string, string][] = [
    ['X', 'AKIAIOSFODNN7EXAMPLE'],
    ['GITHUB', 'ghp_0123456789abcdefghijABCDEFGHIJ012345'],
    ['DATABASE_URL', 'postgres://hive:s3cr3tpw@db:5432/hive'],
    ['JWT', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'],
    ['API_KEY', 'abc123def456'],
    ['SIGNING', 'hZ8kQ2mX9vB4nR7tY1wL5pJ3cF6gD0sA'],
    ['SESSION_SECRET', '3f786850e387550fdab836ed7e6dc881de23001b'],
  ];
  const no: [string, string][] = [
    ['LOG_LEVEL', 'debug'],
    ['TOKEN_TTL', '3600'],
    ['PASSWORD_FILE', '/run/secrets/pw'],
    ['DB_HOST', 'hive-db.hive-api.svc.cluster.local'],
    ['IMAGE', 'ghcr.io/agent-hive/api:1.0.0'],
    ['REQUEST_ID', '123e4567-e89b-12d3-a456-426614174000'],
    ['AWS_ACCESS_KEY_ID_NAME', 'backup-credentials'],
    ['SECRET_NAME', 'hive-db'],
    ['ENABLE_TOKEN_AUTH', 'true'],
    ['CALLBACK_URL', 'https://api.example.com/v1/callback'],
    ['PASSWORD', '$(DB_PASSWORD)'],
    ['GIT_SHA', '3f786850e387550fdab836ed7e6dc881de23001b'],
    ['CONFIG_CHECKSUM', 'sha256:5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592'],
  ];
  for (const [n, v] of yes) it(`flags ${n}=${v.slice(0, 12)}...`, () => expect(secretInEnv(n, v)).toBeDefined());
  for (const [n, v] of no) it(`leaves ${n}=${v} alone`, () => expect(secretInEnv(n, v)).toBeUndefined());
  it('entropy alone needs length', () => expect(looksHighEntropy('aB3$xY9')).toBe(false));
});

describe('the hardened bootstrap stack', () => {
  it('renders for prod and scans with no finding at high or above', async () => {
    const config = configSchema.parse({}) as HivectlConfig;
    const objs = (await renderStack(config, { env: 'prod' })) as unknown as KObject[];
    const text = objs.map((o) => JSON.stringify(o)).join('\n---\n');
    const parsed = parseManifestText(text, '-');
    const r = evaluate({ k8s: buildK8sInventory(parsed, 'manifests') }, { scopes: ['k8s'] });
    const bad = gateFindings(r, 'high');
    expect(bad.map((f) => `${f.checkId} ${f.target} ${f.message}`)).toEqual([]);
    expect(r.findings.filter((f) => f.severity === 'medium')).toEqual([]);
  });
});
