import type { Database, Tx } from '../store/database';
import { textArrayLiteral } from '../store/pg-array';
import type { ClaimedJob } from '../store/queries/claim-jobs';
import { loadRunsSteps } from '../store/queries/load-runs-steps';
import { takeJobsAndLockRuns } from '../store/queries/lock-runs';
import type { SlotLimit } from '../store/queries/take-slots';
import { takeSlots } from '../store/queries/take-slots';
import { decideRun } from './run-decision';
import { RunMutations } from './run-mutations';
import type { LoadedWorkflow, WorkflowCache } from './workflow-cache';

/** Slot key of the tenant-wide limit (the tenant's `concurrentRuns` quota). */
export const TENANT_SLOT = 'tenant';

/** The concurrency limits that apply to a run of this workflow (none: it runs at once). */
export function slotLimits(args: {
  tenantQuota: number | undefined;
  workflowId: string;
  workflow: LoadedWorkflow;
}): SlotLimit[] {
  const limits: SlotLimit[] = [];
  if (args.tenantQuota !== undefined) limits.push({ key: TENANT_SLOT, limit: args.tenantQuota });
  const own = args.workflow.definition.settings?.concurrency;
  if (own !== undefined) limits.push({ key: `workflow:${args.workflowId}`, limit: own });
  return limits;
}

/** The tenant's `concurrentRuns` quota, if it has one. */
export async function tenantConcurrencyQuota(tx: Tx, tenantId: string): Promise<number | undefined> {
  const { rows } = await tx.query<{ quota: number | null }>(
    "SELECT (quotas->>'concurrentRuns')::int AS quota FROM tenants WHERE id = $1",
    [tenantId],
  );
  return rows[0]?.quota ?? undefined;
}

/** The tenant's `runsPerDay` quota; null: none. */
export async function tenantRunsPerDay(tx: Tx, tenantId: string): Promise<number | null> {
  const { rows } = await tx.query<{ quota: number | null }>({
    name: 'aiq_tenant_runs_per_day',
    text: "SELECT (quotas->>'runsPerDay')::int AS quota FROM tenants WHERE id = $1",
    values: [tenantId],
  });
  return rows[0]?.quota ?? null;
}

/**
 * An `admit` job: a run that held slots ended, so queued runs of the tenant that wait for slots are
 * admitted, by priority then age, as far as their limits allow: each takes its slots and its first
 * steps are enqueued. Returns how many were admitted.
 */
export async function admitQueuedRuns(
  deps: { db: Database; workflows: WorkflowCache; workerId: string },
  job: ClaimedJob,
): Promise<number> {
  const { tenantId } = job;
  return deps.db.withTenant(tenantId, async (tx) => {
    const { taken } = await takeJobsAndLockRuns(tx, { tenantId, jobIds: [job.id], workerId: deps.workerId });
    if (!taken.has(job.id)) return 0;
    const quota = await tenantConcurrencyQuota(tx, tenantId);
    const { rows: waiting } = await tx.query<{
      id: string;
      workflow_id: string;
      version: number;
      priority: number;
      seeded: boolean;
    }>(
      `SELECT id, workflow_id, version, priority, trigger->>'type' = 'retry' AS seeded FROM runs
        WHERE tenant_id = $1 AND NOT admitted AND status = 'queued'
        ORDER BY priority DESC, created_at LIMIT 50 FOR UPDATE SKIP LOCKED`,
      [tenantId],
    );
    // A retry starts from the steps it kept (run-retry.ts); other runs start with none.
    const seeded = await loadRunsSteps(tx, { tenantId, runIds: waiting.filter((r) => r.seeded).map((r) => r.id) });
    const mutations = new RunMutations();
    const planned = [];
    for (const run of waiting) {
      const workflow = await deps.workflows.get({ tenantId, workflowId: run.workflow_id, version: run.version }, tx);
      planned.push({ run, workflow, limits: slotLimits({ tenantQuota: quota, workflowId: run.workflow_id, workflow }) });
    }
    const took = await takeSlots(tx, { tenantId, runs: planned.map((p) => p.limits) });
    const admitted = planned.filter((_, i) => took[i]);
    if (admitted.length > 0) {
      await tx.query(
        `UPDATE runs r SET admitted = true, slot_keys = v.keys::text[] FROM unnest($2::uuid[], $3::text[]) AS v(id, keys)
          WHERE r.tenant_id = $1 AND r.id = v.id`,
        [tenantId, admitted.map((p) => p.run.id), admitted.map((p) => textArrayLiteral(p.limits.map((l) => l.key)))],
      );
    }
    for (const { run, workflow } of admitted) {
      decideRun({
        runId: run.id,
        priority: run.priority,
        workflow: workflow.compiled,
        state: { steps: seeded.get(run.id) ?? [] },
        currentStatus: 'queued',
        mutations,
      });
    }
    if (admitted.length > 0) {
      mutations.wakeWorkers = true;
      await mutations.apply(tx, { tenantId });
    }
    return admitted.length;
  });
}
