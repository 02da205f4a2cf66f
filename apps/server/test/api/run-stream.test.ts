import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApiHarness, type TestTenant } from '../support/api-harness';
import { type FlakyServer, startFlakyServer } from '../support/flaky-server';
import { openSse, type SseClient, type SseEvent } from '../support/sse-client';

describe('server-sent events of runs and steps', () => {
  let h: ApiHarness;
  let acme: TestTenant;
  let globex: TestTenant;
  let peer: FlakyServer;
  let base: string;
  let closed = false;
  const clients: SseClient[] = [];
  beforeAll(async () => {
    // No worker at first: the first test starts one while it watches.
    h = await startApiHarness({ workers: 0 });
    acme = await h.tenant('acme');
    globex = await h.tenant('globex');
    peer = await startFlakyServer();
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    const address = h.app.server.address();
    if (address === null || typeof address === 'string') throw new Error('the server has no port');
    base = `http://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await peer?.close();
    if (!closed) await h?.close();
  });

  async function sse(path: string, token: string): Promise<SseClient> {
    const client = await openSse(`${base}${path}`, token);
    clients.push(client);
    return client;
  }

  async function workflow(tenant: TestTenant, name: string, nodes: unknown[], edges: unknown[] = []): Promise<string> {
    const created = await h.call({ method: 'POST', url: '/v1/workflows', token: tenant.key, body: { definition: { name, nodes, edges } } });
    expect(created.status).toBe(201);
    return created.body.id as string;
  }

  async function start(tenant: TestTenant, workflowId: string): Promise<string> {
    const started = await h.call({ method: 'POST', url: `/v1/workflows/${workflowId}/runs`, token: tenant.key, body: {} });
    expect(started.status).toBe(202);
    return started.body.id as string;
  }

  const stepEvent = (nodeId: string, status: string) => (e: SseEvent) =>
    e.event === 'step' && e.data.nodeId === nodeId && e.data.status === status;
  const runEvent = (status: string) => (e: SseEvent) => e.event === 'run' && e.data.status === status;

  it('streams a snapshot, then each change of the run and its steps, and ends with the run', async () => {
    peer.hold('/live/slow');
    const workflowId = await workflow(
      acme,
      'live',
      [
        { id: 'slow', type: 'http.request', params: { url: `${peer.url}/live/slow` } },
        { id: 'done', type: 'transform', params: { value: '{{ steps.slow.output.body.hit }}' } },
      ],
      [{ from: 'slow', to: 'done' }],
    );
    const runId = await start(acme, workflowId);
    const stream = await sse(`/v1/runs/${runId}/stream`, acme.key);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.headers.get('cache-control')).toBe('no-cache');
    expect(stream.headers.get('x-accel-buffering')).toBe('no');
    // The snapshot: queued, its first step pending (no worker yet).
    await stream.next(stepEvent('slow', 'pending'));
    expect(stream.events[0]).toMatchObject({ event: 'run', data: { id: runId, status: 'queued', output: null } });
    expect(stream.events[0]?.data).not.toHaveProperty('steps');

    // A worker claims the step: the claim is announced.
    await h.engine.startWorker();
    await stream.next(stepEvent('slow', 'running'));
    await stream.next(runEvent('running'));

    peer.release('/live/slow');
    await stream.next(stepEvent('done', 'succeeded'));
    const last = await stream.next(runEvent('succeeded'));
    expect(last.data).toMatchObject({ id: runId, output: 1, finishedAt: expect.any(String) });
    await stream.ended;
    // The run's end is the last event; every step's last state was sent before it.
    expect(stream.events[stream.events.length - 1]).toBe(last);
    expect(stream.events.filter((e) => e.event === 'step' && e.data.nodeId === 'slow').map((e) => e.data.status)).toEqual([
      'pending',
      'running',
      'succeeded',
    ]);
  });

  it('shows a failed attempt and its retry as changes of the step', async () => {
    peer.failFirst('/retrying/a', 1, 503);
    const workflowId = await workflow(acme, 'retrying', [
      { id: 'a', type: 'http.request', retry: { attempts: 2, delay: '200ms' }, params: { url: `${peer.url}/retrying/a` } },
    ]);
    const runId = await start(acme, workflowId);
    const stream = await sse(`/v1/runs/${runId}/stream`, acme.key);
    await stream.next(runEvent('succeeded'));
    await stream.ended;
    const last = stream.events.filter((e) => e.event === 'step').pop();
    expect(last?.data).toMatchObject({ nodeId: 'a', status: 'succeeded', attempts: 2 });
    expect(last?.data.history.map((a: { status: string }) => a.status)).toEqual(['failed', 'succeeded']);
  });

  it('sends the snapshot of a finished run and ends at once; answers 404 for a run it cannot see', async () => {
    const workflowId = await workflow(acme, 'quick', [{ id: 'n', type: 'transform', params: { value: 7 } }]);
    const runId = await start(acme, workflowId);
    await h.engine.waitForRun(runId, { tenantId: acme.tenant.id });
    const stream = await sse(`/v1/runs/${runId}/stream`, acme.key);
    await stream.ended;
    expect(stream.events.map((e) => [e.event, e.data.status])).toEqual([
      ['run', 'succeeded'],
      ['step', 'succeeded'],
    ]);
    const foreign = await sse(`/v1/runs/${runId}/stream`, globex.key);
    expect(foreign.status).toBe(404);
    expect(await foreign.body()).toMatchObject({ code: 'AIQ_RUN_NOT_FOUND' });
    const unauthenticated = await fetch(`${base}/v1/runs/${runId}/stream`);
    expect(unauthenticated.status).toBe(401);
  });

  it("streams the tenant's run changes, of one workflow when asked, and never another tenant's", async () => {
    const wanted = await workflow(acme, 'wanted', [{ id: 'n', type: 'transform', params: { value: 1 } }]);
    const other = await workflow(acme, 'other', [{ id: 'n', type: 'transform', params: { value: 2 } }]);
    const theirs = await workflow(globex, 'theirs', [{ id: 'n', type: 'transform', params: { value: 3 } }]);
    const all = await sse('/v1/stream', acme.key);
    const filtered = await sse(`/v1/stream?workflowId=${wanted}`, acme.key);
    const globexStream = await sse('/v1/stream', globex.key);
    for (const s of [all, filtered, globexStream]) expect(s.status).toBe(200);
    await Promise.all([all, filtered, globexStream].map((s) => waitFor(() => s.comments.includes('connected'))));

    const wantedRun = await start(acme, wanted);
    const otherRun = await start(acme, other);
    const theirRun = await start(globex, theirs);
    for (const [id, tenant] of [
      [wantedRun, acme],
      [otherRun, acme],
      [theirRun, globex],
    ] as const)
      await h.engine.waitForRun(id, { tenantId: tenant.tenant.id });

    const ended = (id: string) => (e: SseEvent) => e.event === 'run' && e.data.id === id && e.data.status === 'succeeded';
    await all.next(ended(wantedRun));
    await all.next(ended(otherRun));
    await filtered.next(ended(wantedRun));
    await globexStream.next(ended(theirRun));
    // Give stragglers a moment, then check what each stream saw.
    await new Promise((r) => setTimeout(r, 200));
    expect(new Set(all.events.map((e) => e.data.id))).toEqual(new Set([wantedRun, otherRun]));
    expect(new Set(filtered.events.map((e) => e.data.id))).toEqual(new Set([wantedRun]));
    expect(new Set(globexStream.events.map((e) => e.data.id))).toEqual(new Set([theirRun]));
    for (const e of all.events) expect(Object.keys(e.data)).not.toContain('steps');
    // The same state is not sent twice.
    const states = all.events.filter((e) => e.data.id === wantedRun).map((e) => JSON.stringify(e.data));
    expect(new Set(states).size).toBe(states.length);
    for (const s of [all, filtered, globexStream]) s.close();
  });

  it('limits open streams per tenant (429), and gives a slot back when a client hangs up', async () => {
    const held: SseClient[] = [];
    for (let i = 0; i < 100; i++) held.push(await sse('/v1/stream', globex.key));
    expect(held.every((s) => s.status === 200)).toBe(true);
    const refused = await sse('/v1/stream', globex.key);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBeTruthy();
    expect(await refused.body()).toMatchObject({ code: 'AIQ_RATE_LIMITED', limit: 100 });
    // Another tenant is not affected.
    const acmeStream = await sse('/v1/stream', acme.key);
    expect(acmeStream.status).toBe(200);
    acmeStream.close();

    held.pop()?.close();
    let again: SseClient | undefined;
    await waitFor(async () => {
      again = await sse('/v1/stream', globex.key);
      if (again.status === 200) return true;
      await again.body();
      return false;
    });
    expect(again?.status).toBe(200);
    for (const s of [...held, again]) s?.close();
  });

  it('ends open streams and closes its LISTEN connection when the server closes', async () => {
    const stream = await sse('/v1/stream', acme.key);
    await waitFor(() => stream.comments.includes('connected'));
    const listening = async () =>
      (
        await h.t.db.systemQuery<{ n: number }>(
          'test: LISTEN connections',
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'automateiq-run-events' AND datname = current_database()",
        )
      ).rows[0]?.n;
    expect(await listening()).toBe(1);
    closed = true;
    await h.app.close();
    await stream.ended;
    await waitFor(async () => (await listening()) === 0);
    await h.engine.stop();
    await h.t.drop();
  });
});

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('the condition did not come true in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
