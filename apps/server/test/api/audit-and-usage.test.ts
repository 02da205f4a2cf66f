import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApiHarness, type TestTenant } from '../support/api-harness';

const definition = (name: string) => ({
  name,
  nodes: [{ id: 'n', type: 'transform', params: { value: 1 } }],
});

describe('audit trail, usage and the connector catalogue', () => {
  let h: ApiHarness;
  let acme: TestTenant;
  let globex: TestTenant;
  beforeAll(async () => {
    h = await startApiHarness({ workers: 1 });
    acme = await h.tenant('acme');
    globex = await h.tenant('globex');
  });
  afterAll(async () => h?.close());

  it("lists the tenant's audit trail newest first, page by page, filtered by action", async () => {
    for (const name of ['one', 'two', 'three']) {
      const created = await h.call({ method: 'POST', url: '/v1/workflows', token: acme.ownerToken, body: { definition: definition(name) } });
      expect(created.status).toBe(201);
    }
    await h.call({ method: 'POST', url: '/v1/workflows', token: globex.key, body: { definition: definition('theirs') } });

    const all = await h.call({ method: 'GET', url: '/v1/audit?limit=500', token: acme.ownerToken });
    expect(all.status).toBe(200);
    const ids = all.body.items.map((r: { id: string }) => BigInt(r.id));
    expect(ids).toEqual([...ids].sort((a: bigint, b: bigint) => (a > b ? -1 : a < b ? 1 : 0)));
    const creates = all.body.items.filter((r: { action: string }) => r.action === 'workflow.create');
    expect(creates.map((r: { details: { name: string } }) => r.details.name)).toEqual(['three', 'two', 'one']);
    expect(creates[0]).toMatchObject({
      actor: { type: 'user', id: acme.owner.id },
      target: { type: 'workflow' },
      ip: expect.any(String),
    });
    expect(JSON.stringify(all.body)).not.toContain('theirs');

    const first = await h.call({ method: 'GET', url: '/v1/audit?action=workflow.create&limit=2', token: acme.ownerToken });
    expect(first.body.items.map((r: { details: { name: string } }) => r.details.name)).toEqual(['three', 'two']);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await h.call({
      method: 'GET',
      url: `/v1/audit?action=workflow.create&limit=2&cursor=${first.body.nextCursor}`,
      token: acme.ownerToken,
    });
    expect(second.body.items.map((r: { details: { name: string } }) => r.details.name)).toEqual(['one']);
    expect(second.body.nextCursor).toBeNull();

    const bad = await h.call({ method: 'GET', url: '/v1/audit?cursor=nonsense', token: acme.ownerToken });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('query.cursor');
  });

  it('lets owners and admins read the audit trail, not editors', async () => {
    const admin = await h.member(acme, 'admin');
    const editor = await h.member(acme, 'editor');
    expect((await h.call({ method: 'GET', url: '/v1/audit', token: admin.token })).status).toBe(200);
    const refused = await h.call({ method: 'GET', url: '/v1/audit', token: editor.token });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('AIQ_FORBIDDEN');
  });

  it("reports today's runs, runs in progress, workflows and this minute's requests with the quotas", async () => {
    const fresh = await h.tenant('fresh', { plan: 'free' });
    const empty = await h.call({ method: 'GET', url: '/v1/usage', token: fresh.key });
    expect(empty.status).toBe(200);
    expect(empty.body).toMatchObject({
      day: new Date().toISOString().slice(0, 10),
      runsToday: 0,
      runsInProgress: 0,
      workflows: 0,
      quotas: { runsPerDay: 1000, concurrentRuns: 5, maxWorkflows: 20 },
    });
    expect(empty.body.apiRequestsThisMinute).toBeGreaterThanOrEqual(1);

    const created = await h.call({ method: 'POST', url: '/v1/workflows', token: fresh.key, body: { definition: definition('w') } });
    for (let i = 0; i < 2; i++) {
      const run = await h.call({ method: 'POST', url: `/v1/workflows/${created.body.id}/runs`, token: fresh.key, body: {} });
      await h.engine.waitForRun(run.body.id, { tenantId: fresh.tenant.id });
    }
    const used = await h.call({ method: 'GET', url: '/v1/usage', token: fresh.key });
    expect(used.body).toMatchObject({ runsToday: 2, runsInProgress: 0, workflows: 1 });
    expect(used.body.apiRequestsThisMinute).toBeGreaterThan(empty.body.apiRequestsThisMinute);
  });

  it('lists every node type with its ports and the JSON Schema of its params', async () => {
    const answer = await h.call({ method: 'GET', url: '/v1/connectors', token: acme.key });
    expect(answer.status).toBe(200);
    const items = answer.body.items as { type: string; connector: string; title: string; ports: string[]; paramsSchema: Record<string, unknown> }[];
    expect(items.map((i) => i.type)).toEqual([...h.deps.connectors.keys()].sort());
    const http = items.find((i) => i.type === 'http.request');
    expect(http).toMatchObject({ connector: 'http', title: expect.any(String), ports: ['success', 'error'] });
    expect(http?.paramsSchema).toMatchObject({ type: 'object', properties: { url: { type: 'string' } }, required: ['url'] });
    expect(items.find((i) => i.type === 'flow.if')?.ports).toEqual(['success', 'error', 'true', 'false']);
    for (const item of items) expect(typeof item.paramsSchema).toBe('object');
  });
});
