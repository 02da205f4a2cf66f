import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApiHarness, type TestTenant } from '../support/api-harness';
import { runAiq } from '../support/run-aiq';

const tiny = (name: string) => ({
  name,
  nodes: [{ id: 'one', type: 'transform', params: { value: 1 } }],
  edges: [],
});

describe('tenants, plans and quotas', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness({ env: { AIQ_CORS_ORIGINS: 'https://app.example.com' } });
  });
  afterAll(async () => h?.close());

  it('onboards a tenant with its owner and a first API key in one call, well under a second', async () => {
    const started = performance.now();
    const created = await h.call({
      method: 'POST',
      url: '/v1/tenants',
      token: h.adminToken,
      body: { name: 'Globex', slug: 'globex', ownerEmail: 'hank@globex.example.com', plan: 'free' },
    });
    const ms = performance.now() - started;
    expect(created.status).toBe(201);
    expect(ms).toBeLessThan(1_000);
    expect(created.body.tenant).toMatchObject({ slug: 'globex', plan: 'free', status: 'active' });
    expect(created.body.tenant.quotas).toMatchObject({ runsPerDay: 1000, maxWorkflows: 20 });
    expect(created.body.owner.email).toBe('hank@globex.example.com');
    expect(created.body.apiKey.key).toMatch(/^aiq_/);
    expect(created.body.inviteToken).toMatch(/^aiqi_/);
    const me = await h.call({ method: 'GET', url: '/v1/me', token: created.body.apiKey.key });
    expect(me.body).toMatchObject({ kind: 'apiKey', tenantId: created.body.tenant.id });

    const again = await h.call({
      method: 'POST',
      url: '/v1/tenants',
      token: h.adminToken,
      body: { name: 'Globex 2', slug: 'globex', ownerEmail: 'x@globex.example.com' },
    });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'AIQ_SLUG_TAKEN', errors: [{ path: 'body.slug' }] });
  });

  it('gives an invited owner who has not accepted yet a new invite when a second tenant names them', async () => {
    const onboard = (slug: string) =>
      h.call({ method: 'POST', url: '/v1/tenants', token: h.adminToken, body: { name: slug, slug, ownerEmail: 'pat@example.com' } });
    const first = await onboard('first-co');
    const second = await onboard('second-co');
    expect(second.body.inviteToken).toMatch(/^aiqi_/);
    expect(second.body.owner.id).toBe(first.body.owner.id);
    const old = await h.call({ method: 'POST', url: '/v1/auth/accept-invite', body: { token: first.body.inviteToken, password: 'a long passphrase' } });
    expect(old.status).toBe(401);
    const accepted = await h.call({ method: 'POST', url: '/v1/auth/accept-invite', body: { token: second.body.inviteToken, password: 'a long passphrase' } });
    expect(accepted.status).toBe(200);
    const me = await h.call({ method: 'GET', url: '/v1/me', token: accepted.body.accessToken });
    expect(me.body.tenants.map((t: { slug: string }) => t.slug).sort()).toEqual(['first-co', 'second-co']);
    // Once the password is set, a third tenant gets no invite: the user logs in.
    const third = await onboard('third-co');
    expect(third.body.inviteToken).toBeUndefined();
  });

  it("never gives a tenant's admin a token for a user whom another tenant invited", async () => {
    const invited = await h.call({
      method: 'POST',
      url: '/v1/tenants',
      token: h.adminToken,
      body: { name: 'Inviter', slug: 'inviter-co', ownerEmail: 'sam@example.com' },
    });
    const other = await h.tenant('other-co');
    const added = await h.call({ method: 'POST', url: '/v1/members', token: other.key, body: { email: 'sam@example.com', role: 'viewer' } });
    expect(added.status).toBe(201);
    expect(added.body.inviteToken).toBeUndefined();
    const accepted = await h.call({ method: 'POST', url: '/v1/auth/accept-invite', body: { token: invited.body.inviteToken, password: 'a long passphrase' } });
    expect(accepted.status).toBe(200);
  });

  it('lets only platform admins onboard tenants and change plans', async () => {
    const acme = await h.tenant('acme-p');
    const asOwner = await h.call({
      method: 'POST',
      url: '/v1/tenants',
      token: acme.ownerToken,
      body: { name: 'X', slug: 'x-tenant', ownerEmail: 'x@example.com' },
    });
    expect(asOwner.status).toBe(403);
    const planByOwner = await h.call({
      method: 'PATCH',
      url: `/v1/tenants/${acme.tenant.id}`,
      token: acme.ownerToken,
      body: { plan: 'unlimited' },
    });
    expect(planByOwner.status).toBe(403);
    expect(planByOwner.body.errors[0].path).toBe('body.plan');
    const mfaByOwner = await h.call({
      method: 'PATCH',
      url: `/v1/tenants/${acme.tenant.id}`,
      token: acme.ownerToken,
      body: { requireMfa: false },
    });
    expect(mfaByOwner.status).toBe(200);
  });

  it('suspends a tenant: its API keys stop working until it is resumed', async () => {
    const t = await h.tenant('suspend-me');
    const patch = (status: string) =>
      h.call({ method: 'PATCH', url: `/v1/tenants/${t.tenant.id}`, token: h.adminToken, body: { status } });
    expect((await patch('suspended')).body.status).toBe('suspended');
    const refused = await h.call({ method: 'GET', url: '/v1/workflows', token: t.key });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('AIQ_TENANT_SUSPENDED');
    await patch('active');
    expect((await h.call({ method: 'GET', url: '/v1/workflows', token: t.key })).status).toBe(200);
    const audit = await h.t.db.withTenant(t.tenant.id, (tx) =>
      tx.query<{ action: string }>("SELECT action FROM audit_log WHERE action LIKE 'tenant.%' ORDER BY id"),
    );
    expect(audit.rows.map((r) => r.action)).toEqual(['tenant.create', 'tenant.suspend', 'tenant.resume']);
  });

  describe('quotas answer with the quota and its limit', () => {
    let t: TestTenant;
    beforeAll(async () => {
      t = await h.tenant('quota');
      await h.call({
        method: 'PATCH',
        url: `/v1/tenants/${t.tenant.id}`,
        token: h.adminToken,
        body: { quotas: { maxWorkflows: 1, runsPerDay: 2, maxPayloadBytes: 1024 } },
      });
    });

    it('maxWorkflows', async () => {
      expect((await h.call({ method: 'POST', url: '/v1/workflows', token: t.key, body: { definition: tiny('a') } })).status).toBe(201);
      const over = await h.call({ method: 'POST', url: '/v1/workflows', token: t.key, body: { definition: tiny('b') } });
      expect(over.status).toBe(403);
      expect(over.body).toMatchObject({ code: 'AIQ_PLAN_LIMIT_REACHED', quota: 'maxWorkflows', limit: 1 });
    });

    it('maxPayloadBytes and runsPerDay', async () => {
      const list = await h.call({ method: 'GET', url: '/v1/workflows', token: t.key });
      const id = list.body.items[0].id as string;
      const big = await h.call({
        method: 'POST',
        url: `/v1/workflows/${id}/runs`,
        token: t.key,
        body: { input: { blob: 'x'.repeat(2_000) } },
      });
      expect(big.status).toBe(413);
      expect(big.body).toMatchObject({ code: 'AIQ_PAYLOAD_TOO_LARGE', quota: 'maxPayloadBytes', limit: 1024 });
      const start = () => h.call({ method: 'POST', url: `/v1/workflows/${id}/runs`, token: t.key, body: {} });
      expect((await start()).status).toBe(202);
      expect((await start()).status).toBe(202);
      const third = await start();
      expect(third.status).toBe(429);
      expect(third.body).toMatchObject({ code: 'AIQ_QUOTA_EXCEEDED', quota: 'runsPerDay', limit: 2 });
      expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
      const runs = await h.call({ method: 'GET', url: `/v1/runs?workflowId=${id}`, token: t.key });
      expect(runs.body.items).toHaveLength(2);
    });

    it('apiRequestsPerMinute, with Retry-After', async () => {
      const r = await h.tenant('rate');
      await h.call({
        method: 'PATCH',
        url: `/v1/tenants/${r.tenant.id}`,
        token: h.adminToken,
        body: { quotas: { apiRequestsPerMinute: 3 } },
      });
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push(await h.call({ method: 'GET', url: '/v1/workflows', token: r.key }));
      expect(statuses.slice(0, 3).map((s) => s.status)).toEqual([200, 200, 200]);
      expect(statuses[3]?.status).toBe(429);
      expect(statuses[3]?.body).toMatchObject({ code: 'AIQ_RATE_LIMITED', quota: 'apiRequestsPerMinute', limit: 3 });
      expect(Number(statuses[3]?.headers['retry-after'])).toBeGreaterThan(0);
    });
  });

  it('sends security headers, answers CORS only for configured origins, and limits bodies', async () => {
    const t = await h.tenant('headers');
    const r = await h.app.inject({
      method: 'GET',
      url: '/v1/workflows',
      headers: { authorization: `Bearer ${t.key}`, origin: 'https://app.example.com' },
    });
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['content-security-policy']).toContain("default-src 'none'");
    expect(r.headers['access-control-allow-origin']).toBe('https://app.example.com');
    const other = await h.app.inject({
      method: 'GET',
      url: '/v1/workflows',
      headers: { authorization: `Bearer ${t.key}`, origin: 'https://evil.example.com' },
    });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const notJson = await h.app.inject({
      method: 'POST',
      url: '/v1/workflows',
      headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json' },
      payload: '{"definition": ',
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.headers['content-type']).toContain('application/problem+json');
    expect(notJson.body).not.toContain(' at ');
  });

  it('the unauthenticated: 401 problem+json, and the per-IP limit on them', async () => {
    const r = await h.call({ method: 'GET', url: '/v1/runs', token: 'aiq_nope' });
    expect(r.status).toBe(401);
    expect(r.body.code).toBe('AIQ_UNAUTHENTICATED');
  });
});

