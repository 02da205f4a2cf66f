import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createApiDeps, type ApiDeps } from '../../src/api/api-deps';
import { createApiServer } from '../../src/api/server';
import { loadConfig } from '../../src/config';
import { resumeUrls } from '../../src/platform';
import { hashPassword } from '../../src/security/password';
import { MasterKey } from '../../src/security/master-key';
import { MasterKeyRing } from '../../src/security/master-key-ring';
import { Vault } from '../../src/security/vault';
import { SYSTEM_ACTOR } from '../../src/security/principal';
import { newId } from '../../src/lib/ids';
import { onboardTenant, type OnboardedTenant } from '../../src/tenancy/onboard-tenant';
import { startEngineHarness, type EngineHarness } from './engine-harness';
import { createTestDatabase, type TestDatabase } from './test-database';

export interface ApiHarness {
  t: TestDatabase;
  app: FastifyInstance;
  deps: ApiDeps;
  engine: EngineHarness;
  /** A platform admin's access token. */
  adminToken: string;
  /** Onboards a tenant (owner password `correct horse battery`) and returns it with its owner's token. */
  tenant(slug: string, opts?: { plan?: 'free' | 'standard' | 'enterprise' | 'unlimited' }): Promise<TestTenant>;
  /** A new user with a password, member of `tenant` with `role`, and their access token. */
  member(tenant: TestTenant, role: string): Promise<{ userId: string; email: string; token: string }>;
  /** An access token for a user id (as /v1/auth/login would give). */
  tokenFor(userId: string): Promise<string>;
  /** `app.inject` with a bearer token, JSON body and parsed JSON answer. */
  call(args: {
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
    url: string;
    token?: string | undefined;
    body?: unknown;
    headers?: Record<string, string>;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read answers loosely
  }): Promise<{ status: number; body: any; headers: LightMyRequestResponse['headers'] }>;
  close(): Promise<void>;
}

export interface TestTenant extends OnboardedTenant {
  /** The onboarding API key (every scope). */
  key: string;
  /** The owner's access token. */
  ownerToken: string;
}

export const TEST_PASSWORD = 'correct horse battery';

/**
 * The API on a fresh test database, with a platform admin and an engine (with `workers` workers,
 * default 0). Requests go through `app.inject`, so no port is opened.
 */
export async function startApiHarness(
  opts: { workers?: number; env?: Record<string, string>; masterKey?: MasterKey } = {},
): Promise<ApiHarness> {
  const t = await createTestDatabase();
  const masterKey = MasterKeyRing.from(opts.masterKey ?? MasterKey.generate());
  const vault = new Vault({ db: t.db, keys: masterKey });
  const config = loadConfig({ AIQ_DATA_DIR: '/nonexistent', ...opts.env });
  const engine = await startEngineHarness(t, {
    workers: opts.workers ?? 0,
    credentials: vault,
    resumeUrl: resumeUrls(config.publicUrl, masterKey),
    publicUrl: config.publicUrl,
  });
  const logger = pino({ level: process.env.AIQ_TEST_LOG ?? 'silent' }, pino.destination(2));
  const deps = createApiDeps({
    config,
    db: t.db,
    engine: engine.engine,
    connectors: engine.engine.connectors,
    logger,
    masterKey,
    vault,
  });
  const app = await createApiServer({ deps, metrics: new Registry(), ready: async () => true, closeGraceMs: 1_000 });
  await app.ready();

  const adminId = newId();
  await t.db.systemQuery('test: platform admin', 'INSERT INTO users (id, email, password_hash, platform_admin) VALUES ($1, $2, $3, true)', [
    adminId,
    `admin-${adminId}@example.com`,
    await hashPassword(TEST_PASSWORD),
  ]);
  const tokenFor = (userId: string) => deps.tokens.sign({ userId, sessionId: newId(), platformAdmin: userId === adminId });

  const harness: ApiHarness = {
    t,
    app,
    deps,
    engine,
    adminToken: await tokenFor(adminId),
    tokenFor,
    async tenant(slug, o = {}) {
      const onboarded = await onboardTenant(t.db, {
        name: slug,
        slug,
        ownerEmail: `owner@${slug}.example.com`,
        ownerPassword: TEST_PASSWORD,
        plan: o.plan ?? 'enterprise',
        actor: SYSTEM_ACTOR,
      });
      return { ...onboarded, key: onboarded.apiKey.key, ownerToken: await tokenFor(onboarded.owner.id) };
    },
    async member(tenant, role) {
      const userId = newId();
      const email = `${role}-${userId}@example.com`;
      await t.db.withSystem('test: add a member', async (tx) => {
        await tx.query('INSERT INTO users (id, email, password_hash) VALUES ($1, $2, $3)', [userId, email, await hashPassword(TEST_PASSWORD)]);
        await tx.query('INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, $3)', [tenant.tenant.id, userId, role]);
      });
      return { userId, email, token: await tokenFor(userId) };
    },
    async call({ method, url, token, body, headers }) {
      const response = await app.inject({
        method,
        url,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
        ...(body === undefined ? {} : { payload: body as object }),
      });
      let parsed: unknown = response.body;
      try {
        parsed = response.body === '' ? undefined : JSON.parse(response.body);
      } catch {
        // not JSON: keep the text
      }
      return { status: response.statusCode, body: parsed, headers: response.headers };
    },
    async close() {
      await app.close();
      await engine.stop();
      await t.drop();
    },
  };
  return harness;
}
