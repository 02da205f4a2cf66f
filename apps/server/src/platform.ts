import { builtInConnectors, createConnectorRegistry } from '@automateiq/connectors';
import type { Logger } from 'pino';
import type { Config } from './config';
import { Engine, type EngineObserver } from './engine';
import type { Connector } from '@automateiq/connector-kit';
import { loadMasterKeyRing, type MasterKeyRing } from './security/master-key-ring';
import { RunResumeTokens } from './security/resume-token';
import { Vault } from './security/vault';
import { Database } from './store/database';
import { startEmbeddedPostgres } from './store/embedded-postgres';
import { migrate } from './store/migrate';

/** Everything a command needs, wired once: the database (embedded unless DATABASE_URL), the engine. */
export interface Platform {
  config: Config;
  databaseUrl: string;
  db: Database;
  engine: Engine;
  connectors: ReadonlyMap<string, Connector>;
  /** The current and previous master keys: they wrap the tenants' data keys and key the access tokens. */
  masterKey: MasterKeyRing;
  /** The credentials vault (per-tenant data keys under the master key). */
  vault: Vault;
  close(): Promise<void>;
}

/** The composition root: starts or connects to PostgreSQL, migrates it, and wires the engine. */
export async function openPlatform(args: {
  config: Config;
  logger: Logger;
  observer?: EngineObserver;
  maxConnections?: number;
}): Promise<Platform> {
  const { config, logger } = args;
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({
        dataDir: config.dataDir,
        log: (message) => logger.debug({ postgres: message }),
      });
  const databaseUrl = config.databaseUrl ?? embedded?.url;
  if (!databaseUrl)
    throw new Error('no database: DATABASE_URL is unset and the embedded server did not start');
  try {
    const applied = await migrate(databaseUrl);
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
  const masterKey = await loadMasterKeyRing({ configured: config.masterKey, dataDir: config.dataDir }).catch(
    async (error: unknown) => {
      await embedded?.stop();
      throw error;
    },
  );
  const db = new Database({ url: databaseUrl, maxConnections: args.maxConnections ?? 20 });
  const connectors = createConnectorRegistry(builtInConnectors);
  const vault = new Vault({ db, keys: masterKey });
  const engine = new Engine({
    db,
    databaseUrl,
    connectors,
    logger,
    egressAllow: config.egressAllow,
    credentials: vault,
    resumeUrl: resumeUrls(config.publicUrl, masterKey),
    publicUrl: config.publicUrl,
    ...(args.observer ? { observer: args.observer } : {}),
  });
  return {
    config,
    databaseUrl,
    db,
    engine,
    connectors,
    masterKey,
    vault,
    async close() {
      await db.close();
      await embedded?.stop();
    },
  };
}

/** `run.resumeUrl`: `<public URL>/resume/<tenant>/<run>/<token>` (see routes/resume.ts). */
export function resumeUrls(publicUrl: string, masterKey: MasterKeyRing): (tenantId: string, runId: string) => string {
  const tokens = new RunResumeTokens(masterKey.signingKeys('run-resume'));
  return (tenantId, runId) => `${publicUrl}/resume/${tenantId}/${runId}/${tokens.sign(tenantId, runId)}`;
}