describe('aiq tenants create', () => {
  it('onboards a tenant and prints its API key once; bad options are named', async () => {
    const h = await startApiHarness();
    try {
      const env = { DATABASE_URL: h.t.url, AIQ_DATA_DIR: '/tmp/aiq-tenants-create' };
      const ok = await runAiq(['tenants', 'create', '--name', 'Initech', '--slug', 'initech', '--owner-email', 'peter@initech.example.com'], env);
      expect(ok.stderr).toContain('shown once');
      expect(ok.code).toBe(0);
      const printed = JSON.parse(ok.stdout) as { apiKey: string; tenant: { slug: string } };
      expect(printed.tenant.slug).toBe('initech');
      const me = await h.call({ method: 'GET', url: '/v1/me', token: printed.apiKey });
      expect(me.status).toBe(200);
      const bad = await runAiq(['tenants', 'create', '--name', 'X', '--slug', 'Not A Slug', '--owner-email', 'nope'], env);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--slug: must be');
      expect(bad.stderr).toContain('--owner-email: must be an e-mail address');
    } finally {
      await h.close();
    }
  });
});

describe("a step's output beyond the plan's maxPayloadBytes", () => {
  it('fails the step with OUTPUT_TOO_LARGE, not retried', async () => {
    const h = await startApiHarness({ workers: 1 });
    try {
      const t = await h.tenant('outputs');
      await h.call({ method: 'PATCH', url: `/v1/tenants/${t.tenant.id}`, token: h.adminToken, body: { quotas: { maxPayloadBytes: 2048 } } });
      const created = await h.call({
        method: 'POST',
        url: '/v1/workflows',
        token: t.key,
        body: {
          definition: {
            name: 'Big output',
            nodes: [{ id: 'big', type: 'code.js', params: { code: "return 'x'.repeat(5000);" }, retry: { attempts: 3 } }],
            edges: [],
          },
        },
      });
      const started = await h.call({ method: 'POST', url: `/v1/workflows/${created.body.id}/runs`, token: t.key, body: {} });
      const run = await h.engine.waitForRun(started.body.id, { tenantId: t.tenant.id });
      expect(run.status).toBe('failed');
      expect(run.attempts).toHaveLength(1);
      expect(run.attempts[0]?.error).toMatchObject({ code: 'OUTPUT_TOO_LARGE', retryable: false, details: { limit: 2048 } });
    } finally {
      await h.close();
    }
  });
});
