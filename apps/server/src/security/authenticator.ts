import { PERMISSIONS, type Permission } from '@automateiq/contracts';
import type { Database } from '../store/database';
import { findApiKeyByHash } from '../store/queries/find-api-key-by-hash';
import { findUserAccess, type UserAccess } from '../store/queries/find-user-access';
import { getTenant, type TenantRecord } from '../store/queries/get-tenant';
import { isSessionRevoked } from '../store/queries/is-session-revoked';
import type { AccessTokens } from './access-token';
import type { Principal } from './principal';
import { API_KEY_PATTERN, hashToken } from './secret-token';
import { TtlCache } from '../lib/ttl-cache';

/** How long an authentication lookup is reused in this process. Revocations made here apply at once. */
const CACHE_MS = 5_000;
/** An API key's last use is written at most this often. */
const TOUCH_MS = 60_000;

interface CachedKey {
  principal: Extract<Principal, { kind: 'apiKey' }>;
  expiresAt: number | null;
  revoked: boolean;
}

/**
 * Turns a bearer token into a principal: an API key (looked up by its SHA-256 hash) or a JWT access
 * token whose session (refresh token family) has not been revoked. Lookups are cached for a few seconds, so a request costs no database round trip for
 * authentication; this process forgets a key, user or tenant at once when it changes them
 * (`forget*`), other processes within `CACHE_MS`.
 */
export class Authenticator {
  private readonly keys = new TtlCache<string, CachedKey | null>({ ttlMs: CACHE_MS, max: 50_000 });
  private readonly users = new TtlCache<string, UserAccess | null>({ ttlMs: CACHE_MS, max: 50_000 });
  private readonly tenants = new TtlCache<string, TenantRecord | null>({ ttlMs: CACHE_MS, max: 50_000 });
  private readonly revokedSessions = new TtlCache<string, boolean>({ ttlMs: CACHE_MS, max: 100_000 });
  private readonly touched = new Map<string, number>();

  constructor(private readonly deps: { db: Database; tokens: AccessTokens; onError: (error: unknown) => void }) {}

  /** The principal of an `Authorization` header, or undefined when it names nobody valid. */
  async authenticate(header: string | undefined): Promise<Principal | undefined> {
    if (header === undefined) return undefined;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const token = match?.[1];
    if (token === undefined) return undefined;
    if (API_KEY_PATTERN.test(token)) return this.apiKey(token);
    if (token.length > 4096) return undefined;
    const claims = await this.deps.tokens.verify(token);
    if (!claims) return undefined;
    if (await this.sessionRevoked(claims.sessionId)) return undefined;
    const user = await this.userAccess(claims.userId);
    if (!user) return undefined;
    return {
      kind: 'user',
      userId: user.id,
      email: user.email,
      platformAdmin: user.platformAdmin,
      totpEnabled: user.totpEnabled,
      sessionId: claims.sessionId,
    };
  }

  async userAccess(userId: string): Promise<UserAccess | undefined> {
    const cached = this.users.get(userId);
    if (cached !== undefined) return cached ?? undefined;
    const found = (await findUserAccess(this.deps.db.system, userId)) ?? null;
    this.users.set(userId, found);
    return found ?? undefined;
  }

  async tenant(tenantId: string): Promise<TenantRecord | undefined> {
    const cached = this.tenants.get(tenantId);
    if (cached !== undefined) return cached ?? undefined;
    const found = (await getTenant(this.deps.db.system, tenantId)) ?? null;
    this.tenants.set(tenantId, found);
    return found ?? undefined;
  }

  /** Whether the access token's session was logged out or revoked (checked at most every few seconds). */
  private async sessionRevoked(sessionId: string): Promise<boolean> {
    const cached = this.revokedSessions.get(sessionId);
    if (cached !== undefined) return cached;
    const revoked = await isSessionRevoked(this.deps.db.system, sessionId);
    this.revokedSessions.set(sessionId, revoked);
    return revoked;
  }

  /** Forgets what is known of a session, e.g. after it was revoked here. */
  forgetSession(sessionId: string): void {
    this.revokedSessions.delete(sessionId);
  }

  forgetUser(userId: string): void {
    this.users.delete(userId);
  }

  forgetTenant(tenantId: string): void {
    this.tenants.delete(tenantId);
    // Memberships embed the tenant: drop them all (rare: tenant changes are admin actions).
    this.users.clear();
  }

  forgetApiKeys(): void {
    this.keys.clear();
  }

  private async apiKey(token: string): Promise<Principal | undefined> {
    const hash = hashToken(token);
    const cacheKey = hash.toString('base64');
    let cached = this.keys.get(cacheKey);
    if (cached === undefined) {
      const row = await findApiKeyByHash(this.deps.db.system, hash);
      cached = row
        ? {
            principal: {
              kind: 'apiKey',
              keyId: row.id,
              name: row.name,
              tenantId: row.tenantId,
              scopes: new Set(row.scopes.filter((s): s is Permission => (PERMISSIONS as string[]).includes(s))),
            },
            expiresAt: row.expiresAt?.getTime() ?? null,
            revoked: row.revokedAt !== null,
          }
        : null;
      this.keys.set(cacheKey, cached);
    }
    if (!cached || cached.revoked) return undefined;
    const now = Date.now();
    if (cached.expiresAt !== null && cached.expiresAt <= now) return undefined;
    this.touch(cached.principal, now);
    return cached.principal;
  }

  /** Records the key's last use, at most once a minute per key, off the request's path. */
  private touch(principal: Extract<Principal, { kind: 'apiKey' }>, now: number): void {
    const last = this.touched.get(principal.keyId) ?? 0;
    if (now - last < TOUCH_MS) return;
    this.touched.set(principal.keyId, now);
    if (this.touched.size > 100_000) this.touched.clear();
    this.deps.db
      .systemQuery('record an API key last use', 'UPDATE api_keys SET last_used_at = now() WHERE tenant_id = $1 AND id = $2', [
        principal.tenantId,
        principal.keyId,
      ])
      .catch(this.deps.onError);
  }
}
