import { TtlCache } from '../lib/ttl-cache';
import type { Database } from '../store/database';
import { findWebhook, type WebhookRecord } from '../store/queries/find-webhook';

/** How long a lookup is kept: what another process changed shows within this time. */
const CACHE_MS = 5_000;

/**
 * Which armed webhook answers `/hooks/<tenantSlug>/<path>`, as `findWebhook` reads it, kept for a few
 * seconds (the answer "none" too), so that a webhook request costs no round trip for its lookup and an
 * unknown path repeated costs one per few seconds. Concurrent lookups of one path share one query. This
 * process forgets at once when it changes triggers or a tenant (`forget`, after the change committed);
 * other processes' changes show within `CACHE_MS`, as for the authenticator's caches.
 */
export class WebhookDirectory {
  private readonly found = new TtlCache<string, WebhookRecord | null>({ ttlMs: CACHE_MS, max: 100_000 });
  private readonly pending = new Map<string, Promise<WebhookRecord | undefined>>();
  /** Bumped by `forget`: a lookup begun before it does not keep its answer. */
  private generation = 0;

  constructor(private readonly db: Database) {}

  /** What is kept about the path: its webhook, null for none, undefined when it must be looked up. */
  known(args: { tenantSlug: string; path: string }): WebhookRecord | null | undefined {
    return this.found.get(`${args.tenantSlug}\u0000${args.path}`);
  }

  find(args: { tenantSlug: string; path: string }): Promise<WebhookRecord | undefined> {
    const key = `${args.tenantSlug}\u0000${args.path}`;
    const cached = this.found.get(key);
    if (cached !== undefined) return Promise.resolve(cached ?? undefined);
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight;
    const generation = this.generation;
    const lookup = findWebhook(this.db.system, args)
      .then((record) => {
        if (generation === this.generation) this.found.set(key, record ?? null);
        return record;
      })
      .finally(() => {
        if (this.pending.get(key) === lookup) this.pending.delete(key);
      });
    this.pending.set(key, lookup);
    return lookup;
  }

  /** Forgets every lookup: this process armed or disarmed triggers, or changed a tenant (status, quotas). */
  forget(): void {
    this.generation++;
    this.found.clear();
    this.pending.clear();
  }
}
