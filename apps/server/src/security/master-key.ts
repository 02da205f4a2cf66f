import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { UserError } from '../lib/user-error';

/**
 * A master key: 32 bytes from AIQ_MASTER_KEY (base64), or from `master.key` in the data directory,
 * created with mode 0600 on first start (see master-key-ring.ts for the current and previous keys).
 * It never encrypts data itself: it wraps the tenants' data keys (vault.ts) and seals a few platform
 * secrets (TOTP seeds), and keys the JWT signature. Its id (a hash prefix) is stored beside everything
 * it wrapped, so rotation knows what to re-wrap and a server which key unwraps it.
 */
export class MasterKey {
  readonly id: string;
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new UserError(`the master key must be 32 bytes; it is ${key.length}`);
    this.key = key;
    this.id = createHash('sha256').update('aiq-master-key-id').update(key).digest('hex').slice(0, 16);
  }

  static fromBase64(text: string, source: string): MasterKey {
    const key = Buffer.from(text.trim(), 'base64');
    if (key.length !== 32)
      throw new UserError(`${source}: must be 32 bytes in base64 (44 characters); it decodes to ${key.length} bytes`);
    return new MasterKey(key);
  }

  static generate(): MasterKey {
    return new MasterKey(randomBytes(32));
  }

  toBase64(): string {
    return this.key.toString('base64');
  }

  /** A key derived for one purpose (HKDF-SHA256), e.g. the JWT signing key. */
  derive(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.key, Buffer.alloc(0), `automateiq:${purpose}`, 32));
  }

  /** AES-256-GCM: iv (12) | tag (16) | ciphertext; `context` is bound as additional data. */
  seal(plain: Buffer, context: string): Buffer {
    return sealWith(this.key, plain, context);
  }

  open(sealed: Buffer, context: string): Buffer {
    return openWith(this.key, sealed, context);
  }
}

export function sealWith(key: Buffer, plain: Buffer, context: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

export function openWith(key: Buffer, sealed: Buffer, context: string): Buffer {
  if (sealed.length < 28) throw new Error('sealed data is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  decipher.setAAD(Buffer.from(context));
  decipher.setAuthTag(sealed.subarray(12, 28));
  return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
}

export const MASTER_KEY_FILE = 'master.key';
