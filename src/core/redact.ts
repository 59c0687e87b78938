// The redaction layer: everything written to the journal, the logs and -o json/yaml passes through it.
// Three rules: values registered as secret at run time, values under secret-looking keys, and passwords
// inside URLs. It errs on the side of hiding: a hidden name costs a look at the config, a leaked
// password costs a rotation.

export const REDACTED = '***';

/**
 * Keys whose (string) values are secret: password, token, credential, private/access/api keys...
 * A bare `key` is not: S3 object keys and Redis queue keys are names an operator needs to see.
 */
const SECRET_KEY =
  /passw(or)?d|passwd|pwd|secret|token|credential|(api|access|private|secret|signing|encryption|master|ssh|client|session|account)[-_]?key|authorization|cookie|^auth$/i;
/**
 * ... unless the key clearly names or counts something rather than holding it (kmsKeyId, secretName,
 * encryptionKeyEnv, tokenExpiry, keyCount). Numbers and booleans are never secret.
 */
const NOT_SECRET_KEY =
  /(id|ids|arn|name|names|ref|env|count|path|file|kind|type|length|size|version|expires?|expiry|ttl|at|prefix|keys|format|mode|source|sources|field)$/i;
/** scheme://user:password@host: keep the user, hide the password. */
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)([^\s@/]+)(@)/gi;
/** Authorization headers pasted into messages. */
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g;

/** Secrets shorter than this are not replaced inside larger strings (they would shred ordinary text). */
const MIN_SECRET_LENGTH = 4;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) && !NOT_SECRET_KEY.test(key);
}

export class Redactor {
  private readonly secrets = new Set<string>();
  private ordered: string[] = [];

  /** Register a secret value (and its base64 form, as Kubernetes Secrets carry it). */
  add(value: string | undefined | null): void {
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) return;
    const forms = [value, Buffer.from(value, 'utf8').toString('base64')];
    let changed = false;
    for (const f of forms) {
      if (!this.secrets.has(f)) {
        this.secrets.add(f);
        changed = true;
      }
    }
    // Longest first, so a secret that contains another is replaced whole.
    if (changed) this.ordered = [...this.secrets].sort((a, b) => b.length - a.length);
  }

  get size(): number {
    return this.secrets.size;
  }

  /** Redact one string: registered secrets, URL passwords, bearer tokens. */
  string(s: string): string {
    let out = s;
    for (const secret of this.ordered) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    out = out.replace(URL_PASSWORD, `$1${REDACTED}$3`);
    out = out.replace(BEARER, `$1 ${REDACTED}`);
    return out;
  }

  /** Deep copy of `value` with every secret hidden. Safe on cycles, Errors, Dates, Maps and Buffers. */
  value(value: unknown): unknown {
    return this.walk(value, false, new WeakSet());
  }

  private walk(v: unknown, underSecretKey: boolean, seen: WeakSet<object>): unknown {
    if (v === null || v === undefined) return v;
    if (typeof v === 'string') return underSecretKey ? (v === '' ? v : REDACTED) : this.string(v);
    if (typeof v === 'number' || typeof v === 'boolean') return v;
    if (typeof v === 'bigint') return v.toString();
    if (typeof v !== 'object') return undefined; // functions, symbols: not data
    if (seen.has(v)) return '[circular]';
    seen.add(v);
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
    if (Buffer.isBuffer(v) || v instanceof Uint8Array) return underSecretKey ? REDACTED : `[${v.length} bytes]`;
    if (v instanceof Error) {
      const e: Record<string, unknown> = { name: v.name, message: this.string(v.message) };
      const code = (v as { exitCode?: unknown }).exitCode;
      if (typeof code === 'number') e.exitCode = code;
      const hint = (v as { hint?: unknown }).hint;
      if (typeof hint === 'string') e.hint = this.string(hint);
      return e;
    }
    if (Array.isArray(v)) return v.map((x) => this.walk(x, underSecretKey, seen));
    if (v instanceof Map) return this.walk(Object.fromEntries(v), underSecretKey, seen);
    if (v instanceof Set) return this.walk([...v], underSecretKey, seen);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const w = this.walk(x, underSecretKey || isSecretKey(k), seen);
      if (w !== undefined) out[k] = w;
    }
    return out;
  }
}
