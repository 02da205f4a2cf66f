import pg from 'pg';

/** A connection (inside a transaction, or the system pool); queries take it as their first parameter. */
export type Tx = Pick<pg.PoolClient, 'query'>;

export interface DatabaseOptions {
  url: string;
  /** Size of the tenant pool. Default: 20. */
  maxConnections?: number;
  /** Size of the system pool (queue claims, heartbeats, scans). Default: 4. */
  maxSystemConnections?: number;
  /** Application name shown in pg_stat_activity. */
  applicationName?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);

/**
 * The two pools, and the only ways to reach the data:
 * - `withTenant`: a transaction as `aiq_app` (no BYPASSRLS) with `app.tenant_id` set, so row-level
 *   security confines every statement to one tenant. Every request and every job uses it.
 * - `withSystem` / `systemQuery`: as `aiq_system` (BYPASSRLS), on a pool of its own, for the few
 *   reviewed cross-tenant paths (the queue claim, lease heartbeats, scans, onboarding). Each call
 *   names its reason.
 * - a tenant read function on the tenant pool (`aiq_read_run`, migration 0010): a SQL function that
 *   sets `app.tenant_id` for its own one-call transaction, for the hottest reads (one round trip).
 * Tenant-pool sessions start as `aiq_app` with no tenant, so a query outside `withTenant` sees no
 * tenant rows.
 */
export class Database {
  readonly pool: pg.Pool;
  private readonly systemPool: pg.Pool;

  constructor(options: DatabaseOptions) {
    const common = {
      connectionString: options.url,
      application_name: options.applicationName ?? 'automateiq',
    };
    // Every session starts as its role. Statements are planned for their actual parameters each time:
    // a generic plan cached while the history tables were small would scan a tenant's whole history
    // once they are large (seen: 15 ms instead of 0.5 ms per batch).
    const session = '-c plan_cache_mode=force_custom_plan';
    this.pool = new pg.Pool({
      ...common,
      max: options.maxConnections ?? 20,
      options: `-c role=aiq_app ${session}`,
    });
    this.systemPool = new pg.Pool({
      ...common,
      max: options.maxSystemConnections ?? 4,
      options: `-c role=aiq_system ${session}`,
    });
    // An idle client's error (e.g. the server restarted) must not crash the process; the pool drops it.
    this.pool.on('error', () => {});
    this.systemPool.on('error', () => {});
  }

  /**
   * `genericPlans`: the transaction's prepared statements keep one plan (plan_cache_mode
   * force_generic_plan) instead of being planned for their parameters at every execution: for
   * statements driven by their parameter arrays (a batch of starts), whose plan does not depend on
   * the values, where planning is much of their cost.
   */
  withTenant<T>(tenantId: string, fn: (tx: Tx) => Promise<T>, options: { genericPlans?: boolean } = {}): Promise<T> {
    if (!UUID.test(tenantId)) throw new TypeError(`tenant id "${tenantId}" is not a UUID`);
    const plans = options.genericPlans ? '; SET LOCAL plan_cache_mode = force_generic_plan' : '';
    return transaction(this.pool, `BEGIN; SET LOCAL app.tenant_id = '${tenantId}'${plans}`, fn);
  }

  /** A transaction on the privileged, cross-tenant path. `reason` documents the call site. */
  withSystem<T>(_reason: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
    return transaction(this.systemPool, 'BEGIN', fn);
  }

  /** One statement on the privileged path, in a transaction of its own. `reason` documents the call site. */
  systemQuery<R extends pg.QueryResultRow>(
    _reason: string,
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    return this.systemPool.query<R>(text, values);
  }

  /** The system pool as a `Tx` for single-statement queries (each its own transaction). */
  get system(): Tx {
    return this.systemPool;
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.end(), this.systemPool.end()]);
  }
}

async function transaction<T>(pool: pg.Pool, begin: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    try {
      await client.query(begin);
      const result = await fn(client);
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (error) {
      const broken = await client.query('ROLLBACK').then(
        () => undefined,
        (rollbackError: unknown) => rollbackError as Error,
      );
      client.release(broken);
      const code = (error as { code?: string }).code;
      if (code !== undefined && RETRYABLE_SQLSTATES.has(code) && attempt < 5) continue;
      throw error;
    }
  }
}
