import { TtlCache } from '../lib/ttl-cache';
import type { Database } from '../store/database';

/** How long a tenant's limits are reused before they are read again. */
const CACHE_MS = 30_000;

/** The limits of tenants' plans that steps must keep, read on the system path and cached briefly. */
export class TenantLimits {
  private readonly payload = new TtlCache<string, number | null>({ ttlMs: CACHE_MS, max: 100_000 });

  constructor(private readonly db: Database) {}

  /** The tenant's maxPayloadBytes (largest step output), or null when unlimited. */
  async maxPayloadBytes(tenantId: string): Promise<number | null> {
    const cached = this.payload.get(tenantId);
    if (cached !== undefined) return cached;
    const { rows } = await this.db.systemQuery<{ limit: number | null }>(
      "a worker reads a tenant's payload limit",
      "SELECT (quotas->>'maxPayloadBytes')::int AS limit FROM tenants WHERE id = $1",
      [tenantId],
    );
    const limit = rows[0]?.limit ?? null;
    this.payload.set(tenantId, limit);
    return limit;
  }
}
