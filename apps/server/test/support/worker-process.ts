/**
 * A worker in its own process, for tests that kill it: `node --import tsx worker-process.ts`.
 * Env: AIQ_TEST_DB_URL (required), AIQ_TEST_LEASE_MS, AIQ_TEST_CONCURRENCY, AIQ_TEST_WORKER_ID.
 * Prints `ready` on stdout once it claims work.
 */
import { builtInConnectors, createConnectorRegistry } from '@automateiq/connectors';
import { pino } from 'pino';
import { Engine } from '../../src/engine';
import { Database } from '../../src/store/database';

const url = process.env.AIQ_TEST_DB_URL;
if (!url) throw new Error('AIQ_TEST_DB_URL is required');
const db = new Database({ url, maxConnections: 10 });
const engine = new Engine({
  db,
  databaseUrl: url,
  connectors: createConnectorRegistry(builtInConnectors),
  logger: pino({ level: 'silent' }),
});
const worker = engine.createWorker({
  workerId: process.env.AIQ_TEST_WORKER_ID ?? `child-${process.pid}`,
  concurrency: Number(process.env.AIQ_TEST_CONCURRENCY ?? 8),
  leaseMs: Number(process.env.AIQ_TEST_LEASE_MS ?? 30_000),
});
await worker.start();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  worker
    .stop()
    .then(() => db.close())
    .then(
      () => process.exit(0),
      () => process.exit(1),
    );
});
