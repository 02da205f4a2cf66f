import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApiHarness, type TestTenant } from '../support/api-harness';

/** flow.waitForEvent: runs parked until an event comes through the API or the run's resume URL. */
describe('waiting for events (flow.waitForEvent, POST /v1/runs/:id/events, resume URLs)', () => {
  let h: ApiHarness;
  let acme: TestTenant;
  beforeAll(async () => {
    h = await startApiHarness({ workers: 1, env: { AIQ_PUBLIC_URL: 'https://aiq.example.com/' } });
    acme = await h.tenant('acme');
  });
  afterAll(() => h?.close());

  async function start(definition: Record<string, unknown>, input: unknown = {}): Promise<string> {
    const created = await h.call({ method: 'POST', url: '/v1/workflows', token: acme.key, body: { definition } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const started = await h.call({ method: 'POST', url: `/v1/workflows/${created.body.id}/runs`, token: acme.key, body: { input } });
    expect(started.status).toBe(202);
    return started.body.id as string;
  }

  /** The run once `ready` holds for it (polled), as GET /v1/runs/:id shows it. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read answers loosely
  async function runWhen(runId: string, ready: (run: any) => boolean, timeoutMs = 10_000): Promise<any> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const read = await h.call({ method: 'GET', url: `/v1/runs/${runId}`, token: acme.key });
      if (ready(read.body)) return read.body;
      if (Date.now() > until) throw new Error(`run ${runId} never got there: ${JSON.stringify(read.body)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read answers loosely
  const stepOf = (run: { steps: { nodeId: string }[] }, nodeId: string): any => run.steps.find((s) => s.nodeId === nodeId);

  const paymentFlow = {
    name: 'payment',
    nodes: [
      { id: 'wait', type: 'flow.waitForEvent', params: { event: 'payment.confirmed', timeout: '1h' } },
      { id: 'ship', type: 'transform', params: { value: { paid: '{{ steps.wait.output.amount }}', order: '{{ input.order }}' } } },
    ],
    edges: [{ from: 'wait', to: 'ship' }],
  };

  it('parks the run until the named event comes; its payload is the node output, and the delivery is audited', async () => {
    const runId = await start(paymentFlow, { order: 7 });
    const waiting = await runWhen(runId, (r) => r.status === 'waiting');
    expect(stepOf(waiting, 'wait')).toMatchObject({ status: 'waiting', output: { event: 'payment.confirmed', timeoutAt: expect.any(String) } });

    const other = await h.call({ method: 'POST', url: `/v1/runs/${runId}/events`, token: acme.key, body: { name: 'payment.refused', payload: {} } });
    expect(other.status).toBe(202);
    expect(other.body).toMatchObject({ runId, delivered: false, nodeId: null });
    expect((await h.call({ method: 'GET', url: `/v1/runs/${runId}`, token: acme.key })).body.status).toBe('waiting');

    const sent = await h.call({
      method: 'POST',
      url: `/v1/runs/${runId}/events`,
      token: acme.key,
      body: { name: 'payment.confirmed', payload: { amount: 42 } },
    });
    expect(sent.status).toBe(202);
    expect(sent.body).toEqual({ id: expect.any(String), runId, delivered: true, nodeId: 'wait' });
    const done = await runWhen(runId, (r) => r.status === 'succeeded');
    expect(done.output).toEqual({ paid: 42, order: 7 });
    expect(stepOf(done, 'wait')).toMatchObject({ status: 'succeeded', output: { amount: 42 } });

    const again = await h.call({ method: 'POST', url: `/v1/runs/${runId}/events`, token: acme.key, body: { name: 'payment.confirmed' } });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'AIQ_RUN_FINISHED', runStatus: 'succeeded' });

    const audit = await h.call({ method: 'GET', url: '/v1/audit?action=run.event', token: acme.ownerToken });
    const mine = audit.body.items.filter((e: { target: { id: string } }) => e.target.id === runId);
    expect(mine.map((e: { details: { name: string; delivered: boolean } }) => [e.details.name, e.details.delivered]).sort()).toEqual([
      ['payment.confirmed', true],
      ['payment.refused', false],
    ]);
  });

  it('keeps an event that comes before the step waits, and gives it to the step when it does', async () => {
    const runId = await start({
      name: 'early',
      nodes: [
        { id: 'first', type: 'flow.wait', params: { duration: '1s' } },
        { id: 'wait', type: 'flow.waitForEvent', params: { event: 'go' } },
      ],
      edges: [{ from: 'first', to: 'wait' }],
    });
    const sent = await h.call({ method: 'POST', url: `/v1/runs/${runId}/events`, token: acme.key, body: { name: 'go', payload: 'early bird' } });
    expect(sent.body).toMatchObject({ delivered: false });
    const done = await runWhen(runId, (r) => r.status === 'succeeded');
    expect(done.output).toBe('early bird');
  });

  it('on timeout takes the error port with TIMEOUT, or fails the run when there is none', async () => {
    const handled = await start({
      name: 'timeout handled',
      nodes: [
        { id: 'wait', type: 'flow.waitForEvent', params: { event: 'never', timeout: '1s' } },
        { id: 'fallback', type: 'transform', params: { value: '{{ steps.wait.error.code }}' } },
      ],
      edges: [{ from: 'wait', to: 'fallback', port: 'error' }],
    });
    const unhandled = await start({ name: 'timeout unhandled', nodes: [{ id: 'wait', type: 'flow.waitForEvent', params: { event: 'never', timeout: '1s' } }] });
    expect((await runWhen(handled, (r) => r.status === 'succeeded')).output).toBe('TIMEOUT');
    const failed = await runWhen(unhandled, (r) => r.status === 'failed');
    expect(failed.error).toMatchObject({ code: 'TIMEOUT' });
  });

  it('an event delivered in time cancels the timeout', async () => {
    const runId = await start({ name: 'beats the clock', nodes: [{ id: 'wait', type: 'flow.waitForEvent', params: { event: 'ok', timeout: '2s' } }] });
    await runWhen(runId, (r) => r.status === 'waiting');
    await h.call({ method: 'POST', url: `/v1/runs/${runId}/events`, token: acme.key, body: { name: 'ok', payload: 1 } });
    await runWhen(runId, (r) => r.status === 'succeeded');
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const after = await h.call({ method: 'GET', url: `/v1/runs/${runId}`, token: acme.key });
    expect(after.body).toMatchObject({ status: 'succeeded', output: 1 });
    expect(stepOf(after.body, 'wait')).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it("a run's resume URL delivers events without an account, for that run only", async () => {
    const runId = await start({
      name: 'resumable',
      nodes: [
        { id: 'link', type: 'transform', params: { value: '{{ run.resumeUrl }}' } },
        { id: 'wait', type: 'flow.waitForEvent', params: { event: 'signed' } },
      ],
    });
    const waiting = await runWhen(runId, (r) => r.status === 'waiting' && stepOf(r, 'link')?.status === 'succeeded');
    const url = new URL(stepOf(waiting, 'link').output as string);
    expect(url.origin).toBe('https://aiq.example.com');
    expect(url.pathname).toMatch(new RegExp(`^/resume/${acme.tenant.id}/${runId}/[^/]+$`));

    const other = await start({ name: 'other', nodes: [{ id: 'wait', type: 'flow.waitForEvent', params: { event: 'signed' } }] });
    // Parked before the tries, so that one wrongly let through would show at the end.
    await runWhen(other, (r) => r.status === 'waiting');
    const token = url.pathname.split('/').at(-1) as string;
    const tries = [
      `/resume/${acme.tenant.id}/${other}/${token}`,
      `/resume/${acme.tenant.id}/${runId}/${token.slice(0, -2)}xx`,
      `/resume/${acme.tenant.id}/${runId}/nonsense`,
    ];
    for (const path of tries) {
      const refused = await h.app.inject({ method: 'POST', url: path, payload: { name: 'signed' } });
      expect(refused.statusCode, path).toBe(404);
      expect(refused.json()).toMatchObject({ code: 'AIQ_RUN_NOT_FOUND' });
    }
    const accepted = await h.app.inject({ method: 'POST', url: url.pathname, payload: { name: 'signed', payload: { by: 'partner' } } });
    expect(accepted.statusCode).toBe(202);
    expect(accepted.json()).toMatchObject({ delivered: true, nodeId: 'wait' });
    const done = await runWhen(runId, (r) => r.status === 'succeeded');
    expect(stepOf(done, 'wait')?.output).toEqual({ by: 'partner' });
    expect((await h.call({ method: 'GET', url: `/v1/runs/${other}`, token: acme.key })).body.status).toBe('waiting');
  });

  it('answers bad events with the field at fault, and other tenants with 404', async () => {
    const runId = await start({ ...paymentFlow, name: 'payment again' });
    const bad = await h.call({ method: 'POST', url: `/v1/runs/${runId}/events`, token: acme.key, body: { name: 'has space' } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('body.name');
    const intruder = await h.tenant('intruder');
    const foreign = await h.call({ method: 'POST', url: `/v1/runs/${runId}/events`, token: intruder.key, body: { name: 'payment.confirmed' } });
    expect(foreign.status).toBe(404);
    const viewer = await h.member(acme, 'viewer');
    const forbidden = await h.call({ method: 'POST', url: `/v1/runs/${runId}/events`, token: viewer.token, body: { name: 'payment.confirmed' } });
    expect(forbidden.status).toBe(403);
  });
});
