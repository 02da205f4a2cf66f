import { builtInConnectors, createConnectorRegistry } from '@automateiq/connectors';
import { finalRunStatuses, type WorkflowDefinition } from '@automateiq/core';
import { pino } from 'pino';
import { Engine, type Worker } from '../../src/engine';
import type { CredentialSource } from '../../src/engine/credential-source';
import { getRun, type RunRow } from '../../src/store/queries/get-run';
import { listStepAttempts, type StepAttemptRow } from '../../src/store/queries/list-step-attempts';
import { ensureTenant } from '../../src/tenancy/ensure-tenant';
import { saveWorkflowByName } from '../../src/workflows/save-workflow-by-name';
import type { TestDatabase } from './test-database';

export interface EngineHarness {
  engine: Engine;
  tenantId: string;
  workers: Worker[];
  /** Saves a definition in the tenant (a new version when it changed). */
  deploy(definition: WorkflowDefinition, tenantId?: string): Promise<{ workflowId: string; version: number }>;
  /** Starts a run of a definition and waits for its end. */
  run(definition: WorkflowDefinition, input?: unknown): Promise<FinishedRun>;
  /** Waits until the run is over (or `timeoutMs` passes) and returns it with its step attempts. */
  waitForRun(runId: string, opts?: { tenantId?: string; timeoutMs?: number }): Promise<FinishedRun>;
  tenant(slug: string): Promise<string>;
  startWorker(opts?: { concurrency?: number; leaseMs?: number }): Promise<Worker>;
  stop(): Promise<void>;
}

export interface FinishedRun extends RunRow {
  attempts: StepAttemptRow[];
}


/** An engine on a test database with one tenant and (unless `workers: 0`) one running worker. */
export async function startEngineHarness(
  t: TestDatabase,
  opts: {
    workers?: number;
    concurrency?: number;
    leaseMs?: number;
    egressAllow?: string[];
    /** Where nodes' credentials come from (the vault). Default: none. */
    credentials?: CredentialSource;
    /** `run.resumeUrl` of the runs. Default: none. */
    resumeUrl?: (tenantId: string, runId: string) => string;
    /** The platform's public address (links nodes send). Default: none. */
    publicUrl?: string;
  } = {},
): Promise<EngineHarness> {
  const engine = new Engine({
    db: t.db,
    databaseUrl: t.url,
    connectors: createConnectorRegistry(builtInConnectors),
    logger: pino({ level: process.env.AIQ_TEST_LOG ?? 'silent' }, pino.destination(2)),
    egressAllow: opts.egressAllow ?? ['127.0.0.1', 'localhost'],
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    resumeUrl: opts.resumeUrl,
    publicUrl: opts.publicUrl,
  });
  const tenantId = (await ensureTenant(t.db, 'test')).id;
  const workers: Worker[] = [];
  let counter = 0;
  const harness: EngineHarness = {
    engine,
    tenantId,
    workers,
    deploy: (definition, tenant = tenantId) => saveWorkflowByName(t.db, { tenantId: tenant, definition }),
    async run(definition, input) {
      const saved = await harness.deploy(definition);
      const { runId } = await engine.startRun({
        tenantId,
        ...saved,
        input: input ?? {},
        trigger: { type: 'test' },
      });
      return harness.waitForRun(runId);
    },
    async waitForRun(runId, { tenantId: tenant = tenantId, timeoutMs = 20_000 } = {}) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const run = await t.db.withTenant(tenant, (tx) => getRun(tx, { tenantId: tenant, runId }));
        if (run && finalRunStatuses.has(run.status)) {
          const attempts = await t.db.withTenant(tenant, (tx) =>
            listStepAttempts(tx, { tenantId: tenant, runId }),
          );
          return { ...run, attempts };
        }
        if (Date.now() > until) {
          const detail = await t.db.withTenant(tenant, async (tx) => ({
            steps: (
              await tx.query(
                'SELECT scope, node_id, attempt, status FROM steps WHERE run_id = $1 ORDER BY created_at',
                [runId],
              )
            ).rows,
            jobs: (
              await tx.query(
                'SELECT id, kind, node_id, attempt, available_at, locked_by, claims, now() AS now FROM jobs WHERE run_id = $1',
                [runId],
              )
            ).rows,
          }));
          throw new Error(
            `run ${runId} did not finish in ${timeoutMs}ms (status ${run?.status}): ${JSON.stringify(detail)}`,
          );
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    tenant: async (slug) => (await ensureTenant(t.db, slug)).id,
    async startWorker(o = {}) {
      const worker = engine.createWorker({
        workerId: `test-worker-${++counter}`,
        concurrency: o.concurrency ?? opts.concurrency ?? 8,
        ...((o.leaseMs ?? opts.leaseMs) ? { leaseMs: o.leaseMs ?? opts.leaseMs } : {}),
      });
      await worker.start();
      workers.push(worker);
      return worker;
    },
    async stop() {
      await Promise.all(workers.map((w) => w.stop(2_000)));
    },
  };
  for (let i = 0; i < (opts.workers ?? 1); i++) await harness.startWorker();
  return harness;
}
