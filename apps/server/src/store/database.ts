import pg from 'pg';

/** A connection inside a transaction; queries take it as their first parameter. */
export type Tx = Pick<pg.PoolClient, 'query'>;

export interface DatabaseOptions {
  url: string;
  /** Pool size. Default: 20. */
  maxConnections?: number;
  /** Application name shown in pg_stat_activity. */
  applicationName?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);

/**
 * The pool, and the only two ways to run a transaction:
 * - `withTenant`: as `aiq_app` (no BYPASSRLS) with `app.tenant_id` set, so row-level security confines
 *   every statement to one tenant. Every request and every job uses it.
 * - `withSystem`: as `aiq_system` (BYPASSRLS), for the few reviewed cross-tenant paths (the queue claim,
 *   scheduler scans, onboarding). Each call names its reason.
 * Connections default to `aiq_app` with no tenant, so a query outside both sees no tenant rows.
 */
export class Database {
  readonly pool: pg.Pool;

  constructor(options: DatabaseOptions) {
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.maxConnections ?? 20,
      application_name: options.applicationName ?? 'automateiq',
      // Every session starts as aiq_app, which has no BYPASSRLS.
      options: '-c role=aiq_app',
    });
    // An idle client's error (e.g. the server restarted) must not crash the process; the pool drops it.
    this.pool.on('error', () => {});
  }

  withTenant<T>(tenantId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
    if (!UUID.test(tenantId)) throw new TypeError(`tenant id "${tenantId}" is not a UUID`);
    return this.transaction(`BEGIN; SET LOCAL app.tenant_id = '${tenantId}'`, fn);
  }

  /** The privileged, cross-tenant path. `reason` documents the call site. */
  withSystem<T>(_reason: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.transaction('BEGIN; SET LOCAL ROLE aiq_system', fn);
  }

  /** A single statement outside a transaction, as aiq_system (health checks, LISTEN setup). */
  async systemQuery<R extends pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    return this.withSystem('single statement', (tx) => tx.query<R>(text, values));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async transaction<T>(begin: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
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
}
