// The body of `hivectl scan`, loaded lazily by src/commands/scan.ts.
import { setMaxListeners } from 'node:events';
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { GateError, UsageError } from '../core/errors.js';
import { VERSION } from '../core/version.js';
import { makeBaseline } from './engine.js';
import { formatFromFileName, type ReportFormat, render } from './report/index.js';
import { runScan } from './run.js';
import { parseSeverity, type Scope, type Severity } from './types.js';

const SCOPES: Scope[] = ['k8s', 'aws', 'images'];

export async function scanAction(cmd: Command): Promise<void> {
  const o = cmd.optsWithGlobals() as Record<string, unknown>;
  const { loadConfigFromProcess } = await import('../core/config-load.js');
  const { config } = await loadConfigFromProcess(o);

  let scopes: Scope[];
  if (Array.isArray(o.scope) && o.scope.length) {
    const bad = (o.scope as string[]).filter((s) => !SCOPES.includes(s as Scope));
    if (bad.length)
      throw new UsageError(`--scope: unknown scope ${bad.join(', ')}`, {
        hint: 'use a comma-separated list of k8s, aws, images',
      });
    scopes = [...new Set(o.scope as Scope[])];
  } else {
    scopes = ['k8s', 'images'];
    if (config.aws.region && !o.manifests) scopes.push('aws');
  }
  if (o.writeBaseline && !o.baseline)
    throw new UsageError('--write-baseline needs --baseline FILE', {
      hint: 'e.g. --baseline .hivectl-baseline.json --write-baseline',
    });

  const outFormat = (o.output as string) ?? 'table';
  let reportFormat = o.format as ReportFormat | undefined;
  const reportFile = o.report as string | undefined;
  if (reportFile && !reportFormat) reportFormat = formatFromFileName(reportFile) ?? 'json';
  // Without --report, --format decides what stdout gets; -o json|yaml is the same as --format json|yaml.
  const stdoutFormat: ReportFormat = reportFile
    ? (outFormat as ReportFormat)
    : (reportFormat ?? (outFormat as ReportFormat));

  const failOn = o.failOn ? parseSeverity(String(o.failOn)) : undefined;
  const minSeverity = o.minSeverity ? parseSeverity(String(o.minSeverity)) : undefined;
  const verbose = Boolean(o.verbose);
  const quiet = Boolean(o.quiet) && !verbose;

  const ac = new AbortController();
  // One listener per in-flight LIST/SDK call: many by design.
  setMaxListeners(200, ac.signal);
  const onSig = () => ac.abort();
  process.once('SIGINT', onSig);
  let res: Awaited<ReturnType<typeof runScan>>;
  try {
    res = await runScan({
      config,
      scopes,
      manifests: o.manifests as string | undefined,
      kubeconfig: config.cluster.kubeconfig,
      context: config.cluster.context,
      includeSystemNamespaces: Boolean(o.includeSystemNamespaces),
      buckets: o.bucket as string[] | undefined,
      dbInstances: o.dbInstance as string[] | undefined,
      exceptionsFile: o.exceptions as string | undefined,
      baselineFile: o.baseline as string | undefined,
      writingBaseline: Boolean(o.writeBaseline),
      failOn: failOn as Severity | undefined,
      version: VERSION,
      signal: ac.signal,
    });
  } finally {
    process.removeListener('SIGINT', onSig);
  }
  const { report, warnings } = res;
  for (const w of warnings) if (!quiet) process.stderr.write(`hivectl: warning: ${w}\n`);
  if (verbose) {
    const s = report.stats;
    process.stderr.write(
      `hivectl: scanned in ${s.durationMs} ms${s.k8sRequests !== undefined ? `; Kubernetes API requests: ${s.k8sRequests} for ${s.k8sObjects} objects` : ''}${s.awsRequests !== undefined ? `; AWS requests: ${s.awsRequests}` : ''}\n`,
    );
  }

  if (o.writeBaseline) {
    const b = makeBaseline(report);
    await writeFile(String(o.baseline), `${JSON.stringify(b, null, 2)}\n`);
    if (!quiet) process.stderr.write(`hivectl: wrote ${b.findings.length} finding(s) to the baseline ${o.baseline}\n`);
    return;
  }

  const color = o.color !== false && !process.env.NO_COLOR && Boolean(process.stdout.isTTY);
  const ro = { minSeverity, showSuppressed: Boolean(o.showSuppressed), color };
  if (reportFile && reportFormat) {
    await writeFile(reportFile, render(report, reportFormat, { ...ro, color: false }));
    if (!quiet) process.stderr.write(`hivectl: wrote the ${reportFormat} report to ${reportFile}\n`);
  }
  process.stdout.write(render(report, stdoutFormat, ro));

  if (report.gate.failed)
    throw new GateError(`scan gate failed: ${report.gate.count} finding(s) at ${report.gate.failOn} or above`, {
      hint: 'fix them, or record accepted ones in --exceptions with a reason and an expiry date',
    });
}
