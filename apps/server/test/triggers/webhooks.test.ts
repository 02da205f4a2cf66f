import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_MISSES_PER_MINUTE } from '../../src/api/routes/webhooks';
import { webhookSignatureHeader } from '../../src/triggers/webhook-signature';
import { type ApiHarness, startApiHarness, type TestTenant } from '../support/api-harness';

/** Webhook triggers end to end: arming, async and sync answers, signatures, limits, suspension. */
describe('webhook triggers (/hooks/:tenantSlug/:path)', () => {
  let h: ApiHarness;
  let acme: TestTenant;
  beforeAll(async () => {
    h = await startApiHarness({ workers: 1, env: { AIQ_WEBHOOK_SYNC_TIMEOUT_MS: '1500' } });
    acme = await h.tenant('acme');
  });
  afterAll(() => h?.close());

  async function workflow(tenant: TestTenant, definition: Record<string, unknown>, activate = true): Promise<string> {
    const created = await h.call({ method: 'POST', url: '/v1/workflows', token: tenant.key, body: { definition } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    if (activate) {
      const activated = await h.call({ method: 'POST', url: `/v1/workflows/${id}/activate`, token: tenant.key });
      expect(activated.status, JSON.stringify(activated.body)).toBe(200);
    }
    return id;
  }

  function hook(args: {
    slug?: string;
    path: string;
    method?: 'GET' | 'POST' | 'PUT';
    body?: string | Buffer;
    headers?: Record<string, string>;
  }) {
    return h.app.inject({
      method: args.method ?? 'POST',
      url: `/hooks/${args.slug ?? 'acme'}/${args.path}`,
      headers: { 'content-type': 'application/json', ...args.headers },
      ...(args.body === undefined ? {} : { payload: args.body }),
    });
  }

  const echo = (name: string, path: string, extra: Record<string, unknown> = {}) => ({
    name,
    triggers: [{ type: 'webhook', path, ...extra }],
    nodes: [{ id: 'echo', type: 'transform', params: { value: { got: '{{ input }}', via: '{{ trigger.type }}' } } }],
  });

  it('answers only once the workflow is activated, with 202 and the run id once the run is recorded', async () => {
    const id = await workflow(acme, echo('orders', 'orders/new'), false);
    const before = await hook({ path: 'orders/new', body: '{"order":1}' });
    expect(before.statusCode).toBe(404);
    await h.call({ method: 'POST', url: `/v1/workflows/${id}/activate`, token: acme.key });

    const answer = await hook({
      path: 'orders/new',
      body: '{"order":42}',
      headers: { authorization: 'Bearer secret-of-the-sender', 'x-shop': 'north' },
    });
    expect(answer.statusCode).toBe(202);
    const { id: runId, status } = answer.json() as { id: string; status: string };
    expect(status).toBe('queued');
    const run = await h.engine.waitForRun(runId, { tenantId: acme.tenant.id });
    expect(run.status).toBe('succeeded');
    expect(run.output).toEqual({ got: { order: 42 }, via: 'webhook' });
    const read = await h.call({ method: 'GET', url: `/v1/runs/${runId}`, token: acme.key });
    expect(read.body.trigger).toMatchObject({ type: 'webhook', path: 'orders/new', method: 'POST', input: { order: 42 } });
    expect(read.body.trigger.headers['x-shop']).toBe('north');
    expect(read.body.trigger.headers.authorization).toBeUndefined();

    const audit = await h.call({ method: 'GET', url: '/v1/audit?action=run.start', token: acme.ownerToken });
    expect(audit.body.items.some((e: { target: { id: string } }) => e.target.id === runId)).toBe(true);

    // Deactivated, deleted: gone, with the same answer as a path that never existed.
    await h.call({ method: 'POST', url: `/v1/workflows/${id}/deactivate`, token: acme.key });
    const after = await hook({ path: 'orders/new', body: '{}' });
    const never = await hook({ path: 'never/was', body: '{}' });
    const otherTenant = await hook({ slug: 'nobody', path: 'orders/new', body: '{}' });
    for (const gone of [after, never, otherTenant]) {
      expect(gone.statusCode).toBe(404);
      expect(gone.headers['content-type']).toContain('application/problem+json');
      expect(gone.json()).toMatchObject({ code: 'AIQ_WEBHOOK_NOT_FOUND' });
    }
    await h.call({ method: 'POST', url: `/v1/workflows/${id}/activate`, token: acme.key });
    expect((await hook({ path: 'orders/new', body: '{}' })).statusCode).toBe(202);
    await h.call({ method: 'DELETE', url: `/v1/workflows/${id}`, token: acme.key });
    expect((await hook({ path: 'orders/new', body: '{}' })).statusCode).toBe(404);
  });

  it('a repeated Idempotency-Key answers with the first run', async () => {
    await workflow(acme, echo('idem', 'idem'));
    const first = await hook({ path: 'idem', body: '{"n":1}', headers: { 'idempotency-key': 'evt-1' } });
    const again = await hook({ path: 'idem', body: '{"n":1}', headers: { 'idempotency-key': 'evt-1' } });
    expect(first.statusCode).toBe(202);
    expect(again.json().id).toBe(first.json().id);
  });

  it('respond: sync answers with the output, and the status and headers of flow.return', async () => {
    await workflow(acme, {
      name: 'quote',
      triggers: [{ type: 'webhook', path: 'quote', respond: 'sync' }],
      nodes: [
        { id: 'price', type: 'transform', params: { value: '{{ input.qty * 3 }}' } },
        { id: 'tax', type: 'transform', params: { value: '{{ steps.price.output * 1.2 }}' } },
        {
          id: 'answer',
          type: 'flow.return',
          params: {
            value: { total: '{{ steps.tax.output }}' },
            status: 201,
            headers: { 'x-quote-for': '{{ $string(input.qty) }}', 'content-length': '1' },
          },
        },
      ],
      edges: [
        { from: 'price', to: 'tax' },
        { from: 'tax', to: 'answer' },
      ],
    });
    const answer = await hook({ path: 'quote', body: '{"qty":5}' });
    expect(answer.statusCode).toBe(201);
    expect(answer.json()).toEqual({ total: 18 });
    expect(answer.headers['x-quote-for']).toBe('5');
    expect(answer.headers['x-aiq-run-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('respond: sync answers a run that a worker finishes (a step that waits) once it ends, read after its end', async () => {
    await workflow(acme, {
      name: 'worked',
      triggers: [{ type: 'webhook', path: 'worked', respond: 'sync' }],
      nodes: [
        { id: 'first', type: 'transform', params: { value: '{{ input.n + 1 }}' } },
        { id: 'nap', type: 'flow.wait', params: { duration: '50ms' } },
        { id: 'answer', type: 'flow.return', params: { value: { n: '{{ steps.first.output }}', at: '{{ $type(run.startedAt) }}' }, status: 200 } },
      ],
      edges: [
        { from: 'first', to: 'nap' },
        { from: 'nap', to: 'answer' },
      ],
    });
    const answer = await hook({ path: 'worked', body: '{"n":41}' });
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.json()).toEqual({ n: 42, at: 'string' });
  });

  it('respond: sync answers a failed run with a problem, and a slow run with 202 once the wait is over', async () => {
    await workflow(acme, {
      name: 'refuse',
      triggers: [{ type: 'webhook', path: 'refuse', respond: 'sync' }],
      nodes: [{ id: 'no', type: 'flow.fail', params: { message: 'out of stock', code: 'STOCK' } }],
    });
    const failed = await hook({ path: 'refuse', body: '{}' });
    expect(failed.statusCode).toBe(502);
    expect(failed.json()).toMatchObject({ code: 'AIQ_RUN_FAILED', runStatus: 'failed', error: { code: 'STOCK', message: 'out of stock' } });

    await workflow(acme, {
      name: 'slow',
      triggers: [{ type: 'webhook', path: 'slow', respond: 'sync' }],
      nodes: [{ id: 'nap', type: 'flow.wait', params: { duration: '1m' } }],
    });
    const started = Date.now();
    const slow = await hook({ path: 'slow', body: '{}' });
    expect(slow.statusCode).toBe(202);
    expect(slow.json()).toMatchObject({ id: expect.any(String), status: 'running' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
  });

  it('with a secret, refuses a missing, wrong or replayed signature and accepts a good one', async () => {
    const secret = await h.call({
      method: 'POST',
      url: '/v1/credentials',
      token: acme.key,
      body: { name: 'shop-hmac', type: 'secret', data: { value: 'whsec_4f1c' } },
    });
    expect(secret.status).toBe(201);
    await workflow(acme, echo('signed', 'signed', { secret: { credential: 'shop-hmac' } }));
    const body = '{"paid":true}';
    const missing = await hook({ path: 'signed', body });
    expect(missing.statusCode).toBe(401);
    expect(missing.json()).toMatchObject({ code: 'AIQ_SIGNATURE_INVALID', errors: [{ path: 'headers.x-aiq-signature' }] });
    const wrongKey = await hook({ path: 'signed', body, headers: { 'x-aiq-signature': webhookSignatureHeader({ body, secret: 'guess', nowMs: Date.now() }) } });
    expect(wrongKey.statusCode).toBe(401);
    const replayed = await hook({
      path: 'signed',
      body,
      headers: { 'x-aiq-signature': webhookSignatureHeader({ body, secret: 'whsec_4f1c', nowMs: Date.now() - 6 * 60_000 }) },
    });
    expect(replayed.statusCode).toBe(401);
    expect(replayed.json().detail).toMatch(/more than 300 s/);
    const tampered = await hook({
      path: 'signed',
      body: '{"paid":false}',
      headers: { 'x-aiq-signature': webhookSignatureHeader({ body, secret: 'whsec_4f1c', nowMs: Date.now() }) },
    });
    expect(tampered.statusCode).toBe(401);
    const good = await hook({ path: 'signed', body, headers: { 'x-aiq-signature': webhookSignatureHeader({ body, secret: 'whsec_4f1c', nowMs: Date.now() }) } });
    expect(good.statusCode).toBe(202);
    // The secret never shows in an answer.
    for (const answer of [missing, wrongKey, replayed, tampered, good]) expect(answer.body).not.toContain('whsec_4f1c');
  });

  it('refuses other content types (415), malformed JSON (400), and reads the types a trigger declares', async () => {
    await workflow(acme, echo('typed', 'typed'));
    const text = await hook({ path: 'typed', body: 'hello', headers: { 'content-type': 'text/plain' } });
    expect(text.statusCode).toBe(415);
    expect(text.json()).toMatchObject({ code: 'AIQ_UNSUPPORTED_MEDIA_TYPE', errors: [{ path: 'headers.content-type' }] });
    const broken = await hook({ path: 'typed', body: '{"a":' });
    expect(broken.statusCode).toBe(400);
    expect(broken.json()).toMatchObject({ code: 'AIQ_VALIDATION', errors: [{ path: 'body' }] });

    await workflow(acme, echo('form', 'form', { contentTypes: ['application/x-www-form-urlencoded', 'text/plain'] }));
    const form = await hook({ path: 'form', body: 'a=1&b=two', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.statusCode).toBe(202);
    const run = await h.engine.waitForRun(form.json().id, { tenantId: acme.tenant.id });
    expect(run.output).toEqual({ got: { a: '1', b: 'two' }, via: 'webhook' });
  });

  it("holds the tenant's payload limit and request rate, and stops while the tenant is suspended", async () => {
    const small = await h.tenant('small');
    await workflow(small, echo('limited', 'limited'));
    const patched = await h.call({
      method: 'PATCH',
      url: `/v1/tenants/${small.tenant.id}`,
      token: h.adminToken,
      body: { quotas: { maxPayloadBytes: 1024, apiRequestsPerMinute: 4 } },
    });
    expect(patched.status).toBe(200);
    const big = await hook({ slug: 'small', path: 'limited', body: JSON.stringify({ pad: 'x'.repeat(2000) }) });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({ code: 'AIQ_PAYLOAD_TOO_LARGE', quota: 'maxPayloadBytes', limit: 1024 });
    // The webhook shares the tenant's budget of 4 a minute with its API calls (the setup used some of
    // it): of 10 calls at most 8 pass, even when a new minute starts among them.
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await hook({ slug: 'small', path: 'limited', body: '{}' }));
    const refused = answers.filter((a) => a.statusCode === 429);
    expect(answers.every((a) => a.statusCode === 202 || a.statusCode === 429)).toBe(true);
    expect(refused.length).toBeGreaterThanOrEqual(2);
    for (const answer of refused) {
      expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
      expect(answer.json()).toMatchObject({ code: 'AIQ_RATE_LIMITED', quota: 'apiRequestsPerMinute', limit: 4 });
    }

    const suspended = await h.tenant('paused');
    await workflow(suspended, echo('paused', 'paused'));
    expect((await hook({ slug: 'paused', path: 'paused', body: '{}' })).statusCode).toBe(202);
    await h.call({ method: 'PATCH', url: `/v1/tenants/${suspended.tenant.id}`, token: h.adminToken, body: { status: 'suspended' } });
    expect((await hook({ slug: 'paused', path: 'paused', body: '{}' })).statusCode).toBe(404);
    await h.call({ method: 'PATCH', url: `/v1/tenants/${suspended.tenant.id}`, token: h.adminToken, body: { status: 'active' } });
    expect((await hook({ slug: 'paused', path: 'paused', body: '{}' })).statusCode).toBe(202);
  });

  it('a path leads to one active workflow of a tenant; another tenant may use it', async () => {
    await workflow(acme, echo('first', 'shared'));
    const second = await workflow(acme, echo('second', 'shared'), false);
    const clash = await h.call({ method: 'POST', url: `/v1/workflows/${second}/activate`, token: acme.key });
    expect(clash.status).toBe(409);
    expect(clash.body).toMatchObject({ code: 'AIQ_WEBHOOK_PATH_TAKEN', errors: [{ path: 'definition.triggers[0].path' }] });
    const other = await h.tenant('other');
    await workflow(other, echo('theirs', 'shared'));
    expect((await hook({ slug: 'other', path: 'shared', body: '{}' })).statusCode).toBe(202);
  });

  it('refuses the lookups of an address that asked for too many unknown paths (429), while known paths still answer', async () => {
    await workflow(acme, echo('known', 'known'));
    const from = (path: string) =>
      h.app.inject({ method: 'POST', url: `/hooks/acme/${path}`, headers: { 'content-type': 'application/json' }, payload: '{}', remoteAddress: '203.0.113.7' });
    expect((await from('known')).statusCode).toBe(202);
    // The window is a minute: a count that began just before a minute's end starts again once, so
    // twice the limit is enough to be refused whenever the test runs.
    const guesses: number[] = [];
    let refused: Awaited<ReturnType<typeof from>> | undefined;
    for (let i = 0; i < 2 * WEBHOOK_MISSES_PER_MINUTE + 3 && !refused; i++) {
      const answer = await from(`guess-${i}`);
      guesses.push(answer.statusCode);
      if (answer.statusCode === 429) refused = answer;
    }
    expect(guesses.slice(0, -1).every((code) => code === 404)).toBe(true);
    expect(refused?.statusCode).toBe(429);
    expect(Number(refused?.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused?.json()).toMatchObject({ code: 'AIQ_RATE_LIMITED' });
    // A path kept in memory answers; another address is not refused.
    expect((await from('known')).statusCode).toBe(202);
    expect((await hook({ path: 'guess-elsewhere', body: '{}' })).statusCode).toBe(404);
  });
});
