import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/ids';
import { getRunWithSteps } from '../../src/store/queries/get-run-with-steps';
import { recordStarts } from '../../src/store/queries/record-starts';
import { insertTenant } from '../../src/store/queries/insert-tenant';
import { insertWorkflow } from '../../src/store/queries/insert-workflow';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe('the one-round-trip run read (aiq_read_run, getRunWithSteps)', () => {
  let t: TestDatabase;
  const a = newId();
  const b = newId();
  const runOfA = newId();
  beforeAll(async () => {
    t = await createTestDatabase();
    await t.db.withSystem('test setup', async (tx) => {
      await insertTenant(tx, { id: a, slug: 'a', name: 'A' });
      await insertTenant(tx, { id: b, slug: 'b', name: 'B' });
    });
    await t.db.withTenant(a, async (tx) => {
      const workflowId = newId();
      await insertWorkflow(tx, { tenantId: a, id: workflowId, definition: { name: 'w', nodes: [{ id: 'n', type: 'transform' }] } });
      await recordStarts(tx, { tenantId: a, runsPerDay: null, runs: [{ tenantId: a, id: runOfA, workflowId, version: 1, priority: 1, trigger: { type: 'test' }, input: { x: 1 }, counted: false }] });
      // Two attempts of n, then m: the read keeps the order they were created in.
      await tx.query(
        `INSERT INTO steps (tenant_id, run_id, scope, node_id, attempt, status, output, error, started_at, finished_at, created_at)
         VALUES ($1, $2, '', 'n', 1, 'failed', NULL, '{"message": "boom"}', now(), now(), now() - interval '2 s'),
                ($1, $2, '', 'n', 2, 'succeeded', '{"y": 2}', NULL, now(), now(), now() - interval '1 s'),
                ($1, $2, '', 'm', 1, 'pending', NULL, NULL, NULL, NULL, now())`,
        [a, runOfA],
      );
    });
  });
  afterAll(() => t?.drop());

  it('reads the run with its steps as its tenant, and nothing as another', async () => {
    const found = await getRunWithSteps(t.db, { tenantId: a, runId: runOfA });
    expect(found?.run).toMatchObject({ id: runOfA, status: 'queued', version: 1, input: { x: 1 }, trigger: { type: 'test' } });
    expect(found?.run.createdAt).toBeInstanceOf(Date);
    expect(found?.steps).toEqual([
      { scope: '', nodeId: 'n', attempt: 1, status: 'failed', port: null, output: null, error: { message: 'boom' }, startedAt: expect.any(Date), finishedAt: expect.any(Date) },
      { scope: '', nodeId: 'n', attempt: 2, status: 'succeeded', port: null, output: { y: 2 }, error: null, startedAt: expect.any(Date), finishedAt: expect.any(Date) },
      { scope: '', nodeId: 'm', attempt: 1, status: 'pending', port: null, output: null, error: null, startedAt: null, finishedAt: null },
    ]);
    expect(await getRunWithSteps(t.db, { tenantId: b, runId: runOfA })).toBeUndefined();
    expect(await getRunWithSteps(t.db, { tenantId: a, runId: newId() })).toBeUndefined();
  });

  it('cannot write, cannot switch a transaction to another tenant, and leaves the pooled connection with no tenant', async () => {
    await expect(
      t.db.withTenant(b, (tx) => tx.query('SELECT * FROM aiq_read_run($1, $2)', [a, runOfA])),
    ).rejects.toThrow(/another tenant/);
    // The same tenant's transaction may call it.
    const rows = await t.db.withTenant(a, async (tx) => (await tx.query('SELECT kind FROM aiq_read_run($1, $2)', [a, runOfA])).rows);
    expect(rows).toHaveLength(4);
    // STABLE: a PL/pgSQL function of that kind cannot write, whatever it is given.
    const { rows: fn } = await t.db.pool.query<{ volatile: string }>(
      "SELECT provolatile AS volatile FROM pg_proc WHERE proname = 'aiq_read_run'",
    );
    expect(fn).toEqual([{ volatile: 's' }]);
    await expect(getRunWithSteps(t.db, { tenantId: "x'; DROP TABLE runs; --", runId: runOfA })).rejects.toThrow(/uuid/);
    for (let i = 0; i < 12; i++) {
      await getRunWithSteps(t.db, { tenantId: a, runId: runOfA });
      const { rows: after } = await t.db.pool.query<{ n: number; tenant: string | null }>(
        "SELECT count(*)::int AS n, nullif(current_setting('app.tenant_id', true), '') AS tenant FROM runs",
      );
      expect(after[0]).toEqual({ n: 0, tenant: null });
    }
  });
});
