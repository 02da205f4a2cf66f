import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
/** pg_advisory_lock key of migrations: hashtext('automateiq:migrate'). */
const LOCK = "hashtext('automateiq:migrate')";

/**
 * Applies the ordered SQL files of `migrations/` that this database has not seen, each in its own
 * transaction, under an advisory lock so that processes starting together migrate once.
 * Runs as the login user of `url` (it creates roles, tables and policies). Returns the names applied.
 */
export async function migrate(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url, application_name: 'automateiq-migrate' });
  await client.connect();
  try {
    await client.query('SET client_min_messages = warning');
    await client.query(`SELECT pg_advisory_lock(${LOCK})`);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set(
      (await client.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((r) => r.name),
    );
    const applied: string[] = [];
    for (const name of readdirSync(MIGRATIONS_DIR)
      .filter((f) => f.endsWith('.sql'))
      .sort()) {
      if (done.has(name)) continue;
      const sql = readFileSync(`${MIGRATIONS_DIR}${name}`, 'utf8');
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (name) VALUES ($1)', [name]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${name} failed: ${(error as Error).message}`, { cause: error });
      }
      applied.push(name);
    }
    return applied;
  } finally {
    await client.query(`SELECT pg_advisory_unlock(${LOCK})`).catch(() => undefined);
    await client.end();
  }
}
