import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConnectorError, defineConnector } from '@automateiq/connector-kit';
import { builtInConnectors, createConnectorRegistry } from '@automateiq/connectors';
import type { WorkflowDefinition } from '@automateiq/core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Engine, type Worker } from '../../src/engine';
import { newId } from '../../src/lib/ids';
import { MasterKey } from '../../src/security/master-key';
import { MasterKeyRing } from '../../src/security/master-key-ring';
import { secretStringsOf, Vault } from '../../src/security/vault';
import { insertCredential } from '../../src/store/queries/insert-credential';
import { type EngineHarness, type FinishedRun, startEngineHarness } from '../support/engine-harness';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const TOKEN = 'tok-7d2b-secret';
const PASSWORD = 'pw-51ea-secret';
const API_KEY = 'key-0c3f-secret';
const CLIENT_SECRET = 'cs-a41e-secret';
const ACCESS_TOKEN = 'at-2f9c-secret';

/** A connector that leaks its credential everywhere it can: output, logs, error. */
const leaky = defineConnector({
  type: 'test.leaky',
  title: 'Leaky',
  description: 'Leaks its credential (test only).',
  params: z.object({ fail: z.boolean().default(false) }).strict(),
  run: async (ctx) => {
    const secret = String(ctx.credential?.token);
    ctx.logger.info(`using ${secret}`, { credential: ctx.credential, url: `https://x.test/?t=${encodeURIComponent(secret)}` });
    if (ctx.params.fail) throw ConnectorError.fatal('LEAK', `refused ${secret}`, { sent: { authorization: `Bearer ${secret}` } });
    return { echoed: secret, nested: [{ [secret]: `prefix-${secret}-suffix` }] };
  },
});

