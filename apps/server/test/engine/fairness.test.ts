import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineHarness, startEngineHarness } from '../support/engine-harness';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const BACKLOG = 5_000;

async function startMany(
  h: EngineHarness,
  args: { tenantId: string; workflowId: string; version: number },
  n: number,
): Promise<void> {
  const batch = 25;
  for (let i = 0; i < n; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, () =>
        h.engine.startRun({ ...args, trigger: { type: 'test' } }),
      ),
    );
  }
}

/** A fresh database and an engine with no worker yet (each test starts its own), for one describe block. */
function engineWithoutWorkers(): {
  harness: () => EngineHarness;
  database: () => TestDatabase;
  countSucceeded: (tenantId: string) => Promise<number>;
} {
  let t: TestDatabase;
  let h: EngineHarness;
  beforeAll(async () => {
    t = await createTestDatabase();
    h = await startEngineHarness(t, { workers: 0 });
  });
  afterAll(async () => {
    await h.stop();
    await t.drop();
  });
  return {
    harness: () => h,
    database: () => t,
    countSucceeded: (tenantId) =>
      t.db.withTenant(tenantId, async (tx) =>
        Number((await tx.query("SELECT count(*) AS n FROM runs WHERE status = 'succeeded'")).rows[0].n),
      ),
  };
}

describe('fair share between tenants', () => {
  const { harness, countSucceeded } = engineWithoutWorkers();

  it("one tenant's backlog of 5,000 runs does not delay another tenant's single run", async () => {
    const h = harness();
    const a = await h.tenant('tenant-a');
    const b = await h.tenant('tenant-b');
    const definition = {
      name: 'tiny',
      nodes: [{ id: 'n', type: 'transform', params: { value: '{{ input }}' } }],
    };
    const wa = await h.deploy(definition, a);
    const wb = await h.deploy(definition, b);
    await startMany(h, { tenantId: a, ...wa }, BACKLOG);
    await h.startWorker({ concurrency: 16 });
    for (let i = 0; i < 200 && (await countSucceeded(a)) < 200; i++)
      await new Promise((r) => setTimeout(r, 10));

    const { runId } = await h.engine.startRun({ tenantId: b, ...wb, trigger: { type: 'test' } });
    const run = await h.waitForRun(runId, { tenantId: b });
    const doneA = await countSucceeded(a);
    const waitMs = (run.attempts[0]?.startedAt?.getTime() ?? 0) - run.createdAt.getTime();
    expect(run.status).toBe('succeeded');
    expect(waitMs).toBeLessThan(100);
    expect(BACKLOG - doneA).toBeGreaterThan(1_000);

    // A keeps draining afterwards.
    await new Promise((r) => setTimeout(r, 300));
    expect(await countSucceeded(a)).toBeGreaterThan(doneA);
  }, 120_000);
});

describe('priorities', () => {
  const { harness, database, countSucceeded } = engineWithoutWorkers();

  it('orders work by priority within a tenant', async () => {
    const h = harness();
    const c = await h.tenant('tenant-c');
    const low = await h.deploy(
      {
        name: 'low',
        settings: { priority: 'low' },
        nodes: [{ id: 'n', type: 'transform', params: { value: 1 } }],
      },
      c,
    );
    const high = await h.deploy(
      {
        name: 'high',
        settings: { priority: 'high' },
        nodes: [{ id: 'n', type: 'transform', params: { value: 1 } }],
      },
      c,
    );
    await startMany(h, { tenantId: c, ...low }, 100);
    await startMany(h, { tenantId: c, ...high }, 10);
    await h.startWorker({ concurrency: 1 });
    const deadline = Date.now() + 30_000;
    while ((await countSucceeded(c)) < 110 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const { rows } = await database().db.withTenant(c, (tx) =>
      tx.query<{ workflow_id: string }>(
        `SELECT r.workflow_id FROM steps s JOIN runs r ON r.tenant_id = s.tenant_id AND r.id = s.run_id ORDER BY s.started_at LIMIT 10`,
      ),
    );
    expect(rows.map((r) => r.workflow_id)).toEqual(Array(10).fill(high.workflowId));
  }, 60_000);
});
