import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { EngineObserver } from '../engine';
import type { Database } from '../store/database';

/** The Prometheus registry of a process, and the engine observer that feeds it. */
export interface Metrics {
  registry: Registry;
  observer: EngineObserver;
}

export function createMetrics(args: { db: () => Database | undefined }): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'aiq_process_' });
  const claimSeconds = new Histogram({
    name: 'aiq_queue_claim_seconds',
    help: 'Time of one queue claim',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [registry],
  });
  const stepSeconds = new Histogram({
    name: 'aiq_step_duration_seconds',
    help: 'Time of one step attempt, from start to recorded result, by node type and outcome',
    labelNames: ['outcome'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers: [registry],
  });
  const runsFinished = new Counter({
    name: 'aiq_runs_finished_total',
    help: 'Runs that ended, by tenant and status',
    labelNames: ['tenant', 'status'],
    registers: [registry],
  });
  new Gauge({
    name: 'aiq_queue_jobs',
    help: 'Jobs in the queue, by priority and whether they are ready now',
    labelNames: ['priority', 'ready'],
    registers: [registry],
    async collect() {
      const db = args.db();
      if (!db) return;
      const { rows } = await db.systemQuery<{ priority: number; ready: boolean; n: string }>(
        'queue depth metric',
        'SELECT priority, available_at <= now() AS ready, count(*) AS n FROM jobs GROUP BY 1, 2',
      );
      this.reset();
      for (const r of rows) this.set({ priority: String(r.priority), ready: String(r.ready) }, Number(r.n));
    },
  });
  new Gauge({
    name: 'aiq_queue_oldest_ready_seconds',
    help: 'Age of the oldest ready job, by priority',
    labelNames: ['priority'],
    registers: [registry],
    async collect() {
      const db = args.db();
      if (!db) return;
      const { rows } = await db.systemQuery<{ priority: number; age: number }>(
        'queue age metric',
        'SELECT priority, extract(epoch FROM now() - min(available_at))::float8 AS age FROM jobs WHERE available_at <= now() GROUP BY 1',
      );
      this.reset();
      for (const r of rows) this.set({ priority: String(r.priority) }, r.age);
    },
  });
  return {
    registry,
    observer: {
      claimed: ({ ms }) => claimSeconds.observe(ms / 1_000),
      stepFinished: ({ result, ms }) => stepSeconds.observe({ outcome: result.kind }, ms / 1_000),
      runEnded: ({ tenantId, outcome }) => runsFinished.inc({ tenant: tenantId, status: outcome.status }),
    },
  };
}
