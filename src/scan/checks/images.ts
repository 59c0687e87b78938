// Image vulnerabilities from Trivy (src/adapters/trivy.ts). When Trivy did not run the report
// carries a note saying so: an image check that did not run is never a silent pass.
import type { Check } from '../types.js';

export const imageChecks: Check[] = [
  {
    id: 'HIVE-IMG-000',
    severity: 'note',
    scope: 'images',
    title: 'Image vulnerability check did not run',
    why: 'Known CVEs in images were not looked for; absence of findings here means nothing.',
    remediation: 'Install trivy on PATH (with its vulnerability database available) and scan again.',
    frameworks: ['images'],
    references: [{ label: 'Trivy', url: 'https://trivy.dev/' }],
    run: (inv) =>
      inv.images && !inv.images.ran
        ? [
            {
              checkId: 'HIVE-IMG-000',
              severity: 'note',
              target: 'images',
              message: `image check did not run: ${inv.images.reason ?? 'unknown reason'} (${inv.images.images.length} images not scanned)`,
            },
          ]
        : [],
  },
  {
    id: 'HIVE-IMG-010',
    severity: 'high',
    scope: 'images',
    title: 'Image has known vulnerabilities',
    why: 'A published CVE in a running image is the easiest way in: exploits for it are public.',
    remediation: 'Rebuild the image on a patched base or bump the package to the fixed version Trivy names.',
    frameworks: ['images'],
    references: [
      { label: 'Trivy vulnerability scanning', url: 'https://trivy.dev/latest/docs/scanner/vulnerability/' },
    ],
    run: (inv) =>
      (inv.images?.vulns ?? []).map((v) => ({
        checkId: 'HIVE-IMG-010',
        severity: v.severity,
        target: `image:${v.image}`,
        key: `${v.id}/${v.pkg ?? ''}`,
        message: `${v.id}${v.pkg ? ` in ${v.pkg} ${v.installed ?? ''}` : ''}${v.fixed ? ` (fixed in ${v.fixed})` : ''}${v.title ? `: ${v.title}` : ''}`,
      })),
  },
];
