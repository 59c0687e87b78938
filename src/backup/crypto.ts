// Secret values in cluster-state backups: AES-256-GCM, key derived from a passphrase with scrypt and a
// per-backup random salt (stored in the manifest; the passphrase never is). Each value gets its own IV;
// the auth tag makes a wrong key or a tampered value fail loudly instead of restoring garbage.
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';

export const ENC_PREFIX = 'hivectl-enc:v1:';

export interface KeyParams {
  kdf: 'scrypt';
  salt: string; // base64
  alg: 'aes-256-gcm';
}

export function newKeyParams(): KeyParams {
  return { kdf: 'scrypt', salt: randomBytes(16).toString('base64'), alg: 'aes-256-gcm' };
}

export function deriveKey(passphrase: string, params: KeyParams): Buffer {
  return scryptSync(passphrase, Buffer.from(params.salt, 'base64'), 32, { N: 1 << 15, r: 8, p: 1, maxmem: 64 << 20 });
}

/** `hivectl-enc:v1:<iv>.<tag>.<ciphertext>` (base64 parts). `aad` binds the value to its Secret and key. */
export function encryptValue(key: Buffer, plaintext: Buffer, aad: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return `${ENC_PREFIX}${iv.toString('base64')}.${c.getAuthTag().toString('base64')}.${ct.toString('base64')}`;
}

export function decryptValue(key: Buffer, value: string, aad: string): Buffer {
  if (!value.startsWith(ENC_PREFIX)) throw new Error('value is not encrypted by hivectl');
  const [iv, tag, ct] = value.slice(ENC_PREFIX.length).split('.');
  if (iv === undefined || tag === undefined || ct === undefined) throw new Error('malformed encrypted value');
  const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
  d.setAAD(Buffer.from(aad));
  d.setAuthTag(Buffer.from(tag, 'base64'));
  return Buffer.concat([d.update(Buffer.from(ct, 'base64')), d.final()]);
}
