import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SigningKeys } from './access-token';

/**
 * The capability in a run's resume URL (`POST /resume/<tenant>/<run>/<token>`): who holds it may deliver
 * events to that run and no other. `<master key id>.<HMAC-SHA256 of tenant and run>`, keyed by a key
 * derived from the master key (`MasterKeyRing.signingKeys('run-resume')`): nothing is stored, and URLs
 * stay valid across a key rotation while the previous key is listed.
 */
export class RunResumeTokens {
  constructor(private readonly keys: SigningKeys) {}

  sign(tenantId: string, runId: string): string {
    const { id, key } = this.keys.current();
    return `${id}.${mac(key, tenantId, runId)}`;
  }

  async verify(tenantId: string, runId: string, token: string): Promise<boolean> {
    const dot = token.indexOf('.');
    if (dot < 1 || dot > 64) return false;
    const key = await this.keys.find(token.slice(0, dot));
    if (!key) return false;
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const wanted = Buffer.from(mac(key, tenantId, runId), 'base64url');
    return given.length === wanted.length && timingSafeEqual(given, wanted);
  }
}

function mac(key: Uint8Array, tenantId: string, runId: string): string {
  return createHmac('sha256', key).update(`run-resume:${tenantId}:${runId}`).digest('base64url');
}
