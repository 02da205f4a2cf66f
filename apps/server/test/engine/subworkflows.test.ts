import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRun } from '../../src/store/queries/get-run';
import { type EngineHarness, startEngineHarness } from '../support/engine-harness';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/** flow.subworkflow: a run starts another workflow's run, waits for it without a worker, and takes its end. */
describe('sub-workflows', () => {
  let t: TestDatabase;
  let h: EngineHarness;
  beforeAll(async () => {
    t = await createTestDatabase();
    h = await startEngineHarness(t, { workers: 1, concurrency: 4 });
  });
  afterAll(async () => {
    await h?.stop();
    await t?.drop();
  });

  async function activate(workflowId: string): Promise<void> {
    await t.db.withTenant(h.tenantId, (tx) => tx.query('UPDATE workflows SET active = true WHERE tenant_id = $1 AND id = $2', [h.tenantId, workflowId]));
  }

  async function childrenOf(runId: string): Promise<{ id: string; status: string; depth: number }[]> {
    return t.db.withTenant(h.tenantId, async (tx) => {
      const { rows } = await tx.query<{ id: string; status: string; depth: number }>(
        'SELECT id, status, depth FROM runs WHERE tenant_id = $1 AND parent_run_id = $2 ORDER BY id',
        [h.tenantId, runId],
      );
      return rows;
    });
  }

  it('returns the child run output (latest active version, or a pinned one)', async () => {
    const child = await h.deploy({ name: 'double', nodes: [{ id: 'x2', type: 'transform', params: { value: '{{ input.n * 2 }}' } }] });
    await h.deploy({ name: 'double', nodes: [{ id: 'x3', type: 'transform', params: { value: '{{ input.n * 3 }}' } }] });
    await activate(child.workflowId);
    const parent = await h.run({
      name: 'uses double',
      nodes: [
        { id: 'latest', type: 'flow.subworkflow', params: { workflow: 'double', input: { n: '{{ input.n }}' } } },
        { id: 'pinned', type: 'flow.subworkflow', params: { workflow: child.workflowId, version: 1, input: { n: 5 } } },
        { id: 'sum', type: 'transform', params: { value: '{{ steps.latest.output + steps.pinned.output }}' } },
      ],
      edges: [
        { from: 'latest', to: 'sum' },
        { from: 'pinned', to: 'sum' },
      ],
    }, { n: 7 });
    expect(parent.status).toBe('succeeded');
    expect(parent.output).toBe(21 + 10);
    const children = await childrenOf(parent.id);
    expect(children).toHaveLength(2);
    expect(children.every((c) => c.status === 'succeeded' && c.depth === 1)).toBe(true);
    const run = await t.db.withTenant(h.tenantId, (tx) => getRun(tx, { tenantId: h.tenantId, runId: children[0]?.id as string }));
    expect(run?.trigger).toMatchObject({ type: 'subworkflow', parentRunId: parent.id });
  });

  it("fails with the child's error (or takes the error port), and refuses what is not there or not active", async () => {
    const failing = await h.deploy({ name: 'refuses', nodes: [{ id: 'no', type: 'flow.fail', params: { message: 'out of stock', code: 'STOCK' } }] });
    await activate(failing.workflowId);
    await h.deploy({ name: 'sleeping', nodes: [{ id: 'n', type: 'transform', params: { value: 1 } }] });
    const handled = await h.run({
      name: 'handles',
      nodes: [
        { id: 'call', type: 'flow.subworkflow', params: { workflow: 'refuses' } },
        { id: 'why', type: 'transform', params: { value: '{{ steps.call.error.details.error.code }}' } },
      ],
      edges: [{ from: 'call', to: 'why', port: 'error' }],
    });
    expect(handled.status).toBe('succeeded');
    expect(handled.output).toBe('STOCK');
    const unhandled = await h.run({ name: 'does not handle', nodes: [{ id: 'call', type: 'flow.subworkflow', params: { workflow: 'refuses' } }] });
    expect(unhandled.status).toBe('failed');
    expect(unhandled.error).toMatchObject({ code: 'SUBWORKFLOW_FAILED' });
    const missing = await h.run({ name: 'calls nothing', nodes: [{ id: 'call', type: 'flow.subworkflow', params: { workflow: 'no such flow' } }] });
    expect(missing.error).toMatchObject({ code: 'SUBWORKFLOW_NOT_FOUND' });
    const inactive = await h.run({ name: 'calls inactive', nodes: [{ id: 'call', type: 'flow.subworkflow', params: { workflow: 'sleeping' } }] });
    expect(inactive.error).toMatchObject({ code: 'SUBWORKFLOW_INACTIVE' });
  });

  it('bounds the depth: a workflow that calls itself stops at 8 levels', async () => {
    const self = await h.deploy({ name: 'recursive', nodes: [{ id: 'again', type: 'flow.subworkflow', params: { workflow: 'recursive' } }] });
    await activate(self.workflowId);
    const { runId } = await h.engine.startRun({ tenantId: h.tenantId, ...self, trigger: { type: 'test' } });
    const top = await h.waitForRun(runId, { timeoutMs: 30_000 });
    expect(top.status).toBe('failed');
    const { rows } = await t.db.withTenant(h.tenantId, (tx) =>
      tx.query<{ depth: number; code: string | null }>(
        "SELECT depth, error->>'code' AS code FROM runs WHERE tenant_id = $1 AND workflow_id = $2 ORDER BY depth",
        [h.tenantId, self.workflowId],
      ),
    );
    expect(rows.map((r) => r.depth)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    // The deepest run may not go deeper; each run above fails with its child.
    expect(rows.map((r) => r.code)).toEqual([...Array(8).fill('SUBWORKFLOW_FAILED'), 'SUBWORKFLOW_TOO_DEEP']);
  });

  it('waits without holding a worker, and cancelling the parent cancels its children', async () => {
    const slow = await h.deploy({ name: 'slow child', nodes: [{ id: 'nap', type: 'flow.wait', params: { duration: '1h' } }] });
    await activate(slow.workflowId);
    const parentFlow = await h.deploy({
      name: 'fan out',
      nodes: [
        {
          id: 'each',
          type: 'flow.forEach',
          params: { items: [1, 2, 3, 4, 5, 6], concurrency: 6, do: { nodes: [{ id: 'call', type: 'flow.subworkflow', params: { workflow: 'slow child' } }], edges: [] } },
        },
      ],
    });
    const { runId } = await h.engine.startRun({ tenantId: h.tenantId, ...parentFlow, trigger: { type: 'test' } });
    // Six children wait at once with a worker of four slots: none of them holds one.
    for (let until = Date.now() + 15_000; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
      const children = await childrenOf(runId);
      if (children.length === 6 && children.every((c) => c.status === 'waiting')) break;
    }
    expect((await childrenOf(runId)).map((c) => c.status)).toEqual(Array(6).fill('waiting'));
    expect(h.workers[0]?.running).toBe(0);
    expect(await h.engine.cancelRun({ tenantId: h.tenantId, runId })).toBe(true);
    expect((await childrenOf(runId)).map((c) => c.status)).toEqual(Array(6).fill('cancelled'));
    const parent = await h.waitForRun(runId);
    expect(parent.status).toBe('cancelled');
  });

  it("counts child runs in the tenant's day: beyond runsPerDay the step fails with RUNS_PER_DAY_EXCEEDED", async () => {
    const tenantId = await h.tenant('daily');
    await t.db.withSystem('test: a tenant with a runsPerDay of 2', (tx) =>
      tx.query(`UPDATE tenants SET quotas = quotas || '{"runsPerDay": 2}'::jsonb WHERE id = $1`, [tenantId]),
    );
    const child = await h.deploy({ name: 'leaf', nodes: [{ id: 'one', type: 'transform', params: { value: 1 } }] }, tenantId);
    await t.db.withTenant(tenantId, (tx) => tx.query('UPDATE workflows SET active = true WHERE id = $1', [child.workflowId]));
    const parent = await h.deploy(
      {
        name: 'two children',
        nodes: [
          { id: 'first', type: 'flow.subworkflow', params: { workflow: 'leaf' } },
          { id: 'second', type: 'flow.subworkflow', params: { workflow: 'leaf' } },
        ],
        edges: [{ from: 'first', to: 'second' }],
      },
      tenantId,
    );
    const { runId } = await h.engine.startRun({ tenantId, ...parent, trigger: { type: 'test' }, runsPerDay: { limit: 2 } });
    const run = await h.waitForRun(runId, { tenantId });
    expect(run.status).toBe('failed');
    expect(run.attempts.map((a) => [a.nodeId, a.status, a.error?.code ?? null])).toEqual([
      ['first', 'succeeded', null],
      ['second', 'failed', 'RUNS_PER_DAY_EXCEEDED'],
    ]);
    const counted = await t.db.withTenant(tenantId, async (tx) => (await tx.query('SELECT sum(runs)::int AS n FROM usage_daily')).rows[0]);
    expect(counted).toEqual({ n: 2 });
  });
});
