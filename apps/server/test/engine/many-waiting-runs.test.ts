import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineHarness, startEngineHarness } from '../support/engine-harness';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const WAITING = Number(process.env.AIQ_TEST_WAITING ?? 10_000);
/** Runs whose waits end during the test, one every 100 ms, while the others go on waiting. */
const DUE_SOON = 100;
const YEAR_MS = 365 * 24 * 3_600_000;
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
setFlagsFromString('--expose-gc');
/** A full garbage collection, so that memory figures count what is kept, not what is left to collect. */
const gc = runInNewContext('gc') as () => void;

/**
 * 10,000 runs parked in flow.wait (until times up to a year away) hold no worker slot and no timer of
 * their own: each is rows (a waiting step and a resume job). Among them, runs whose time comes during
 * the test resume within a second of it. Prints the heap and RSS before and while they wait, and how
 * late the resumes were.
 */
describe('10,000 waiting runs', () => {
  let t: TestDatabase;
  let h: EngineHarness;
  beforeAll(async () => {
    t = await createTestDatabase();
    h = await startEngineHarness(t, { workers: 0 });
  });
  afterAll(async () => {
    await h?.stop();
    await t?.drop();
  });

  it('cost no worker slot or timer while they wait, and resume within a second of their time', { timeout: 300_000 }, async () => {
    const { workflowId, version } = await h.deploy({
      name: 'nap',
      nodes: [
        { id: 'nap', type: 'flow.wait', params: { until: '{{ input.at }}' } },
        { id: 'done', type: 'transform', params: { value: '{{ input.n }}' } },
      ],
      edges: [{ from: 'nap', to: 'done' }],
    });
    const worker = await h.startWorker({ concurrency: 16 });
    const count = async (sql: string): Promise<number> =>
      Number((await t.db.withTenant(h.tenantId, (tx) => tx.query<{ n: string }>(sql, [h.tenantId]))).rows[0]?.n ?? 0);
    const waitingRuns = () => count("SELECT count(*) AS n FROM runs WHERE tenant_id = $1 AND status = 'waiting'");
    const succeededRuns = () => count("SELECT count(*) AS n FROM runs WHERE tenant_id = $1 AND status = 'succeeded'");
    /** Starts runs `from`..`to`-1 through the engine's one start path, 32 at a time, waiting until `at(n)`. */
    const startRuns = async (from: number, to: number, at: (n: number) => Date) => {
      let next = from;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          for (let n = next++; n < to; n = next++) {
            await h.engine.startRun({ tenantId: h.tenantId, workflowId, version, input: { n, at: at(n).toISOString() }, trigger: { type: 'test' } });
          }
        }),
      );
    };
    const until = async (done: () => Promise<boolean>, timeoutMs: number) => {
      for (const end = Date.now() + timeoutMs; !(await done()) && Date.now() < end; ) await new Promise((r) => setTimeout(r, 250));
    };
    gc();
    const before = process.memoryUsage();

    // Most wait until a time in the coming year.
    const started = Date.now();
    const longWaits = WAITING - DUE_SOON;
    await startRuns(0, longWaits, (n) => new Date(started + 3_600_000 + Math.floor((n * YEAR_MS) / longWaits)));
    const startSeconds = (Date.now() - started) / 1000;
    await until(async () => (await waitingRuns()) >= longWaits, 180_000);
    expect(await waitingRuns()).toBe(longWaits);

    // The rest wait until a time a few seconds from now, 100 ms apart.
    const firstDue = Date.now() + 8_000;
    await startRuns(longWaits, WAITING, (n) => new Date(firstDue + (n - longWaits) * 100));
    await until(async () => (await waitingRuns()) >= WAITING, firstDue - Date.now() - 500);
    const allWaitingAfter = (Date.now() - started) / 1000;
    expect(await waitingRuns()).toBe(WAITING);
    expect(Date.now()).toBeLessThan(firstDue);

    // While they wait: none holds a worker slot, the resume jobs are rows, and other work runs at once.
    expect(worker.running).toBe(0);
    expect(await count("SELECT count(*) AS n FROM jobs WHERE tenant_id = $1 AND kind = 'resume'")).toBe(WAITING);
    const other = await h.run({ name: 'quick', nodes: [{ id: 'q', type: 'transform', params: { value: 1 } }] });
    expect(other.status).toBe('succeeded');
    gc();
    const waiting = process.memoryUsage();

    // Their times come: each resumes (its nap step succeeds) within a second of its time.
    await until(async () => (await succeededRuns()) >= DUE_SOON + 1, firstDue + DUE_SOON * 100 + 30_000 - Date.now());
    const { rows } = await t.db.withTenant(h.tenantId, (tx) =>
      tx.query<{ late_ms: number }>(
        `SELECT extract(epoch FROM s.finished_at - (r.input->>'at')::timestamptz) * 1000 AS late_ms
           FROM steps s JOIN runs r ON r.tenant_id = s.tenant_id AND r.id = s.run_id
          WHERE s.tenant_id = $1 AND s.node_id = 'nap' AND s.status = 'succeeded'
          ORDER BY 1`,
        [h.tenantId],
      ),
    );
    const late = rows.map((r) => Number(r.late_ms));
    const at = (q: number) => late[Math.min(late.length - 1, Math.floor(q * late.length))] ?? Number.NaN;
    console.info(
      `${WAITING} waiting runs: ${longWaits} started in ${startSeconds.toFixed(1)} s, all ${WAITING} waiting after ${allWaitingAfter.toFixed(1)} s; ` +
        `heap in use ${mb(before.heapUsed)} MiB before, ${mb(waiting.heapUsed)} MiB while they wait; ` +
        `RSS ${mb(before.rss)} MiB before, ${mb(waiting.rss)} MiB while they wait; worker slots held while waiting: 0 of 16; ` +
        `the ${late.length} whose time came resumed late by p50 ${at(0.5).toFixed(0)} ms, p99 ${at(0.99).toFixed(0)} ms, max ${at(1).toFixed(0)} ms`,
    );
    expect(late).toHaveLength(DUE_SOON);
    expect(Math.min(...late)).toBeGreaterThanOrEqual(0);
    expect(at(1)).toBeLessThan(1_000);
    expect(await waitingRuns()).toBe(longWaits);
    // Holding 10,000 waits costs this process no memory of its own (a generous bound for noise).
    expect(waiting.heapUsed - before.heapUsed).toBeLessThan(32 * 1024 * 1024);
  });
});
