import { createHash } from 'node:crypto';
import type { OAuth2Token } from './oauth2-token';

/**
 * Access tokens by tenant and client (endpoint, client id and secret, scope, audience), each kept until
 * `marginMs` before it expires; a token without a lifetime is not kept. Holds at most `max` tokens,
 * forgetting the oldest.
 */
export class OAuth2TokenCache {
  private readonly tokens = new Map<string, OAuth2Token & { expiresAt: number }>();
  private readonly max: number;
  private readonly marginMs: number;

  constructor(options: { max?: number; marginMs?: number } = {}) {
    this.max = options.max ?? 1_000;
    this.marginMs = options.marginMs ?? 30_000;
  }

  /** The cache key of a tenant's credential (a hash: the key holds no secret). */
  keyOf(tenantId: string, credential: Readonly<Record<string, unknown>>): string {
    const parts = [tenantId, ...['tokenUrl', 'clientId', 'clientSecret', 'scope', 'audience', 'clientAuth'].map((f) => credential[f] ?? null)];
    return createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
  }

  get(key: string, now: number): OAuth2Token | undefined {
    const token = this.tokens.get(key);
    if (token && token.expiresAt - this.marginMs > now) return token;
    if (token) this.tokens.delete(key);
    return undefined;
  }

  set(key: string, token: OAuth2Token): void {
    if (token.expiresAt === undefined) return;
    this.tokens.delete(key);
    this.tokens.set(key, { ...token, expiresAt: token.expiresAt });
    if (this.tokens.size > this.max) {
      const oldest = this.tokens.keys().next();
      if (!oldest.done) this.tokens.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.tokens.delete(key);
  }
}
