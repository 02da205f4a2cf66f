import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunsPerDayExceededError } from '../../src/engine';
import { WorkflowNotFoundError } from '../../src/engine/workflow-not-found-error';
import { newId } from '../../src/lib/ids';
import { type EngineHarness, startEngineHarness } from '../support/engine-harness';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * Concurrent starts of a tenant share transactions (engine/start-batcher.ts): each request still gets
 * its own outcome, and idempotency, the day's quota, concurrency slots and audit hold per run.
 */
describe('batched run starts', () => {
  let t: TestDatabase;
  let h: EngineHarness;
  beforeAll(async () => {
    t = await createTestDatabase();
    // No worker: the runs stay as their start left them.
    h = await startEngineHarness(t, { workers: 0 });
  });
  afterAll(async () => {
    await h.stop();
    await t.drop();
  });

  const one = async <T>(sql: string, values: unknown[], tenantId = h.tenantId): Promise<T> =>
    t.db.withTenant(tenantId, async (tx) => (await tx.query(sql, values)).rows[0] as T);

  it('starts 60 concurrent requests in a few transactions, each run with its own input, jobs and audit record', async () => {
    const saved = await h.deploy({ name: 'batched', nodes: [{ id: 'a', type: 'transform', params: { value: '{{ input.n }}' } }] });
    const started = await Promise.all(
      Array.from({ length: 60 }, (_, n) =>
        h.engine.startRun({
          tenantId: h.tenantId,
          ...saved,
          input: { n },
          trigger: { type: 'test' },
          audit: ({ runId, version }) => ({
            actor: { type: 'system', id: null, label: 'test' },
            action: 'run.start',
            target: { type: 'run', id: runId },
            details: { n, version },
          }),
        }),
      ),
    );
    expect(started.every((s) => s.created)).toBe(true);
    expect(new Set(started.map((s) => s.runId)).size).toBe(60);
    const runs = await one<{ runs: number; transactions: number; inputs: number[] }>(
      `SELECT count(*)::int AS runs, count(DISTINCT xmin::text)::int AS transactions,
              array_agg((input->>'n')::int ORDER BY (input->>'n')::int) AS inputs
         FROM runs WHERE workflow_id = $1`,
      [saved.workflowId],
    );
    expect(runs.runs).toBe(60);
    expect(runs.inputs).toEqual(Array.from({ length: 60 }, (_, n) => n));
    // Batched: all but the first arrive while a transaction is in flight (a handful at most).
    expect(runs.transactions).toBeLessThanOrEqual(5);
    const jobs = await one<{ n: number }>(
      `SELECT count(*)::int AS n FROM jobs j JOIN runs r ON r.tenant_id = j.tenant_id AND r.id = j.run_id
        WHERE r.workflow_id = $1 AND j.kind = 'step' AND j.node_id = 'a'`,
      [saved.workflowId],
    );
    expect(jobs.n).toBe(60);
    const audits = await one<{ n: number; matched: number }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE a.target_id = r.id::text AND (a.details->>'n')::int = (r.input->>'n')::int)::int AS matched
         FROM audit_log a LEFT JOIN runs r ON r.tenant_id = a.tenant_id AND r.id::text = a.target_id
        WHERE a.action = 'run.start' AND r.workflow_id = $1`,
      [saved.workflowId],
    );
    expect(audits).toEqual({ n: 60, matched: 60 });
  });

  it('answers every repeat of an idempotency key with the one run, also within a batch', async () => {
    const saved = await h.deploy({ name: 'idempotent', nodes: [{ id: 'a', type: 'transform' }] });
    const started = await Promise.all(
      Array.from({ length: 20 }, () =>
        h.engine.startRun({ tenantId: h.tenantId, ...saved, trigger: { type: 'test' }, idempotencyKey: 'same' }),
      ),
    );
    expect(new Set(started.map((s) => s.runId)).size).toBe(1);
    expect(started.filter((s) => s.created)).toHaveLength(1);
    expect(await one<{ n: number }>('SELECT count(*)::int AS n FROM runs WHERE workflow_id = $1', [saved.workflowId])).toEqual({ n: 1 });
  });

  it('refuses exactly the starts beyond runsPerDay, counting only those it started', async () => {
    const tenantId = await h.tenant('day-quota');
    const saved = await h.deploy({ name: 'counted', nodes: [{ id: 'a', type: 'transform' }] }, tenantId);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 25 }, () =>
        h.engine.startRun({ tenantId, ...saved, trigger: { type: 'test' }, runsPerDay: { limit: 10 } }),
      ),
    );
    const refused = outcomes.filter((o) => o.status === 'rejected');
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(10);
    expect(refused).toHaveLength(15);
    for (const o of refused) expect((o as PromiseRejectedResult).reason).toBeInstanceOf(RunsPerDayExceededError);
    expect(await one<{ n: number }>('SELECT count(*)::int AS n FROM runs WHERE workflow_id = $1', [saved.workflowId], tenantId)).toEqual({ n: 10 });
    expect(await one<{ n: number }>('SELECT sum(runs)::int AS n FROM usage_daily', [], tenantId)).toEqual({ n: 10 });
    // Tomorrow's quota aside, a later start is refused as well.
    await expect(h.engine.startRun({ tenantId, ...saved, trigger: { type: 'test' }, runsPerDay: { limit: 10 } })).rejects.toBeInstanceOf(
      RunsPerDayExceededError,
    );
  });

  it('admits exactly as many concurrent starts as the tenant quota has slots; the rest wait unadmitted', async () => {
    const tenantId = await h.tenant('slots');
    const saved = await h.deploy({ name: 'slotted', nodes: [{ id: 'a', type: 'transform' }] }, tenantId);
    await Promise.all(
      Array.from({ length: 20 }, () => h.engine.startRun({ tenantId, ...saved, trigger: { type: 'test' }, tenantConcurrencyQuota: 3 })),
    );
    const runs = await one<{ admitted: number; waiting: number; jobs: number; active: number }>(
      `SELECT count(*) FILTER (WHERE admitted)::int AS admitted, count(*) FILTER (WHERE NOT admitted)::int AS waiting,
              (SELECT count(*)::int FROM jobs WHERE kind = 'step') AS jobs,
              (SELECT active FROM concurrency_slots WHERE key = 'tenant') AS active
         FROM runs WHERE workflow_id = $1`,
      [saved.workflowId],
      tenantId,
    );
    expect(runs).toEqual({ admitted: 3, waiting: 17, jobs: 3, active: 3 });
  });

  it('fails only the request at fault: an unknown workflow, and an input PostgreSQL refuses, beside good starts', async () => {
    const saved = await h.deploy({ name: 'mixed', nodes: [{ id: 'a', type: 'transform' }] });
    const outcomes = await Promise.allSettled([
      h.engine.startRun({ tenantId: h.tenantId, ...saved, input: { ok: 1 }, trigger: { type: 'test' } }),
      h.engine.startRun({ tenantId: h.tenantId, workflowId: newId(), version: 'latest', trigger: { type: 'test' } }),
      // jsonb has no \u0000: the whole batch's statement fails, and is tried again request by request.
      h.engine.startRun({ tenantId: h.tenantId, ...saved, input: { bad: 'nul\u0000' }, trigger: { type: 'test' } }),
      h.engine.startRun({ tenantId: h.tenantId, ...saved, input: { ok: 2 }, trigger: { type: 'test' } }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(WorkflowNotFoundError);
    expect(String((outcomes[2] as PromiseRejectedResult).reason)).toMatch(/unicode|\\u0000/i);
    const inputs = await one<{ inputs: unknown[] }>(
      "SELECT array_agg(input->'ok' ORDER BY input->>'ok') AS inputs FROM runs WHERE workflow_id = $1",
      [saved.workflowId],
    );
    expect(inputs.inputs).toEqual([1, 2]);
  });

  it("deletes a run's steps and jobs with it (the engine's tables have no foreign keys to check per row: migration 0014)", async () => {
    const saved = await h.deploy({ name: 'deleted', nodes: [{ id: 'a', type: 'transform' }] });
    const kept = await h.engine.startRun({ tenantId: h.tenantId, ...saved, trigger: { type: 'test' } });
    const gone = await h.engine.startRun({ tenantId: h.tenantId, ...saved, trigger: { type: 'test' } });
    const count = (runId: string): Promise<{ steps: number; jobs: number }> =>
      one(
        `SELECT (SELECT count(*)::int FROM steps WHERE run_id = $1) AS steps, (SELECT count(*)::int FROM jobs WHERE run_id = $1) AS jobs`,
        [runId],
      );
    expect(await count(gone.runId)).toEqual({ steps: 1, jobs: 1 });
    await one('DELETE FROM runs WHERE id = $1', [gone.runId]);
    expect(await count(gone.runId)).toEqual({ steps: 0, jobs: 0 });
    expect(await count(kept.runId)).toEqual({ steps: 1, jobs: 1 });
  });

  it('writes the first steps, jobs and deadlines in the statement that records the runs, and announces them', async () => {
    const tenantId = await h.tenant('one-statement');
    const saved = await h.deploy(
      {
        name: 'timed',
        settings: { timeout: '1h' },
        nodes: [
          { id: 'a', type: 'transform', params: { value: 1 } },
          { id: 'b', type: 'transform', params: { value: 2 } },
        ],
      },
      tenantId,
    );
    const start = () => h.engine.startRun({ tenantId, ...saved, trigger: { type: 'test' }, tenantConcurrencyQuota: 3 });
    // The first start makes the tenant's slot row (the general path); then a batch takes the remaining two slots.
    await start();
    const listener = new pg.Client({ connectionString: t.url });
    await listener.connect();
    const announced: string[] = [];
    listener.on('notification', (n) => {
      if (n.channel === 'aiq_runs' && n.payload) for (const [id] of JSON.parse(n.payload).r as [string][]) announced.push(id);
    });
    await listener.query('LISTEN aiq_runs');
    try {
      const started = await Promise.all(Array.from({ length: 10 }, start));
      const runs = await one<{ admitted: number; waiting: number; steps: number; stepJobs: number; deadlines: number; active: number }>(
        `SELECT count(*) FILTER (WHERE admitted)::int AS admitted, count(*) FILTER (WHERE NOT admitted)::int AS waiting,
                (SELECT count(*)::int FROM steps) AS steps,
                (SELECT count(*)::int FROM jobs WHERE kind = 'step') AS "stepJobs",
                (SELECT count(*)::int FROM jobs WHERE kind = 'deadline') AS deadlines,
                (SELECT active FROM concurrency_slots WHERE key = 'tenant') AS active
           FROM runs WHERE workflow_id = $1`,
        [saved.workflowId],
        tenantId,
      );
      // 3 admitted runs of two root steps each; every run has its deadline.
      expect(runs).toEqual({ admitted: 3, waiting: 8, steps: 6, stepJobs: 6, deadlines: 11, active: 3 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (const { runId } of started) expect(announced).toContain(runId);
    } finally {
      await listener.end();
    }
  });

  describe('runPureSteps (a sync webhook)', () => {
    it('ends a run of pure steps in its start: outputs recorded, no job left, its slot given back', async () => {
      const tenantId = await h.tenant('pure');
      const saved = await h.deploy(
        {
          name: 'pure',
          nodes: [
            { id: 'double', type: 'transform', params: { value: '{{ input.n * 2 }}' } },
            { id: 'plus', type: 'transform', params: { value: '{{ steps.double.output + 1 }}' } },
            { id: 'answer', type: 'flow.return', params: { value: { result: '{{ steps.plus.output }}' } } },
          ],
          edges: [
            { from: 'double', to: 'plus' },
            { from: 'plus', to: 'answer' },
          ],
        },
        tenantId,
      );
      const started = await Promise.all(
        [1, 2, 3].map((n) =>
          h.engine.startRun({ tenantId, ...saved, input: { n }, trigger: { type: 'test' }, tenantConcurrencyQuota: 5, runPureSteps: true }),
        ),
      );
      expect(started.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
      const runs = await Promise.all(started.map((s) => h.waitForRun(s.runId, { tenantId, timeoutMs: 1_000 })));
      expect(runs.map((r) => r.output)).toEqual([{ result: 3 }, { result: 5 }, { result: 7 }]);
      for (const run of runs) {
        expect(run.startedAt).not.toBeNull();
        // Made in one transaction, listed in the order they ran.
        expect(run.attempts.map((a) => [a.nodeId, a.status])).toEqual([
          ['double', 'succeeded'],
          ['plus', 'succeeded'],
          ['answer', 'succeeded'],
        ]);
      }
      expect(
        await one(
          "SELECT (SELECT count(*)::int FROM jobs) AS jobs, (SELECT active FROM concurrency_slots WHERE key = 'tenant') AS active",
          [],
          tenantId,
        ),
      ).toEqual({ jobs: 0, active: 0 });
    });

    it('runs the pure steps first and queues the first step that does I/O, not taken by anyone', async () => {
      const tenantId = await h.tenant('pure-then-io');
      const saved = await h.deploy(
        {
          name: 'pure-then-io',
          nodes: [
            { id: 'prepare', type: 'transform', params: { value: '{{ input.n }}' } },
            { id: 'pause', type: 'flow.wait', params: { duration: '10ms' } },
          ],
          edges: [{ from: 'prepare', to: 'pause' }],
        },
        tenantId,
      );
      const started = await h.engine.startRun({ tenantId, ...saved, input: { n: 4 }, trigger: { type: 'test' }, runPureSteps: true });
      // Under way: a step ran.
      expect(started.status).toBe('running');
      const steps = await t.db.withTenant(tenantId, async (tx) =>
        (await tx.query('SELECT node_id, status, output FROM steps WHERE run_id = $1 ORDER BY created_at', [started.runId])).rows,
      );
      expect(steps).toEqual([
        { node_id: 'prepare', status: 'succeeded', output: 4 },
        { node_id: 'pause', status: 'pending', output: null },
      ]);
      const jobs = await one<{ n: number; locked: number }>(
        "SELECT count(*)::int AS n, count(locked_by)::int AS locked FROM jobs WHERE run_id = $1 AND kind = 'step' AND node_id = 'pause'",
        [started.runId],
        tenantId,
      );
      expect(jobs).toEqual({ n: 1, locked: 0 });
    });

    it('fails a run whose pure step fails for good in its start', async () => {
      const saved = await h.deploy({ name: 'pure-fail', nodes: [{ id: 'boom', type: 'flow.fail', params: { message: 'no', code: 'NO' } }] });
      const started = await h.engine.startRun({ tenantId: h.tenantId, ...saved, trigger: { type: 'test' }, runPureSteps: true });
      expect(started.status).toBe('failed');
      const run = await h.waitForRun(started.runId, { timeoutMs: 1_000 });
      expect(run.error).toMatchObject({ code: 'NO' });
    });
  });
});
