import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { toYaml } from '../../src/core/yaml-emit.js';

// Strings a YAML reader could take for something else, or that need escaping.
const TRICKY = [
  '',
  ' ',
  ' lead',
  'trail ',
  'yes',
  'No',
  'ON',
  'off',
  'y',
  'n',
  'null',
  'Null',
  '~',
  'true',
  'False',
  '1',
  '-1',
  '+1',
  '1.0',
  '.5',
  '1e3',
  '0x1f',
  '0o17',
  '.inf',
  '-.Inf',
  '.nan',
  'Infinity',
  '2026-11-27',
  '2026-11-27T06:00:00Z',
  '12:30',
  '-',
  '- a',
  'a: b',
  'a:',
  ':a',
  'a #b',
  '#x',
  '@x',
  '*alias',
  '&anchor',
  '!tag',
  '%directive',
  '`x',
  "'quoted'",
  '"quoted"',
  '[a]',
  '{a: 1}',
  '?',
  '? a',
  '|',
  '>',
  '<<',
  '---',
  '...',
  'a\nb',
  'line\n',
  'tab\there',
  'back\\slash',
  'cr\r\n',
  'nul\u0000',
  'bell\u0007',
  'del\u007f',
  'c1\u0085',
  'ls\u2028ps\u2029',
  'bom\ufeff',
  'é ü 日本',
  'emoji 😀',
  'lone \ud800 high',
  'lone \udc00 low',
  'app.kubernetes.io/name',
  'hive-api',
  'sha256:abc',
  'https://example.com/x?y=1#z',
  'a=b',
  'under_score',
];

const K8S = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'hive-api',
    namespace: 'hive-api',
    labels: { 'app.kubernetes.io/name': 'hive-api', 'chaos.hive.dev/enabled': 'true' },
    annotations: { 'hivectl.dev/config': '{"a":1,"b":[1,2]}', empty: '' },
  },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: 'hive-api' } },
    template: {
      metadata: { labels: { app: 'hive-api' } },
      spec: {
        securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          {
            name: 'api',
            image: 'ghcr.io/hive/api:1.2.3',
            args: ['--port', '8080', '--flag=yes'],
            env: [
              { name: 'A', value: '1' },
              { name: 'B', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
            ],
            resources: { limits: { cpu: '500m', memory: '256Mi' }, requests: {} },
            ports: [{ containerPort: 8080, protocol: 'TCP' }],
            readOnlyRootFilesystem: false,
          },
        ],
        volumes: [],
        tolerations: null,
      },
    },
  },
  data: { 'script.sh': '#!/bin/sh\nset -e\necho "hi: there"\n' },
  nested: [[1, 2], [], [{}], [[{ a: [] }]]],
  numbers: [0, -0, 1.5, -2, 1e21, 1e-7, 123456789012],
};

describe('toYaml', () => {
  it('writes a Kubernetes object that reads back as the same data', () => {
    const text = toYaml(K8S);
    expect(parse(text)).toEqual(JSON.parse(JSON.stringify(K8S)));
    // Readable block style, like kubectl's: identifiers unquoted, nested mappings indented.
    expect(text).toContain('kind: Deployment\n');
    expect(text).toContain('  labels:\n    app.kubernetes.io/name: hive-api\n');
    expect(text).toContain('    chaos.hive.dev/enabled: "true"\n');
    expect(text).toContain('  replicas: 3\n');
  });

  it.each(TRICKY.map((s) => [s]))('keeps the string %j as a string, as a value and as a key', (s) => {
    const doc = { v: s, list: [s], [s]: s };
    expect(parse(toYaml(doc))).toEqual(doc);
  });

  it('writes scalars and empty collections at the top level', () => {
    for (const v of [null, true, false, 0, 42, -1.25, 'x', 'yes', '', {}, []]) {
      expect(parse(toYaml(v))).toEqual(v);
    }
  });

  it('drops undefined members like JSON does, and refuses what JSON cannot hold', () => {
    expect(parse(toYaml({ a: 1, b: undefined }))).toEqual({ a: 1 });
    expect(parse(toYaml({ only: undefined }))).toEqual({});
    expect(() => toYaml({ n: Number.NaN })).toThrow(/NaN/);
    expect(() => toYaml({ f: () => 1 })).toThrow(/function/);
  });

  it('joins into a multi-document stream that parses document by document', () => {
    const docs = [K8S, { kind: 'ConfigMap', data: { 'a: b': '---' } }, { kind: 'Secret', data: {} }];
    const text = docs.map((d) => toYaml(d)).join('---\n');
    const back = parseAllDocuments(text).map((d) => {
      expect(d.errors).toEqual([]);
      return d.toJS();
    });
    expect(back).toEqual(JSON.parse(JSON.stringify(docs)));
  });

  it('round-trips random data built from tricky keys and values', () => {
    // A fixed-seed generator: the same cases every run.
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const gen = (depth: number): unknown => {
      const r = rnd(depth > 3 ? 4 : 7);
      if (r === 0) return TRICKY[rnd(TRICKY.length)];
      if (r === 1) return rnd(2) === 0 ? rnd(1000) - 500 : rnd(100000) / 7;
      if (r === 2) return rnd(2) === 0;
      if (r === 3) return null;
      if (r === 4) return Array.from({ length: rnd(4) }, () => gen(depth + 1));
      return Object.fromEntries(Array.from({ length: rnd(5) }, () => [TRICKY[rnd(TRICKY.length)], gen(depth + 1)]));
    };
    for (let i = 0; i < 300; i++) {
      const v = gen(0);
      expect(parse(toYaml(v))).toEqual(v);
    }
  });
});
