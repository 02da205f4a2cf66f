import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineHarness, startEngineHarness } from '../support/engine-harness';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const WORKER = fileURLToPath(new URL('../support/worker-process.ts', import.meta.url));
const RUNS = 40;

function startChildWorker(url: string, id: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    env: {
      ...process.env,
      AIQ_TEST_DB_URL: url,
      AIQ_TEST_LEASE_MS: '1500',
      AIQ_TEST_CONCURRENCY: '8',
      AIQ_TEST_WORKER_ID: id,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`worker ${id} exited early with ${code}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve(child);
    });
  });
}

describe('a worker killed mid-run', () => {
  let t: TestDatabase;
  let h: EngineHarness;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    t = await createTestDatabase();
    h = await startEngineHarness(t, { workers: 0 });
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await h.stop();
    await t.drop();
  });

  it('loses no run and records exactly one succeeded attempt per step', async () => {
    const busy = (ms: number): string =>
      `const end = Date.now() + ${ms}; while (Date.now() < end) {} return (input.n ?? 0) + 1;`;
    const saved = await h.deploy({
      name: 'slow-steps',
      nodes: [
        { id: 'one', type: 'code.js', params: { code: busy(40) } },
        { id: 'two', type: 'code.js', params: { code: busy(40) } },
        { id: 'three', type: 'code.js', params: { code: busy(40) } },
      ],
      edges: [
        { from: 'one', to: 'two' },
        { from: 'two', to: 'three' },
      ],
    });
    const runIds: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      runIds.push(
        (
          await h.engine.startRun({
            tenantId: h.tenantId,
            ...saved,
            input: { n: i },
            trigger: { type: 'test' },
          })
        ).runId,
      );
    }
    const first = await startChildWorker(t.url, 'doomed');
    children.push(first);
    // Kill it while it is in the middle of the work: some steps done, many not.
    const count = (): Promise<number> =>
      t.db.withTenant(h.tenantId, async (tx) =>
        Number((await tx.query("SELECT count(*) AS n FROM steps WHERE status = 'succeeded'")).rows[0].n),
      );
    for (let i = 0; i < 500 && (await count()) < RUNS / 2; i++) await new Promise((r) => setTimeout(r, 20));
    first.kill('SIGKILL');
    const doneAtKill = await count();
    expect(doneAtKill).toBeLessThan(RUNS * 3);
    const running = await t.db.withTenant(h.tenantId, async (tx) =>
      Number((await tx.query("SELECT count(*) AS n FROM steps WHERE status = 'running'")).rows[0].n),
    );
    expect(running).toBeGreaterThan(0);

    children.push(await startChildWorker(t.url, 'survivor'));
    for (const runId of runIds) {
      const run = await h.waitForRun(runId, { timeoutMs: 60_000 });
      expect(run.status).toBe('succeeded');
    }
    const { rows } = await t.db.withTenant(h.tenantId, (tx) =>
      tx.query<{ run_id: string; node_id: string; succeeded: string }>(
        `SELECT run_id, node_id, count(*) FILTER (WHERE status = 'succeeded') AS succeeded
           FROM steps GROUP BY run_id, node_id`,
      ),
    );
    expect(rows).toHaveLength(RUNS * 3);
    for (const row of rows) expect(Number(row.succeeded), `${row.run_id}/${row.node_id}`).toBe(1);
    const outputs = await t.db.withTenant(
      h.tenantId,
      async (tx) => (await tx.query('SELECT output FROM runs ORDER BY created_at')).rows,
    );
    expect(outputs.map((r: { output: unknown }) => r.output)).toEqual(runIds.map((_, i) => i + 1));
  }, 120_000);
});
