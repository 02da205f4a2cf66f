/**
 * The event-trigger consumers in their own process, for tests that kill it:
 * `node --import tsx event-runner-process.ts`. Env: AIQ_TEST_DB_URL and AIQ_TEST_MASTER_KEY (base64),
 * both required. Prints `ready` on stdout once it consumes.
 */
import { builtInConnectors, createConnectorRegistry } from '@automateiq/connectors';
import { pino } from 'pino';
import { Engine } from '../../src/engine';
import { MasterKey } from '../../src/security/master-key';
import { MasterKeyRing } from '../../src/security/master-key-ring';
import { Vault } from '../../src/security/vault';
import { Database } from '../../src/store/database';
import { EventTriggerRunner } from '../../src/triggers/event-trigger-runner';

const url = process.env.AIQ_TEST_DB_URL;
const key = process.env.AIQ_TEST_MASTER_KEY;
if (!url || !key) throw new Error('AIQ_TEST_DB_URL and AIQ_TEST_MASTER_KEY are required');
const logger = pino({ level: process.env.AIQ_TEST_LOG ?? 'silent' }, pino.destination(2));
const db = new Database({ url, maxConnections: 10 });
const vault = new Vault({ db, keys: MasterKeyRing.from(MasterKey.fromBase64(key, 'AIQ_TEST_MASTER_KEY')) });
const engine = new Engine({ db, databaseUrl: url, connectors: createConnectorRegistry(builtInConnectors), logger, credentials: vault });
const runner = new EventTriggerRunner({ db, databaseUrl: url, engine, vault, logger, resyncMs: 500 });
await runner.start();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  runner
    .stop()
    .then(() => db.close())
    .then(
      () => process.exit(0),
      () => process.exit(1),
    );
});
