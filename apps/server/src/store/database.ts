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

  withTenant<T>(tenantId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
    if (!UUID.test(tenantId)) throw new TypeError(`tenant id "${tenantId}" is not a UUID`);
    return transaction(this.pool, `BEGIN; SET LOCAL app.tenant_id = '${tenantId}'`, fn);
  }

  /**
   * Read-only statements as the tenant in one round trip, for hot reads: `SET LOCAL` of the tenant and
   * the statements travel in one simple-protocol message, which PostgreSQL runs as one implicit
   * transaction, so row-level security confines them as in `withTenant` and they cannot write. The
   * statements take no parameters: values go in only as `uuidLiteral`s. Returns each statement's rows.
   */
  async readAsTenant(tenantId: string, statements: readonly string[]): Promise<pg.QueryResultRow[][]> {
    if (!UUID.test(tenantId)) throw new TypeError(`tenant id "${tenantId}" is not a UUID`);
    // One statement sets both: each statement of the message costs a round of parsing and replies.
    const prologue = [
      `SELECT set_config('transaction_read_only', 'on', true), set_config('app.tenant_id', '${tenantId}', true)`,
    ];
    const message = [...prologue, ...statements].join(';\n');
    // A message of several statements answers with one result per statement.
    const results = (await this.pool.query(message)) as unknown as pg.QueryResult[];
    if (!Array.isArray(results) || results.length !== prologue.length + statements.length)
      throw new Error(`expected ${prologue.length + statements.length} results from a tenant read`);
    return results.slice(prologue.length).map((result) => result.rows);
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

/** A UUID as an SQL literal, for statements sent without parameters (`readAsTenant`); throws on anything else. */
export function uuidLiteral(value: string): string {
  if (!UUID.test(value)) throw new TypeError(`"${value}" is not a UUID`);
  return `'${value}'::uuid`;
}