describe('credentials in running steps', () => {
  let t: TestDatabase;
  let h: EngineHarness;
  let engine: Engine;
  let worker: Worker;
  let vault: Vault;
  let api: Server;
  let base: string;
  let tokenRequests = 0;
  /** The generation of the only access token /rotating accepts (the token endpoint /token2 issues it). */
  let generation = 1;
  const rotatingAnswers: number[] = [];
  const logs: string[] = [];
  const credentialIds = new Map<string, string>();

  /** Checks the authentication it expects by path, and echoes what it received. */
  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = req.headers.authorization;
    if (url.pathname === '/token') {
      tokenRequests += 1;
      const ok = auth === `Basic ${Buffer.from(`app:${CLIENT_SECRET}`).toString('base64')}`;
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ok ? { access_token: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 3600 } : { error: 'invalid_client' }));
      return;
    }
    if (url.pathname === '/token2') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: `at-rot-${generation}`, expires_in: 3600 }));
      return;
    }
    const expected: Record<string, boolean> = {
      '/rotating': auth === `Bearer at-rot-${generation}`,
      '/bearer': auth === `Bearer ${TOKEN}`,
      '/basic': auth === `Basic ${Buffer.from(`ann:${PASSWORD}`).toString('base64')}`,
      '/api-key-header': req.headers['x-api-key'] === API_KEY,
      '/api-key-query': url.searchParams.get('api_key') === API_KEY,
      '/oauth': auth === `Bearer ${ACCESS_TOKEN}`,
    };
    const ok = expected[url.pathname] === true;
    if (url.pathname === '/rotating') rotatingAnswers.push(ok ? 200 : 401);
    res.writeHead(ok ? 200 : url.pathname === '/rotating' ? 401 : 403, { 'content-type': 'application/json', 'x-echo-auth': auth ?? '' });
    res.end(JSON.stringify({ ok, authorization: auth ?? null, apiKey: req.headers['x-api-key'] ?? null, url: req.url }));
  }

  async function store(name: string, type: string, publicData: Record<string, unknown>, secrets: Record<string, unknown>) {
    const key = await vault.dataKey(h.tenantId);
    const id = newId();
    await t.db.withTenant(h.tenantId, (tx) =>
      insertCredential(tx, {
        tenantId: h.tenantId,
        id,
        name,
        type,
        publicData,
        sealedData: key.seal(id, secrets),
        secretFields: Object.keys(secrets),
      }),
    );
    credentialIds.set(name, id);
  }

  async function run(definition: WorkflowDefinition): Promise<FinishedRun> {
    const saved = await h.deploy(definition);
    const { runId } = await engine.startRun({ tenantId: h.tenantId, ...saved, input: {}, trigger: { type: 'test' } });
    return h.waitForRun(runId);
  }

  const call = (id: string, path: string, credential: string) => ({
    name: `call-${id}`,
    nodes: [{ id, type: 'http.request', credential, params: { url: `${base}${path}` } }],
    edges: [],
  });

  beforeAll(async () => {
    t = await createTestDatabase();
    h = await startEngineHarness(t, { workers: 0 });
    vault = new Vault({ db: t.db, keys: MasterKeyRing.of(MasterKey.generate()) });
    engine = new Engine({
      db: t.db,
      databaseUrl: t.url,
      connectors: createConnectorRegistry([...builtInConnectors, leaky]),
      logger: pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) }),
      egressAllow: ['127.0.0.1'],
      credentials: vault,
    });
    worker = engine.createWorker({ workerId: 'credentials-test', concurrency: 4 });
    await worker.start();
    api = createServer(handle);
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    await store('bearer', 'bearer', {}, { token: TOKEN });
    await store('basic', 'basic', { username: 'ann' }, { password: PASSWORD });
    await store('key-header', 'apiKey', {}, { key: API_KEY });
    await store('key-query', 'apiKey', { query: 'api_key' }, { key: API_KEY });
    await store('oauth', 'oauth2ClientCredentials', { tokenUrl: `${base}/token`, clientId: 'app' }, { clientSecret: CLIENT_SECRET });
    await store('rotating', 'oauth2ClientCredentials', { tokenUrl: `${base}/token2`, clientId: 'app' }, { clientSecret: 'cs-rot' });
  });
  afterAll(async () => {
    await worker?.stop(2_000);
    api?.close();
    await t?.drop();
  });

  it('authenticates http.request with a bearer token and masks it where the server echoes it', async () => {
    const finished = await run(call('fetch', '/bearer', 'bearer'));
    expect(finished.status).toBe('succeeded');
    const output = finished.output as { status: number; headers: Record<string, string>; body: Record<string, unknown> };
    expect(output.body).toMatchObject({ ok: true, authorization: 'Bearer ***' });
    expect(output.headers['x-echo-auth']).toBe('Bearer ***');
    expect(JSON.stringify(finished)).not.toContain(TOKEN);
  });

  it('sends basic, API key header and API key query credentials, masked in the output', async () => {
    const basic = await run(call('basic', '/basic', 'basic'));
    expect(basic.status).toBe('succeeded');
    // The Basic token is derived from the password: it is masked as a whole.
    expect((basic.output as { body: unknown }).body).toMatchObject({ ok: true, authorization: 'Basic ***' });

    const header = await run(call('header', '/api-key-header', 'key-header'));
    expect((header.output as { body: unknown }).body).toMatchObject({ ok: true, apiKey: '***' });

    const query = await run(call('query', '/api-key-query', 'key-query'));
    expect((query.output as { body: unknown }).body).toMatchObject({ ok: true, url: '/api-key-query?api_key=***' });
    expect(JSON.stringify([basic, header, query])).not.toMatch(new RegExp(`${PASSWORD}|${API_KEY}`));
  });

  it('fetches an OAuth2 token once, caches it until it expires, and masks it', async () => {
    const before = tokenRequests;
    const first = await run(call('oauth', '/oauth', 'oauth'));
    const second = await run({ ...call('oauth', '/oauth', 'oauth'), name: 'call-oauth-again' });
    for (const finished of [first, second]) {
      expect(finished.status).toBe('succeeded');
      expect((finished.output as { body: unknown }).body).toMatchObject({ ok: true, authorization: 'Bearer ***' });
    }
    expect(tokenRequests - before).toBe(1);
    expect(JSON.stringify([first, second])).not.toContain(ACCESS_TOKEN);
  });

  it('fetches a fresh token once when the API refuses a cached one with 401', async () => {
    expect((await run(call('rot', '/rotating', 'rotating'))).status).toBe('succeeded');
    generation = 2;
    const finished = await run({ ...call('rot', '/rotating', 'rotating'), name: 'call-rot-again' });
    expect(finished.status).toBe('succeeded');
    expect((finished.output as { body: unknown }).body).toMatchObject({ ok: true, authorization: 'Bearer ***' });
    expect(JSON.stringify(finished)).not.toContain('at-rot-');
    // The cached token was refused once, then the fresh one accepted.
    expect(rotatingAnswers).toEqual([200, 401, 200]);
  });

  it('masks a secret in the error of a failed request', async () => {
    // /basic refuses the bearer token with 403 and echoes it in its body and headers.
    const finished = await run(call('refused', '/basic', 'bearer'));
    expect(finished.status).toBe('failed');
    const step = finished.attempts.find((a) => a.nodeId === 'refused');
    expect(step?.error).toMatchObject({ code: 'HTTP_403', details: { body: { authorization: 'Bearer ***' } } });
    expect(JSON.stringify(finished)).not.toContain(TOKEN);
  });

  it('masks secrets in output, error and logs of any connector', async () => {
    await store('leak', 'bearer', {}, { token: 'leak/me secret' });
    const ok = await run({ name: 'leak-ok', nodes: [{ id: 'leak', type: 'test.leaky', credential: 'leak', params: {} }], edges: [] });
    expect(ok.output).toEqual({ echoed: '***', nested: [{ '***': 'prefix-***-suffix' }] });
    const failed = await run({
      name: 'leak-fail',
      nodes: [{ id: 'leak', type: 'test.leaky', credential: 'leak', params: { fail: true } }],
      edges: [],
    });
    expect(failed.attempts[0]?.error).toEqual({
      code: 'LEAK',
      message: 'refused ***',
      retryable: false,
      details: { sent: { authorization: 'Bearer ***' } },
    });
    const logged = logs.filter((line) => line.includes('"nodeId":"leak"') && line.includes('using'));
    expect(logged.length).toBeGreaterThanOrEqual(2);
    expect(logged.join('\n')).toContain('using ***');
    expect(logged.join('\n')).toContain('?t=***');
    expect(logs.join('\n')).not.toMatch(/leak\/me secret|leak%2Fme%20secret|tok-7d2b|pw-51ea|key-0c3f|cs-a41e|at-2f9c/);
  });

  it('fails a step whose credential does not exist, at once, with CREDENTIAL_NOT_FOUND', async () => {
    const finished = await run({
      name: 'ghost',
      settings: { retry: { attempts: 3, delay: '10ms' } },
      nodes: [{ id: 'fetch', type: 'http.request', credential: 'ghost', params: { url: `${base}/bearer` } }],
      edges: [],
    });
    expect(finished.status).toBe('failed');
    expect(finished.attempts).toHaveLength(1);
    expect(finished.attempts[0]?.error).toEqual({
      code: 'CREDENTIAL_NOT_FOUND',
      message: 'credential "ghost" does not exist in this tenant',
      retryable: false,
    });
  });

  it("audits every read by the engine in the tenant's trail: system actor, the credential, run and node", async () => {
    const finished = await run(call('audited', '/bearer', 'bearer'));
    const rows = await t.db.withTenant(h.tenantId, async (tx) =>
      (await tx.query<{ actor_type: string; target_type: string; target_id: string; details: Record<string, unknown> }>(
        `SELECT actor_type, target_type, target_id, details FROM audit_log WHERE action = 'credential.read' AND details->>'runId' = $1`,
        [finished.id],
      )).rows,
    );
    expect(rows).toEqual([
      {
        actor_type: 'system',
        target_type: 'credential',
        target_id: credentialIds.get('bearer'),
        details: { name: 'bearer', runId: finished.id, nodeId: 'audited' },
      },
    ]);
  });

  it('masks what is derived from a secret, not only the secret', () => {
    expect(secretStringsOf('basic', { username: 'ann', password: 'p' }, { password: 'p' })).toEqual([
      'p',
      Buffer.from('ann:p').toString('base64'),
    ]);
  });
});
