import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApiHarness, type TestTenant } from '../support/api-harness';

const hello = {
  name: 'Hello',
  nodes: [{ id: 'greet', type: 'transform', params: { value: { greeting: 'Hello {{ input.name }}' } } }],
  edges: [],
};

describe('workflows and runs over the API', () => {
  let h: ApiHarness;
  let acme: TestTenant;
  beforeAll(async () => {
    h = await startApiHarness({ workers: 1 });
    acme = await h.tenant('acme');
  });
  afterAll(async () => h?.close());

  it('creates a workflow, versions it on change, starts an idempotent run and reads it with its steps', async () => {
    const created = await h.call({ method: 'POST', url: '/v1/workflows', token: acme.key, body: { definition: hello } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Hello', version: 1, active: false });
    const id = created.body.id as string;

    const same = await h.call({ method: 'PUT', url: `/v1/workflows/${id}`, token: acme.key, body: { definition: hello } });
    expect(same.body.version).toBe(1);
    const changed = await h.call({
      method: 'PUT',
      url: `/v1/workflows/${id}`,
      token: acme.key,
      body: { definition: { ...hello, description: 'v2' } },
    });
    expect(changed.body).toMatchObject({ version: 2, description: 'v2' });
    const versions = await h.call({ method: 'GET', url: `/v1/workflows/${id}/versions`, token: acme.key });
    expect(versions.body.items.map((v: { version: number }) => v.version)).toEqual([2, 1]);

    const start = () =>
      h.call({
        method: 'POST',
        url: `/v1/workflows/${id}/runs`,
        token: acme.key,
        body: { input: { name: 'Ada' } },
        headers: { 'idempotency-key': 'order-1' },
      });
    const first = await start();
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ status: 'queued', created: true });
    const again = await start();
    expect(again.body).toMatchObject({ id: first.body.id, created: false });

    const finished = await h.engine.waitForRun(first.body.id, { tenantId: acme.tenant.id });
    expect(finished.status).toBe('succeeded');
    const run = await h.call({ method: 'GET', url: `/v1/runs/${first.body.id}`, token: acme.key });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({
      status: 'succeeded',
      output: { greeting: 'Hello Ada' },
      steps: [{ nodeId: 'greet', item: null, status: 'succeeded', attempts: 1 }],
    });
    const listed = await h.call({ method: 'GET', url: `/v1/runs?workflowId=${id}&status=succeeded`, token: acme.key });
    expect(listed.body.items.map((r: { id: string }) => r.id)).toEqual([first.body.id]);
  });

  it('answers an invalid definition with the paths of its problems', async () => {
    const bad = await h.call({
      method: 'POST',
      url: '/v1/workflows',
      token: acme.key,
      body: { definition: { name: 'Bad', nodes: [{ id: 'X', type: 'nope' }], edges: [] } },
    });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(bad.body.code).toBe('AIQ_WORKFLOW_INVALID');
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toContain('body.definition.nodes[0].id');
  });

  it('answers a bad query with the field at fault', async () => {
    const bad = await h.call({ method: 'GET', url: '/v1/runs?limit=0', token: acme.key });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('query.limit');
  });

  it('refuses a forged cursor whose key has the wrong shape, before it reaches SQL', async () => {
    const forged = (k: unknown) => Buffer.from(JSON.stringify({ k })).toString('base64url');
    for (const url of [
      `/v1/runs?cursor=${forged('not-a-uuid')}`,
      `/v1/workflows?cursor=${forged("'; DROP TABLE runs; --")}`,
      `/v1/audit?cursor=${forged('12a')}`,
      `/v1/credentials?cursor=${forged(7)}`,
    ]) {
      const answer = await h.call({ method: 'GET', url, token: acme.key });
      expect(answer.status, url).toBe(400);
      expect(answer.body.errors).toEqual([{ path: 'query.cursor', message: 'not a cursor this API gave out' }]);
    }
  });
});
