import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Database } from '../apps/server/src/store/database';
import { startEmbeddedPostgres } from '../apps/server/src/store/embedded-postgres';
import { migrate } from '../apps/server/src/store/migrate';

export interface BenchDatabase {
  url: string;
  db: Database;
  describe: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database on BENCH_DATABASE_URL, else the local PostgreSQL, else an embedded one. */
export async function createBenchDatabase(poolSize: number): Promise<BenchDatabase> {
  let serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (!(await reachable(serverUrl))) {
    const dir = mkdtempSync(join(tmpdir(), 'aiq-bench-pg-'));
    const embedded = await startEmbeddedPostgres({ dataDir: dir });
    serverUrl = embedded.url;
    stopEmbedded = async () => {
      await embedded.stop();
      rmSync(dir, { recursive: true, force: true });
    };
  }
  const name = `aiq_bench_${randomBytes(4).toString('hex')}`;
  await admin(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  await migrate(url.toString());
  const db = new Database({ url: url.toString(), maxConnections: poolSize });
  const version = await admin(serverUrl, 'SHOW server_version');
  return {
    url: url.toString(),
    db,
    describe: `PostgreSQL ${version} at ${new URL(serverUrl).host}${stopEmbedded ? ' (embedded)' : ''}`,
    async drop() {
      await db.close();
      await admin(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await stopEmbedded?.();
    },
  };
}

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function admin(url: string, sql: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query(sql);
    const first = result.rows[0] as Record<string, unknown> | undefined;
    return first ? String(Object.values(first)[0]) : '';
  } finally {
    await client.end();
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

/** Waits (at most 10 s) until no connection of the tenant pool has been in use for 200 ms. */
export async function untilPoolIdle(db: Database): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (let idleSince = Date.now(); Date.now() - idleSince < 200; ) {
    if (db.pool.totalCount > db.pool.idleCount || db.pool.waitingCount > 0) idleSince = Date.now();
    if (Date.now() > deadline) throw new Error('requests were still running 10 s after the load ended');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
