import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApiHarness, type TestTenant } from '../support/api-harness';
import { type FlakyServer, startFlakyServer } from '../support/flaky-server';

describe('retrying runs and reading their logs over the API', () => {
  let h: ApiHarness;
  let acme: TestTenant;
  let peer: FlakyServer;
  beforeAll(async () => {
    h = await startApiHarness({ workers: 1 });
    acme = await h.tenant('acme');
    peer = await startFlakyServer();
  });
  afterAll(async () => {
    await peer?.close();
    await h?.close();
  });

  async function workflow(tenant: TestTenant, name: string, prefix: string): Promise<string> {
    const created = await h.call({
      method: 'POST',
      url: '/v1/workflows',
      token: tenant.key,
      body: {
        definition: {
          name,
          nodes: [
            { id: 'fetch', type: 'http.request', params: { url: `${peer.url}${prefix}/fetch` } },
            { id: 'store', type: 'http.request', params: { url: `${peer.url}${prefix}/store` } },
            { id: 'done', type: 'transform', params: { value: '{{ steps.fetch.output.body.hit }}/{{ steps.store.output.body.hit }}' } },
          ],
          edges: [
            { from: 'fetch', to: 'store' },
            { from: 'store', to: 'done' },
          ],
        },
      },
    });
    expect(created.status).toBe(201);
    return created.body.id as string;
  }

  async function failedRun(tenant: TestTenant, name: string, prefix: string): Promise<{ workflowId: string; runId: string }> {
    peer.failFirst(`${prefix}/store`);
    const workflowId = await workflow(tenant, name, prefix);
    const started = await h.call({ method: 'POST', url: `/v1/workflows/${workflowId}/runs`, token: tenant.key, body: { input: { n: 1 } } });
    expect(started.status).toBe(202);
    const run = await h.engine.waitForRun(started.body.id, { tenantId: tenant.tenant.id });
    expect(run.status).toBe('failed');
    return { workflowId, runId: started.body.id as string };
  }

  it('retries from the failed step: completed steps keep their single attempt and output; the run succeeds', async () => {
    const { runId } = await failedRun(acme, 'retry-me', '/a');
    const before = await h.call({ method: 'GET', url: `/v1/runs/${runId}`, token: acme.key });

    const retried = await h.call({ method: 'POST', url: `/v1/runs/${runId}/retry`, token: acme.ownerToken });
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({ retryOf: runId });
    expect(['queued', 'running']).toContain(retried.body.status);
    const newId = retried.body.id as string;
    expect(newId).not.toBe(runId);
    await h.engine.waitForRun(newId, { tenantId: acme.tenant.id });

    const after = await h.call({ method: 'GET', url: `/v1/runs/${newId}`, token: acme.key });
    expect(after.body).toMatchObject({
      status: 'succeeded',
      output: '1/2',
      input: { n: 1 },
      trigger: { type: 'retry', retryOf: runId },
    });
    const fetchBefore = before.body.steps.find((s: { nodeId: string }) => s.nodeId === 'fetch');
    const fetchAfter = after.body.steps.find((s: { nodeId: string }) => s.nodeId === 'fetch');
    expect(fetchAfter).toEqual(fetchBefore);
    expect(fetchAfter.attempts).toBe(1);
    expect(after.body.steps.find((s: { nodeId: string }) => s.nodeId === 'store')).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(peer.hits('/a/fetch')).toBe(1);
    expect(peer.hits('/a/store')).toBe(2);

    // Audited, with who did it.
    const audit = await h.call({ method: 'GET', url: '/v1/audit?action=run.retry', token: acme.ownerToken });
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0]).toMatchObject({
      action: 'run.retry',
      actor: { type: 'user' },
      target: { type: 'run', id: runId },
      details: { runId: newId },
    });

    // The retry's log tells the kept step once, then the rest.
    const logs = await h.call({ method: 'GET', url: `/v1/runs/${newId}/logs`, token: acme.key });
    expect(logs.status).toBe(200);
    const messages = logs.body.items.map((e: { message: string }) => e.message);
    expect(messages[0]).toBe(`run queued: a retry of run ${runId}`);
    expect(messages).toContain(`step fetch succeeded (attempt 1): kept from run ${runId}`);
    expect(messages).toContain('step store succeeded (attempt 1)');
    expect(messages[messages.length - 1]).toBe('run succeeded');
  });

  it('answers 409 for a run that did not fail, 404 for one that does not exist or is of another tenant', async () => {
    const workflowId = await workflow(acme, 'fine', '/fine');
    const started = await h.call({ method: 'POST', url: `/v1/workflows/${workflowId}/runs`, token: acme.key, body: {} });
    await h.engine.waitForRun(started.body.id, { tenantId: acme.tenant.id });
    const conflict = await h.call({ method: 'POST', url: `/v1/runs/${started.body.id}/retry`, token: acme.key });
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({ code: 'AIQ_RUN_NOT_RETRYABLE', status: 409 });

    const missing = await h.call({ method: 'POST', url: '/v1/runs/01900000-0000-7000-8000-000000000000/retry', token: acme.key });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('AIQ_RUN_NOT_FOUND');

    const { runId } = await failedRun(acme, 'theirs', '/theirs');
    const globex = await h.tenant('globex');
    const foreign = await h.call({ method: 'POST', url: `/v1/runs/${runId}/retry`, token: globex.key });
    expect(foreign.status).toBe(404);
    const foreignLogs = await h.call({ method: 'GET', url: `/v1/runs/${runId}/logs`, token: globex.key });
    expect(foreignLogs.status).toBe(404);
  });

  it("counts a retry against the tenant's runsPerDay quota", async () => {
    const small = await h.tenant('small');
    const { runId } = await failedRun(small, 'quota', '/quota');
    const patched = await h.call({
      method: 'PATCH',
      url: `/v1/tenants/${small.tenant.id}`,
      token: h.adminToken,
      body: { quotas: { runsPerDay: 1 } },
    });
    expect(patched.status).toBe(200);
    const refused = await h.call({ method: 'POST', url: `/v1/runs/${runId}/retry`, token: small.key });
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: 'AIQ_QUOTA_EXCEEDED', quota: 'runsPerDay', limit: 1 });
    const runs = await h.call({ method: 'GET', url: '/v1/runs', token: small.key });
    expect(runs.body.items).toHaveLength(1);
    const audit = await h.call({ method: 'GET', url: '/v1/audit?action=run.retry', token: small.ownerToken });
    expect(audit.body.items).toHaveLength(0);
  });

  it('logs a failed run in time order: starts, the failure with its code and message, the end', async () => {
    const { runId } = await failedRun(acme, 'logged', '/logged');
    const logs = await h.call({ method: 'GET', url: `/v1/runs/${runId}/logs`, token: acme.key });
    expect(logs.status).toBe(200);
    const items = logs.body.items as { at: string; level: string; nodeId: string | null; attempt: number | null; message: string; data?: Record<string, unknown> }[];
    const times = items.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(items.map((e) => [e.nodeId, e.message])).toEqual([
      [null, 'run queued (trigger: api)'],
      ...(items[1]?.message === 'run started' ? [[null, 'run started']] : []),
      ...items
        .slice(items[1]?.message === 'run started' ? 2 : 1, -1)
        .map((e) => [e.nodeId, e.message]),
      [null, expect.stringMatching(/^run failed: /)],
    ]);
    const failure = items.find((e) => e.nodeId === 'store' && e.level === 'error');
    expect(failure).toMatchObject({ attempt: 1, data: { code: 'HTTP_400', retried: false } });
    expect(failure?.message).toMatch(/^step store failed \(attempt 1\): /);
    expect(items.filter((e) => e.nodeId === 'fetch').map((e) => e.message)).toEqual([
      'step fetch started (attempt 1)',
      'step fetch succeeded (attempt 1)',
    ]);
    expect(items.some((e) => e.nodeId === 'done')).toBe(false);
    // Never the steps' data.
    expect(JSON.stringify(logs.body)).not.toContain('"hit"');
  });
});
