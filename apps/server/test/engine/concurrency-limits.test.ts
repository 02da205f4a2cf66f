import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineHarness, startEngineHarness } from '../support/engine-harness';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

interface Span {
  started: number;
  finished: number;
}

/** The most runs that were running at the same instant. */
function peakOverlap(spans: readonly Span[]): number {
  const events = spans.flatMap((s) => [
    { at: s.started, delta: 1 },
    { at: s.finished, delta: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let now = 0;
  let peak = 0;
  for (const e of events) {
    now += e.delta;
    peak = Math.max(peak, now);
  }
  return peak;
}

describe('concurrency limits under load', () => {
  let t: TestDatabase;
  let h: EngineHarness;
  beforeAll(async () => {
    t = await createTestDatabase();
    h = await startEngineHarness(t, { workers: 2, concurrency: 16 });
  });
  afterAll(async () => {
    await h.stop();
    await t.drop();
  });

  const spansOf = (tenantId: string, workflowId?: string): Promise<Span[]> =>
    t.db.withTenant(tenantId, async (tx) =>
      (
        await tx.query<{ started_at: Date; finished_at: Date }>(
          `SELECT min(s.started_at) AS started_at, max(s.finished_at) AS finished_at
             FROM runs r JOIN steps s ON s.tenant_id = r.tenant_id AND s.run_id = r.id
            WHERE ($1::uuid IS NULL OR r.workflow_id = $1) GROUP BY r.id`,
          [workflowId ?? null],
        )
      ).rows.map((r) => ({ started: r.started_at.getTime(), finished: r.finished_at.getTime() })),
    );

  it("holds a workflow's settings.concurrency: never more runs of it at once, and every run finishes", async () => {
    const saved = await h.deploy({
      name: 'limited',
      settings: { concurrency: 3 },
      nodes: [
        { id: 'work', type: 'flow.wait', params: { duration: '150ms' } },
        { id: 'done', type: 'transform', params: { value: '{{ input.n }}' } },
      ],
      edges: [{ from: 'work', to: 'done' }],
    });
    const ids = await Promise.all(
      Array.from({ length: 24 }, (_, n) =>
        h.engine.startRun({ tenantId: h.tenantId, ...saved, input: { n }, trigger: { type: 'test' } }),
      ),
    );
    const waiting = await t.db.withTenant(h.tenantId, async (tx) =>
      Number(
        (
          await tx.query('SELECT count(*) AS n FROM runs WHERE NOT admitted AND workflow_id = $1', [
            saved.workflowId,
          ])
        ).rows[0].n,
      ),
    );
    expect(waiting).toBe(21);
    const runs = await Promise.all(ids.map(({ runId }) => h.waitForRun(runId, { timeoutMs: 30_000 })));
    expect(runs.map((r) => r.status)).toEqual(Array(24).fill('succeeded'));
    expect(runs.map((r) => r.output)).toEqual(Array.from({ length: 24 }, (_, n) => n));
    expect(peakOverlap(await spansOf(h.tenantId, saved.workflowId))).toBeLessThanOrEqual(3);
    const slots = await t.db.withTenant(
      h.tenantId,
      async (tx) => (await tx.query('SELECT key, active FROM concurrency_slots')).rows,
    );
    expect(slots).toEqual([{ key: `workflow:${saved.workflowId}`, active: 0 }]);
  }, 60_000);

  it("holds a tenant's concurrentRuns quota across its workflows, and other tenants are not held back", async () => {
    const limited = await h.tenant('quota-tenant');
    const free = await h.tenant('free-tenant');
    await t.db.withSystem('test: set a quota', (tx) =>
      tx.query(`UPDATE tenants SET quotas = '{"concurrentRuns": 2}' WHERE id = $1`, [limited]),
    );
    const definition = (name: string) => ({
      name,
      nodes: [{ id: 'work', type: 'flow.wait', params: { duration: '100ms' } }],
    });
    const a = await h.deploy(definition('first'), limited);
    const b = await h.deploy(definition('second'), limited);
    const c = await h.deploy(definition('other tenant'), free);
    const limitedRuns = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        h.engine.startRun({ tenantId: limited, ...(i % 2 ? a : b), trigger: { type: 'test' } }),
      ),
    );
    const started = Date.now();
    const freeRuns = await Promise.all(
      Array.from({ length: 6 }, () => h.engine.startRun({ tenantId: free, ...c, trigger: { type: 'test' } })),
    );
    for (const { runId } of freeRuns)
      expect((await h.waitForRun(runId, { tenantId: free })).status).toBe('succeeded');
    expect(Date.now() - started).toBeLessThan(2_000);
    for (const { runId } of limitedRuns)
      expect((await h.waitForRun(runId, { tenantId: limited, timeoutMs: 30_000 })).status).toBe('succeeded');
    expect(peakOverlap(await spansOf(limited))).toBeLessThanOrEqual(2);
    expect(peakOverlap(await spansOf(free))).toBeGreaterThan(2);
  }, 60_000);

  it('gives the slot back when a limited run is cancelled or fails', async () => {
    const saved = await h.deploy({
      name: 'one at a time',
      settings: { concurrency: 1 },
      nodes: [{ id: 'work', type: 'flow.wait', params: { duration: '1h' } }],
    });
    const first = await h.engine.startRun({ tenantId: h.tenantId, ...saved, trigger: { type: 'test' } });
    const second = await h.engine.startRun({ tenantId: h.tenantId, ...saved, trigger: { type: 'test' } });
    expect(await h.engine.cancelRun({ tenantId: h.tenantId, ...first })).toBe(true);
    // The second is admitted once the first gives its slot back; it then waits in flow.wait.
    for (let i = 0; i < 200; i++) {
      const status = await t.db.withTenant(
        h.tenantId,
        async (tx) =>
          (await tx.query('SELECT status FROM runs WHERE id = $1', [second.runId])).rows[0].status,
      );
      if (status === 'waiting') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(await h.engine.cancelRun({ tenantId: h.tenantId, ...second })).toBe(true);
    const slots = await t.db.withTenant(
      h.tenantId,
      async (tx) =>
        (
          await tx.query('SELECT active FROM concurrency_slots WHERE key = $1', [
            `workflow:${saved.workflowId}`,
          ])
        ).rows,
    );
    expect(slots).toEqual([{ active: 0 }]);
  }, 30_000);
});
