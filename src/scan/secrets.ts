// Secret values written into env literals. Two signals, either one suffices:
//  - the VALUE looks like a credential (AWS key id, private key, known token formats, credentials
//    in a URL, or a long high-entropy string), whatever the variable is called;
//  - the NAME says secret (PASSWORD, TOKEN, API_KEY...) and the value is a real literal, not a
//    number, a boolean, a path, a file name or a $(VAR) reference.
// valueFrom.secretKeyRef never counts: that is the right way.

export interface SecretHit {
  reason: string;
  /** Strong value patterns are critical; name-only or entropy-only hits are high. */
  strong: boolean;
}

const VALUE_PATTERNS: { re: RegExp; what: string }[] = [
  { re: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b/, what: 'an AWS access key id' },
  { re: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/, what: 'a private key' },
  { re: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/, what: 'a GitHub token' },
  { re: /\bgithub_pat_[A-Za-z0-9_]{40,}\b/, what: 'a GitHub token' },
  { re: /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/, what: 'a Slack token' },
  { re: /\bglpat-[A-Za-z0-9_-]{20,}\b/, what: 'a GitLab token' },
  { re: /\bsk_live_[A-Za-z0-9]{20,}\b/, what: 'a Stripe secret key' },
  { re: /\bAIza[0-9A-Za-z_-]{35}\b/, what: 'a Google API key' },
  { re: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/, what: 'a JSON Web Token' },
  { re: /\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@$]{3,}@/i, what: 'credentials in a URL' },
];

const SECRET_NAME = /(PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL|AUTH_?KEY)/i;
// Names that say where a secret is, not what it is.
const REFERENCE_NAME = /(_FILE|_PATH|_DIR|_NAME|_REF|_ENV|_KEY_ID|_URL|_HOST|_ENDPOINT|_REGION|_TTL|_EXPIRY|_LENGTH)$/i;

export function shannonEntropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A long random-looking token: letters and digits mixed, no spaces, not a path/host/URL/UUID. */
export function looksHighEntropy(v: string): boolean {
  if (v.length < 20 || /\s/.test(v) || UUID.test(v)) return false;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) return false; // URL without credentials
  if (/^[\w.-]+(\/[\w.-]+)+(:[\w.-]+)?(@sha256:[0-9a-f]{64})?$/.test(v) && !/[+=]/.test(v)) {
    // paths, image references, host/path: structured, not random (a digest alone is not a secret)
    return false;
  }
  if (/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(v)) return false; // hostname
  if (!/[0-9]/.test(v) || !/[A-Za-z]/.test(v)) return false;
  // Hex alone is far more often a commit SHA or a checksum than a secret; a hex secret under a
  // secret-looking name is still caught by the name rule.
  if (/^[0-9a-f]+$/i.test(v)) return false;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[+/=_-]/].filter((r) => r.test(v)).length;
  if (classes < 3) return false;
  // Random base64-ish tokens sit above 4.2 bits per character from ~20 characters on.
  return shannonEntropy(v) >= 4.2;
}

function trivialLiteral(v: string): boolean {
  const t = v.trim();
  if (t.length < 6) return true;
  if (/^(true|false|yes|no|on|off|none|null|changeme|redacted|\*+)$/i.test(t)) return true;
  if (/^-?\d+(\.\d+)?[a-z]{0,2}$/i.test(t)) return true; // numbers, 30s, 5m
  if (/^\$\([A-Za-z_][A-Za-z0-9_]*\)$/.test(t)) return true; // $(OTHER_VAR) reference
  if (t.startsWith('/') || t.startsWith('./')) return true; // a path to a mounted secret file
  if (/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(t) && !/[0-9]/.test(t)) return true; // a plain lower-case word or name
  return false;
}

/** Why this env literal looks like a secret, or undefined. */
export function secretInEnv(name: string, value: string | undefined): SecretHit | undefined {
  if (value === undefined || value === '') return undefined;
  for (const p of VALUE_PATTERNS) {
    if (p.re.test(value)) return { reason: `its value contains ${p.what}`, strong: true };
  }
  if (SECRET_NAME.test(name) && !REFERENCE_NAME.test(name) && !trivialLiteral(value)) {
    return { reason: 'its name says it holds a secret and it has a literal value', strong: false };
  }
  if (looksHighEntropy(value)) return { reason: 'its value is a long high-entropy string', strong: false };
  return undefined;
}
