/**
 * `npm run bench -- engine`: the engine's figures on this machine, one worker process (this one)
 * against PostgreSQL. Prints:
 *  - steps/s draining 10-node transform workflows, every step committed, and the plain single-row
 *    insert rate of the same PostgreSQL through the same pool, with their ratio;
 *  - start-to-output time of a 40-node sequential workflow;
 *  - run start to first step start at 50 runs/s (p50, p99);
 *  - claim cost with 1,000 and 100,000 jobs queued;
 *  - the process's peak RSS.
 * Options: --runs N (runs drained for the throughput figure, default 1000).
 */
import { builtInConnectors, createConnectorRegistry } from '@automateiq/connectors';
import type { WorkflowDefinition } from '@automateiq/core';
import pg from 'pg';
import { pino } from 'pino';
import { Engine } from '../apps/server/src/engine';
import type { Database } from '../apps/server/src/store/database';
import { claimJobs } from '../apps/server/src/store/queries/claim-jobs';
import { ensureTenant } from '../apps/server/src/tenancy/ensure-tenant';
import { saveWorkflowByName } from '../apps/server/src/workflows/save-workflow-by-name';
import { createBenchDatabase, percentile } from './bench-database';

const CONCURRENCY = Number(process.env.AIQ_WORKER_CONCURRENCY ?? 16);

function chain(name: string, length: number): WorkflowDefinition {
  return {
    name,
    nodes: Array.from({ length }, (_, i) => ({
      id: `n${i}`,
      type: 'transform',
      params: {
        value:
          i === 0
            ? { count: '{{ $count($keys(input)) }}', i }
            : { previous: `{{ steps.n${i - 1}.output.i }}`, i },
      },
    })),
    edges: Array.from({ length: length - 1 }, (_, i) => ({ from: `n${i}`, to: `n${i + 1}` })),
  };
}

export async function run(args: string[]): Promise<void> {
  const runsIndex = args.indexOf('--runs');
  const runs = runsIndex >= 0 ? Number(args[runsIndex + 1]) : 1_000;
  const bench = await createBenchDatabase(24);
  const { db } = bench;
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50);
  const engine = new Engine({
    db,
    databaseUrl: bench.url,
    connectors: createConnectorRegistry(builtInConnectors),
    logger: pino({ level: 'warn' }, pino.destination(2)),
  });
  const tenantId = (await ensureTenant(db, 'bench')).id;
  const print = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  print(`engine benchmark — ${bench.describe}, ${CONCURRENCY} concurrent steps, node ${process.version}`);

  try {
    // 1. Baseline: plain single-row inserts through the same pool, 16 clients, 3 s.
    const owner = new pg.Client({ connectionString: bench.url });
    await owner.connect();
    await owner.query(
      'CREATE TABLE bench_plain (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, payload jsonb)',
    );
    await owner.query('GRANT ALL ON bench_plain TO aiq_app');
    await owner.end();
    const insertRate = await rate(3_000, CONCURRENCY, () =>
      db.pool.query('INSERT INTO bench_plain (payload) VALUES ($1)', [JSON.stringify({ i: 1 })]),
    );

    // 2. Throughput: queue `runs` runs of a 10-node chain, then drain them with one worker.
    const ten = await saveWorkflowByName(db, { tenantId, definition: chain('ten transforms', 10) });
    for (let i = 0; i < runs; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, runs - i) }, (_, k) =>
          engine.startRun({ tenantId, ...ten, input: { k: i + k }, trigger: { type: 'bench' } }),
        ),
      );
    }
    const worker = engine.createWorker({ workerId: 'bench', concurrency: CONCURRENCY });
    const drainStart = performance.now();
    await worker.start();
    await until(async () => (await count(db, tenantId, ten.workflowId)) >= runs, 600_000);
    const drainSeconds = (performance.now() - drainStart) / 1_000;
    const stepsPerSecond = (runs * 10) / drainSeconds;
    const failed = await db.withTenant(tenantId, async (tx) =>
      Number((await tx.query("SELECT count(*) AS n FROM runs WHERE status <> 'succeeded'")).rows[0].n),
    );

    // 3. A 40-node sequential workflow, one run at a time: start to output.
    const forty = await saveWorkflowByName(db, { tenantId, definition: chain('forty transforms', 40) });
    const fortyMs: number[] = [];
    for (let i = 0; i < 15; i++) {
      const { runId } = await engine.startRun({ tenantId, ...forty, input: {}, trigger: { type: 'bench' } });
      await until(async () => (await runStatus(db, tenantId, runId)) === 'succeeded', 30_000);
      fortyMs.push(await runDurationMs(db, tenantId, runId));
    }
    fortyMs.sort((a, b) => a - b);

    // 4. Run start to first step start, 50 runs/s for 10 s.
    const one = await saveWorkflowByName(db, { tenantId, definition: chain('one transform', 1) });
    const startedIds: string[] = [];
    const pace = performance.now();
    for (let i = 0; i < 500; i++) {
      const due = pace + i * 20;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      startedIds.push(
        (await engine.startRun({ tenantId, ...one, input: {}, trigger: { type: 'bench' } })).runId,
      );
    }
    await until(async () => (await count(db, tenantId, one.workflowId)) >= 500, 60_000);
    const firstStep = await db.withTenant(tenantId, async (tx) =>
      (
        await tx.query<{ ms: number }>(
          `SELECT extract(epoch FROM s.started_at - r.created_at)::float8 * 1000 AS ms
             FROM runs r JOIN steps s ON s.tenant_id = r.tenant_id AND s.run_id = r.id
            WHERE r.id = ANY($1::uuid[])`,
          [startedIds],
        )
      ).rows.map((r) => r.ms),
    );
    firstStep.sort((a, b) => a - b);
    await worker.stop();

    // 5. Claim cost with 1k and 100k jobs queued (each claim rolled back, so the backlog stays).
    const claim1k = await claimCost(db, tenantId, one.workflowId, 1_000);
    const claim100k = await claimCost(db, tenantId, one.workflowId, 100_000);

    print('');
    print(`plain single-row inserts, ${CONCURRENCY} clients:      ${insertRate.toFixed(0)} /s`);
    print(
      `10-node transform runs drained:           ${runs} runs, ${runs * 10} steps in ${drainSeconds.toFixed(2)} s (${failed} not succeeded)`,
    );
    print(
      `  steps/s, every step committed:          ${stepsPerSecond.toFixed(0)} /s  (ratio to plain inserts ${(stepsPerSecond / insertRate).toFixed(2)})`,
    );
    print(
      `40-node sequential run, start to output:  p50 ${percentile(fortyMs, 50).toFixed(1)} ms, max ${fortyMs.at(-1)?.toFixed(1)} ms (15 runs)`,
    );
    print(
      `run start -> first step start @50 runs/s: p50 ${percentile(firstStep, 50).toFixed(2)} ms, p99 ${percentile(firstStep, 99).toFixed(2)} ms (${firstStep.length} runs)`,
    );
    print(`claim of 16 jobs, 1,000 queued:           median ${claim1k.toFixed(2)} ms`);
    print(`claim of 16 jobs, 100,000 queued:         median ${claim100k.toFixed(2)} ms`);
    print(`peak RSS of this process (worker + load): ${(peakRss / 1024 / 1024).toFixed(0)} MB`);
  } finally {
    clearInterval(sampler);
    await bench.drop();
  }
}

