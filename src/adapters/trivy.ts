// Image vulnerabilities through Trivy, when it is on PATH. When it is absent or fails, the result
// says so (ran: false + reason) and the report carries that as a note: never a silent pass.
import type { ImageInventory, ImageVuln, Severity } from '../scan/types.js';
import { run, which } from './exec.js';

const SEV: Record<string, Severity> = {
  CRITICAL: 'critical',
  HIGH: 'high',
  MEDIUM: 'medium',
  LOW: 'low',
  UNKNOWN: 'note',
};

export interface TrivyOptions {
  signal?: AbortSignal | undefined;
  /** Per image; Trivy may need to pull the image and its database. */
  timeoutMs?: number;
  /** Minimum Trivy severity to keep. */
  severities?: string;
}

export async function scanImages(images: string[], o: TrivyOptions = {}): Promise<ImageInventory> {
  const unique = [...new Set(images.filter(Boolean))].sort();
  if (!unique.length) return { ran: true, images: [], vulns: [] };
  const bin = await which('trivy');
  if (!bin) return { ran: false, reason: 'trivy not found on PATH', images: unique, vulns: [] };
  const vulns: ImageVuln[] = [];
  const failed: string[] = [];
  for (const image of unique) {
    const r = await run(
      bin,
      [
        'image',
        '--quiet',
        '--format',
        'json',
        '--scanners',
        'vuln',
        '--severity',
        o.severities ?? 'CRITICAL,HIGH,MEDIUM,LOW',
        image,
      ],
      { signal: o.signal, timeoutMs: o.timeoutMs ?? 300_000, reject: false },
    );
    if (r.exitCode !== 0) {
      failed.push(`${image}: ${r.stderr.trim().split('\n').slice(-1)[0] ?? `exit ${r.exitCode}`}`);
      continue;
    }
    try {
      const doc = JSON.parse(r.stdout) as {
        Results?: {
          Vulnerabilities?: {
            VulnerabilityID?: string;
            Severity?: string;
            PkgName?: string;
            InstalledVersion?: string;
            FixedVersion?: string;
            Title?: string;
          }[];
        }[];
      };
      for (const res of doc.Results ?? [])
        for (const v of res.Vulnerabilities ?? [])
          vulns.push({
            image,
            id: v.VulnerabilityID ?? '?',
            severity: SEV[String(v.Severity).toUpperCase()] ?? 'note',
            pkg: v.PkgName,
            installed: v.InstalledVersion,
            fixed: v.FixedVersion,
            title: v.Title,
          });
    } catch {
      failed.push(`${image}: trivy printed output that is not JSON`);
    }
  }
  if (failed.length === unique.length)
    return { ran: false, reason: `trivy failed on every image (${failed[0]})`, images: unique, vulns };
  return {
    ran: true,
    images: unique,
    vulns,
    ...(failed.length ? { reason: `trivy failed on ${failed.length} image(s): ${failed.join('; ')}` } : {}),
  };
}
