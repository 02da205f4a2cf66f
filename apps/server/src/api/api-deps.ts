import type { Connector } from '@automateiq/connector-kit';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { Engine } from '../engine';
import { AccessTokens } from '../security/access-token';
import { Authenticator } from '../security/authenticator';
import type { MasterKey } from '../security/master-key';
import { MasterKeyRing } from '../security/master-key-ring';
import { RateLimiter } from '../security/rate-limiter';
import { RunResumeTokens } from '../security/resume-token';
import { Vault } from '../security/vault';
import { RunEvents } from './run-events';
import { WebhookDirectory } from '../triggers/webhook-directory';
import type { Database } from '../store/database';

/** What the API's route plugins are given (one object, wired in the composition root). */
export interface ApiDeps {
  config: Config;
  db: Database;
  engine: Engine;
  connectors: ReadonlyMap<string, Connector>;
  logger: Logger;
  masterKey: MasterKeyRing;
  /** The credentials vault. */
  vault: Vault;
  tokens: AccessTokens;
  authenticator: Authenticator;
  limiter: RateLimiter;
  /** Verifies the tokens of runs' resume URLs. */
  resumeTokens: RunResumeTokens;
  /** This process's one LISTEN connection to run announcements (event streams, sync webhooks). */
  runEvents: RunEvents;
  /** The armed webhooks, looked up and kept for a few seconds; routes that change triggers or tenants `forget` it. */
  webhooks: WebhookDirectory;
}

/** The API's collaborators, built from an open platform. */
export function createApiDeps(args: {
  config: Config;
  db: Database;
  engine: Engine;
  connectors: ReadonlyMap<string, Connector>;
  logger: Logger;
  /** A ring (current and previous keys), or a single key. */
  masterKey: MasterKeyRing | MasterKey;
  /** Default: a vault of its own over `db` and `masterKey`. */
  vault?: Vault;
}): ApiDeps {
  const masterKey = MasterKeyRing.from(args.masterKey);
  // Signed with the current key, verified with the key a token names: tokens survive a key rotation.
  const tokens = new AccessTokens({ key: masterKey.signingKeys('jwt-signing') });
  return {
    ...args,
    masterKey,
    vault: args.vault ?? new Vault({ db: args.db, keys: masterKey }),
    tokens,
    authenticator: new Authenticator({
      db: args.db,
      tokens,
      onError: (error) => args.logger.warn({ err: error }, 'authentication bookkeeping failed'),
    }),
    limiter: new RateLimiter(),
    resumeTokens: new RunResumeTokens(masterKey.signingKeys('run-resume')),
    runEvents: new RunEvents({ connectionString: args.db.pool.options.connectionString, logger: args.logger }),
    webhooks: new WebhookDirectory(args.db),
  };
}
