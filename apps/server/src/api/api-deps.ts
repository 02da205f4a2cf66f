import type { Connector } from '@automateiq/connector-kit';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { Engine } from '../engine';
import { AccessTokens } from '../security/access-token';
import { Authenticator } from '../security/authenticator';
import type { MasterKey } from '../security/master-key';
import { RateLimiter } from '../security/rate-limiter';
import type { Database } from '../store/database';

/** What the API's route plugins are given (one object, wired in the composition root). */
export interface ApiDeps {
  config: Config;
  db: Database;
  engine: Engine;
  connectors: ReadonlyMap<string, Connector>;
  logger: Logger;
  masterKey: MasterKey;
  tokens: AccessTokens;
  authenticator: Authenticator;
  limiter: RateLimiter;
}

/** The API's collaborators, built from an open platform. */
export function createApiDeps(args: {
  config: Config;
  db: Database;
  engine: Engine;
  connectors: ReadonlyMap<string, Connector>;
  logger: Logger;
  masterKey: MasterKey;
}): ApiDeps {
  const tokens = new AccessTokens({ key: args.masterKey.derive('jwt-signing') });
  return {
    ...args,
    tokens,
    authenticator: new Authenticator({
      db: args.db,
      tokens,
      onError: (error) => args.logger.warn({ err: error }, 'authentication bookkeeping failed'),
    }),
    limiter: new RateLimiter(),
  };
}
