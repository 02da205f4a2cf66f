import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/ids';
import { uuidLiteral } from '../../src/store/database';
import { getRunWithSteps } from '../../src/store/queries/get-run-with-steps';
import { insertRun } from '../../src/store/queries/insert-run';
import { insertTenant } from '../../src/store/queries/insert-tenant';
import { insertWorkflow } from '../../src/store/queries/insert-workflow';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe('one-round-trip reads as a tenant (readAsTenant, getRunWithSteps)', () => {
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
      await insertRun(tx, { tenantId: a, id: runOfA, workflowId, version: 1, priority: 1, trigger: { type: 'test' }, input: { x: 1 } });
      await tx.query(
        `INSERT INTO steps (tenant_id, run_id, scope, node_id, attempt, status, output, started_at, finished_at)
         VALUES ($1, $2, '', 'n', 1, 'succeeded', '{"y": 2}', now(), now())`,
        [a, runOfA],
      );
    });
  });
  afterAll(() => t?.drop());

  it('reads the run with its steps as its tenant, and nothing as another', async () => {
    const found = await getRunWithSteps(t.db, { tenantId: a, runId: runOfA });
    expect(found?.run).toMatchObject({ id: runOfA, status: 'queued', input: { x: 1 } });
    expect(found?.run.createdAt).toBeInstanceOf(Date);
    expect(found?.steps).toEqual([
      expect.objectContaining({ scope: '', nodeId: 'n', attempt: 1, status: 'succeeded', output: { y: 2 }, startedAt: expect.any(Date) }),
    ]);
    expect(await getRunWithSteps(t.db, { tenantId: b, runId: runOfA })).toBeUndefined();
  });

  it('cannot write, takes no value that is not a UUID, and leaves the pooled connection with no tenant', async () => {
    await expect(t.db.readAsTenant(a, [`UPDATE runs SET status = 'failed' WHERE id = ${uuidLiteral(runOfA)}`])).rejects.toThrow(
      /read-only/,
    );
    expect(() => uuidLiteral("x' OR 1=1 --")).toThrow(/not a UUID/);
    await expect(t.db.readAsTenant("x'; DROP TABLE runs; --", ['SELECT 1'])).rejects.toThrow(/not a UUID/);
    for (let i = 0; i < 12; i++) {
      const { rows } = await t.db.pool.query<{ n: number; tenant: string | null }>(
        "SELECT count(*)::int AS n, nullif(current_setting('app.tenant_id', true), '') AS tenant FROM runs",
      );
      expect(rows[0]).toEqual({ n: 0, tenant: null });
    }
  });
});