async function rate(ms: number, clients: number, op: () => Promise<unknown>): Promise<number> {
  let done = 0;
  const end = performance.now() + ms;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        await op();
        done++;
      }
    }),
  );
  return done / ((performance.now() - start) / 1_000);
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('benchmark step timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function count(db: Database, tenantId: string, workflowId: string): Promise<number> {
  return db.withTenant(tenantId, async (tx) =>
    Number(
      (
        await tx.query(
          "SELECT count(*) AS n FROM runs WHERE workflow_id = $1 AND status IN ('succeeded', 'failed')",
          [workflowId],
        )
      ).rows[0].n,
    ),
  );
}

async function runStatus(db: Database, tenantId: string, runId: string): Promise<string> {
  return db.withTenant(
    tenantId,
    async (tx) => (await tx.query('SELECT status FROM runs WHERE id = $1', [runId])).rows[0]?.status,
  );
}

async function runDurationMs(db: Database, tenantId: string, runId: string): Promise<number> {
  return db.withTenant(tenantId, async (tx) =>
    Number(
      (
        await tx.query(
          'SELECT extract(epoch FROM finished_at - created_at)::float8 * 1000 AS ms FROM runs WHERE id = $1',
          [runId],
        )
      ).rows[0].ms,
    ),
  );
}

/** Fills the queue to `size` jobs (runs with one pending step each) and times claims that are rolled back. */
async function claimCost(db: Database, tenantId: string, workflowId: string, size: number): Promise<number> {
  await db.withTenant(tenantId, async (tx) => {
    const have = Number((await tx.query('SELECT count(*) AS n FROM jobs')).rows[0]?.n ?? 0);
    const add = size - have;
    if (add <= 0) return;
    await tx.query(
      `WITH r AS (
         INSERT INTO runs (tenant_id, id, workflow_id, version, status, priority, trigger, input)
         SELECT $1, gen_random_uuid(), $2, 1, 'queued', 1, '{"type":"bench"}', '{}' FROM generate_series(1, $3)
         RETURNING id
       ), s AS (
         INSERT INTO steps (tenant_id, run_id, scope, node_id, attempt, status) SELECT $1, id, '', 'n0', 1, 'pending' FROM r
       )
       INSERT INTO jobs (tenant_id, run_id, kind, scope, node_id, attempt, priority) SELECT $1, id, 'step', '', 'n0', 1, 1 FROM r`,
      [tenantId, workflowId, add],
    );
  });
  const times: number[] = [];
  for (let i = 0; i < 40; i++) {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN; SET LOCAL ROLE aiq_system');
      const start = performance.now();
      const { jobs: claimed } = await claimJobs(client, {
        limit: 16,
        leaseMs: 30_000,
        workerId: 'bench-claim',
      });
      times.push(performance.now() - start);
      if (claimed.length !== 16) throw new Error(`claimed ${claimed.length} of 16`);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  }
  times.sort((a, b) => a - b);
  return percentile(times, 50);
}
