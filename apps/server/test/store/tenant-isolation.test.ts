import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/ids';
import { applyRunChanges } from '../../src/store/queries/apply-run-changes';
import { recordStarts } from '../../src/store/queries/record-starts';
import { insertTenant } from '../../src/store/queries/insert-tenant';
import { insertWorkflow } from '../../src/store/queries/insert-workflow';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const TENANT_TABLES = ['tenants', 'workflows', 'workflow_versions', 'runs', 'steps', 'jobs', 'queue_tenants'];

describe('row-level security between tenants', () => {
  let t: TestDatabase;
  const a = newId();
  const b = newId();

  beforeAll(async () => {
    t = await createTestDatabase();
    await t.db.withSystem('test setup', async (tx) => {
      await insertTenant(tx, { id: a, slug: 'tenant-a', name: 'A' });
      await insertTenant(tx, { id: b, slug: 'tenant-b', name: 'B' });
    });
    for (const tenantId of [a, b]) {
      await t.db.withTenant(tenantId, async (tx) => {
        const workflowId = newId();
        await insertWorkflow(tx, {
          tenantId,
          id: workflowId,
          definition: { name: 'w', nodes: [{ id: 'n', type: 'transform' }] },
        });
        const runId = newId();
        await recordStarts(tx, { tenantId, runsPerDay: null, runs: [{ tenantId, id: runId, workflowId, version: 1, priority: 1, trigger: { type: 'test' }, input: {}, counted: false }] });
        await applyRunChanges(tx, {
          tenantId,
          changes: {
            records: [],
            cancels: [],
            ends: [],
            statuses: [],
            steps: [{ runId, scope: '', nodeId: 'n', attempt: 1, status: 'pending' }],
            jobs: [{ runId, kind: 'step', scope: '', nodeId: 'n', attempt: 1, priority: 1 }],
          },
        });
      });
    }
  });
  afterAll(() => t.drop());

  it.each(TENANT_TABLES)(
    "a connection set to tenant A sees none of B's rows in %s, even with SELECT *",
    async (table) => {
      const rows = await t.db.withTenant(a, async (tx) => (await tx.query(`SELECT * FROM ${table}`)).rows);
      expect(rows.length).toBeGreaterThan(0);
      const owners = rows.map((r: Record<string, unknown>) => (table === 'tenants' ? r.id : r.tenant_id));
      expect(new Set(owners)).toEqual(new Set([a]));
    },
  );

  it('a connection with no tenant set sees no tenant rows at all', async () => {
    const client = await t.db.pool.connect();
    try {
      for (const table of TENANT_TABLES) {
        const { rows } = await client.query(`SELECT * FROM ${table}`);
        expect(rows, table).toEqual([]);
      }
    } finally {
      client.release();
    }
  });

  it('tenant A cannot write a row that belongs to B', async () => {
    await expect(
      t.db.withTenant(a, (tx) =>
        insertWorkflow(tx, {
          tenantId: b,
          id: newId(),
          definition: { name: 'smuggled', nodes: [{ id: 'n', type: 'transform' }] },
        }),
      ),
    ).rejects.toThrow(/row-level security/);
  });

  it("tenant A cannot update or delete B's rows", async () => {
    const changed = await t.db.withTenant(a, async (tx) => {
      const updated = await tx.query(`UPDATE runs SET status = 'cancelled' WHERE tenant_id = $1`, [b]);
      const deleted = await tx.query('DELETE FROM jobs WHERE tenant_id = $1', [b]);
      return (updated.rowCount ?? 0) + (deleted.rowCount ?? 0);
    });
    expect(changed).toBe(0);
    const bRuns = await t.db.withTenant(b, async (tx) => (await tx.query('SELECT status FROM runs')).rows);
    expect(bRuns).toEqual([{ status: 'queued' }]);
  });

  it('the server role cannot bypass row-level security', async () => {
    const { rows } = await t.db.withTenant(a, (tx) =>
      tx.query<{ rolbypassrls: boolean; rolsuper: boolean }>(
        'SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = current_user',
      ),
    );
    expect(rows).toEqual([{ rolbypassrls: false, rolsuper: false }]);
  });

  it('every table with a tenant_id column has row-level security forced', async () => {
    const { rows } = await t.db.withSystem('catalog check', (tx) =>
      tx.query<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }>(
        `SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
         WHERE c.relkind IN ('r', 'p') AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id')`,
      ),
    );
    expect(rows.length).toBeGreaterThanOrEqual(6);
    for (const r of rows)
      expect(r, r.relname).toMatchObject({ relrowsecurity: true, relforcerowsecurity: true });
  });
});
