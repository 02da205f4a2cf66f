import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WorkflowDefinition } from '@automateiq/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineHarness, startEngineHarness } from '../support/engine-harness';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe('running workflows on the durable engine', () => {
  let t: TestDatabase;
  let h: EngineHarness;
  /** An HTTP peer that never answers. */
  let hanging: Server;
  let hangingPort: number;
  beforeAll(async () => {
    t = await createTestDatabase();
    h = await startEngineHarness(t);
    hanging = createServer(() => {});
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    hangingPort = (hanging.address() as AddressInfo).port;
  });
  afterAll(async () => {
    hanging.closeAllConnections();
    hanging.close();
    await h.stop();
    await t.drop();
  });

  it("runs a chain and returns the single terminal node's output", async () => {
    const run = await h.run(
      {
        name: 'chain',
        nodes: [
          { id: 'a', type: 'transform', params: { value: { n: '{{ input.n + 1 }}' } } },
          { id: 'b', type: 'transform', params: { value: '{{ steps.a.output.n * 10 }}' } },
        ],
        edges: [{ from: 'a', to: 'b' }],
      },
      { n: 1 },
    );
    expect(run.status).toBe('succeeded');
    expect(run.output).toBe(20);
    // Pure steps may run inside the transaction that completes the step before them; each is still
    // recorded on its own, with its result.
    expect(run.attempts.map((a) => a.output)).toEqual([{ n: 2 }, 20]);
    for (const a of run.attempts) expect(a.finishedAt).not.toBeNull();
    expect(run.attempts.map((a) => [a.nodeId, a.status])).toEqual([
      ['a', 'succeeded'],
      ['b', 'succeeded'],
    ]);
  });

  it('skips the branch not taken and still runs the join', async () => {
    const definition: WorkflowDefinition = {
      name: 'branch',
      nodes: [
        { id: 'check', type: 'flow.if', params: { condition: '{{ input.x > 5 }}' } },
        { id: 'yes', type: 'transform', params: { value: 'big' } },
        { id: 'no', type: 'transform', params: { value: 'small' } },
        { id: 'after_yes', type: 'transform', params: { value: 'after' } },
        {
          id: 'join',
          type: 'transform',
          params: {
            value: {
              yes: '{{ steps.yes.status }}',
              no: '{{ steps.no.status }}',
              after: '{{ steps.after_yes.status }}',
            },
          },
        },
      ],
      edges: [
        { from: 'check', to: 'yes', port: 'true' },
        { from: 'check', to: 'no', port: 'false' },
        { from: 'yes', to: 'after_yes' },
        { from: 'after_yes', to: 'join' },
        { from: 'no', to: 'join' },
      ],
    };
    const small = await h.run(definition, { x: 1 });
    expect(small.output).toEqual({ yes: 'skipped', no: 'succeeded', after: 'skipped' });
    const big = await h.run(definition, { x: 9 });
    expect(big.output).toEqual({ yes: 'succeeded', no: 'skipped', after: 'succeeded' });
  });

  it('fans out in parallel and joins all branches', async () => {
    const run = await h.run({
      name: 'fan',
      nodes: [
        { id: 's', type: 'transform', params: { value: 1 } },
        { id: 'p1', type: 'transform', params: { value: '{{ steps.s.output + 1 }}' } },
        { id: 'p2', type: 'transform', params: { value: '{{ steps.s.output + 2 }}' } },
        { id: 'p3', type: 'transform', params: { value: '{{ steps.s.output + 3 }}' } },
        {
          id: 'j',
          type: 'transform',
          params: { value: '{{ steps.p1.output + steps.p2.output + steps.p3.output }}' },
        },
      ],
      edges: ['p1', 'p2', 'p3'].flatMap((p) => [
        { from: 's', to: p },
        { from: p, to: 'j' },
      ]),
    });
    expect(run.output).toBe(9);
  });

  it('returns an object of terminal outputs when several terminals ran', async () => {
    const run = await h.run({
      name: 'two-ends',
      nodes: [
        { id: 'x', type: 'transform', params: { value: 'X' } },
        { id: 'y', type: 'transform', params: { value: 'Y' } },
      ],
    });
    expect(run.output).toEqual({ x: 'X', y: 'Y' });
  });

  it('retries a retryable failure with backoff as new attempts, then succeeds', async () => {
    const run = await h.run({
      name: 'flaky',
      nodes: [
        {
          id: 'f',
          type: 'code.js',
          retry: { attempts: 3, delay: '50ms' },
          params: {
            code: "if (attempt < 3) { const e = new Error('busy'); e.retryable = true; throw e; } return attempt;",
          },
        },
      ],
    });
    expect(run.status).toBe('succeeded');
    expect(run.output).toBe(3);
    expect(run.attempts.map((a) => [a.attempt, a.status])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'succeeded'],
    ]);
    const gap = (run.attempts[1]?.startedAt?.getTime() ?? 0) - (run.attempts[0]?.finishedAt?.getTime() ?? 0);
    expect(gap).toBeGreaterThanOrEqual(20);
  });

  it('takes the error edge of a failed step instead of failing the run', async () => {
    const run = await h.run({
      name: 'error-edge',
      nodes: [
        { id: 'boom', type: 'flow.fail', params: { message: 'nope', code: 'BAD' } },
        { id: 'rescue', type: 'transform', params: { value: { rescued: '{{ steps.boom.error.code }}' } } },
      ],
      edges: [{ from: 'boom', to: 'rescue', port: 'error' }],
    });
    expect(run.status).toBe('succeeded');
    expect(run.output).toEqual({ rescued: 'BAD' });
  });

  it("fails the run with the step's error when there is no error edge", async () => {
    const run = await h.run({
      name: 'fails',
      nodes: [{ id: 'boom', type: 'flow.fail', params: { message: 'it broke', code: 'BROKEN' } }],
    });
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ code: 'BROKEN', message: 'it broke', retryable: false });
  });

  it('runs forEach items with bounded concurrency and collects outputs in order', async () => {
    const run = await h.run(
      {
        name: 'each',
        nodes: [
          {
            id: 'each',
            type: 'flow.forEach',
            params: {
              items: '{{ input.items }}',
              concurrency: 2,
              do: {
                nodes: [
                  {
                    id: 'double',
                    type: 'transform',
                    params: { value: { v: '{{ item * 2 }}', i: '{{ index }}' } },
                  },
                  {
                    id: 'label',
                    type: 'transform',
                    params: { value: 'item {{ steps.double.output.i }} = {{ steps.double.output.v }}' },
                  },
                ],
                edges: [{ from: 'double', to: 'label' }],
              },
            },
          },
        ],
      },
      { items: [5, 6, 7, 8, 9] },
    );
    expect(run.status).toBe('succeeded');
    expect(run.output).toEqual(['item 0 = 10', 'item 1 = 12', 'item 2 = 14', 'item 3 = 16', 'item 4 = 18']);
    // Never more than two items in flight: item i+2 starts only after some item finished.
    const labels = run.attempts.filter((a) => a.nodeId === 'label');
    const doubles = run.attempts.filter((a) => a.nodeId === 'double');
    for (let i = 2; i < 5; i++) {
      const start = doubles.find((a) => a.scope === `each[${i}]`)?.startedAt?.getTime() ?? 0;
      const finishedBefore = labels.filter(
        (a) => (a.finishedAt?.getTime() ?? Number.POSITIVE_INFINITY) <= start,
      ).length;
      expect(finishedBefore).toBeGreaterThanOrEqual(i - 1);
    }
  });

  it('stops an expression that loops with its time box and fails the step clearly', async () => {
    const run = await h.run({
      name: 'loop-expression',
      nodes: [
        {
          id: 'spin',
          type: 'transform',
          params: { value: '{{ ( $f := function($n){ $f($n + 1) }; $f(0) ) }}' },
        },
      ],
    });
    expect(run.status).toBe('failed');
    expect(run.error?.code).toBe('EXPRESSION_TIMEOUT');
  });

  it('stops a code step that allocates without bound with its memory limit', async () => {
    const run = await h.run({
      name: 'hog',
      nodes: [
        {
          id: 'hog',
          type: 'code.js',
          params: { code: 'const a = []; for (;;) a.push(new Array(100000).fill(1));', memoryMb: 16 },
        },
      ],
    });
    expect(run.status).toBe('failed');
    expect(run.error?.code).toBe('CODE_MEMORY_LIMIT');
  });

  it('times out a step after its timeout and reports TIMEOUT', async () => {
    const run = await h.run({
      name: 'slow',
      nodes: [{ id: 'slow', type: 'code.js', timeout: '200ms', params: { code: 'while (true) {}' } }],
    });
    expect(run.status).toBe('failed');
    expect(['TIMEOUT', 'CODE_TIMEOUT']).toContain(run.error?.code);
  });

  it('fails a run that outlives its run timeout', async () => {
    const run = await h.run({
      name: 'run-timeout',
      settings: { timeout: '300ms' },
      nodes: [{ id: 'pause', type: 'flow.wait', params: { duration: '1h' } }],
    });
    expect(run.status).toBe('failed');
    expect(run.error?.code).toBe('RUN_TIMEOUT');
    expect(run.attempts[0]?.status).toBe('cancelled');
  });

  it('parks a waiting run without holding a worker slot, and resumes it on time', async () => {
    const saved = await h.deploy({
      name: 'waiter',
      nodes: [
        { id: 'pause', type: 'flow.wait', params: { duration: '700ms' } },
        { id: 'done', type: 'transform', params: { value: '{{ steps.pause.output.waitedUntil }}' } },
      ],
      edges: [{ from: 'pause', to: 'done' }],
    });
    const started = Date.now();
    const { runId } = await h.engine.startRun({ tenantId: h.tenantId, ...saved, trigger: { type: 'test' } });
    await new Promise((r) => setTimeout(r, 300));
    expect(h.workers[0]?.running).toBe(0);
    const status = await t.db.withTenant(
      h.tenantId,
      async (tx) => (await tx.query('SELECT status FROM runs WHERE id = $1', [runId])).rows[0],
    );
    expect(status).toEqual({ status: 'waiting' });
    const run = await h.waitForRun(runId);
    expect(run.status).toBe('succeeded');
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('cancels a running run: its running step is aborted and nothing more runs', async () => {
    const aborted = new Promise<void>((resolve) => {
      hanging.on('request', (request) => request.socket.on('close', () => resolve()));
    });
    const saved = await h.deploy({
      name: 'cancellable',
      nodes: [
        {
          id: 'long',
          type: 'http.request',
          timeout: '30s',
          params: { url: `http://127.0.0.1:${hangingPort}/never` },
        },
        { id: 'next', type: 'transform', params: { value: 1 } },
      ],
      edges: [{ from: 'long', to: 'next' }],
    });
    const { runId } = await h.engine.startRun({ tenantId: h.tenantId, ...saved, trigger: { type: 'test' } });
    for (let i = 0; i < 100 && (h.workers[0]?.running ?? 0) === 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(await h.engine.cancelRun({ tenantId: h.tenantId, runId })).toBe(true);
    const run = await h.waitForRun(runId);
    expect(run.status).toBe('cancelled');
    expect(run.attempts.map((a) => [a.nodeId, a.status])).toEqual([['long', 'cancelled']]);
    await aborted; // the request to the peer was torn down
    for (let i = 0; i < 100 && (h.workers[0]?.running ?? 0) > 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(h.workers[0]?.running).toBe(0);
    expect(await h.engine.cancelRun({ tenantId: h.tenantId, runId })).toBe(false);
  });

  it('starts one run per idempotency key', async () => {
    const saved = await h.deploy({
      name: 'idem',
      nodes: [{ id: 'n', type: 'transform', params: { value: 1 } }],
    });
    const first = await h.engine.startRun({
      tenantId: h.tenantId,
      ...saved,
      trigger: { type: 'test' },
      idempotencyKey: 'k-1',
    });
    const again = await h.engine.startRun({
      tenantId: h.tenantId,
      ...saved,
      trigger: { type: 'test' },
      idempotencyKey: 'k-1',
    });
    expect(first.created).toBe(true);
    expect(again).toEqual({ runId: first.runId, created: false });
  });

  it('fails a step whose params do not match its node type after evaluation', async () => {
    const run = await h.run({
      name: 'bad-params',
      nodes: [
        {
          id: 'each',
          type: 'flow.forEach',
          params: {
            items: '{{ "not a list" }}',
            do: { nodes: [{ id: 'x', type: 'transform', params: { value: 1 } }] },
          },
        },
      ],
    });
    expect(run.status).toBe('failed');
    expect(['INVALID_PARAMS', 'INVALID_ITEMS']).toContain(run.error?.code);
  });
});
