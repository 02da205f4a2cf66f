import type { RunStatus, StepState } from '@automateiq/core';
import { newId } from '../lib/ids';
import type { Database, Tx } from '../store/database';
import { insertRun } from '../store/queries/insert-run';
import { takeSlots } from '../store/queries/take-slots';
import { slotLimits, tenantConcurrencyQuota } from './admission';
import { PRIORITY_RANK } from './priority';
import { decideRun } from './run-decision';
import { RunMutations } from './run-mutations';
import { WorkflowNotFoundError } from './workflow-not-found-error';
import type { LoadedWorkflow, WorkflowCache } from './workflow-cache';

export interface StartRunRequest {
  tenantId: string;
  workflowId: string;
  /** The version to run; `latest`: the workflow's latest, read in the start's transaction. */
  version: number | 'latest';
  /** The tenant's concurrentRuns quota when the caller knows it (null: none); else it is read. */
  tenantConcurrencyQuota?: number | null | undefined;
  input?: unknown;
  /** How the run was started, e.g. `{ type: 'manual' }`; kept on the run and readable as `trigger`. */
  trigger: Record<string, unknown>;
  /** A repeated key for the same workflow returns the first run instead of starting another. */
  idempotencyKey?: string | undefined;
  /**
   * Runs in the start's transaction when the run was created (not on an idempotent repeat), e.g. to
   * count it against a quota; throwing rolls the start back. `version` is the version started.
   */
  onCreate?: ((tx: Tx, runId: string, version: number) => Promise<void>) | undefined;
  /** A sub-workflow's run: the parent's waiting step (a `child` job resumes it when this run ends) and the child's depth. */
  parent?: { runId: string; scope: string; nodeId: string; attempt: number; depth: number } | undefined;
}

/** The one start path of every trigger: the run, its first steps and their jobs commit together. */
export async function startRun(
  deps: { db: Database; workflows: WorkflowCache; now?: () => number },
  request: StartRunRequest,
): Promise<{ runId: string; created: boolean }> {
  const { tenantId, workflowId } = request;
  return deps.db.withTenant(tenantId, async (tx) => {
    const version = request.version === 'latest' ? await latestVersion(tx, { tenantId, workflowId }) : request.version;
    const workflow = await deps.workflows.get({ tenantId, workflowId, version }, tx);
    const { runId, created } = await createRun(tx, { request: { ...request, version }, workflow, now: deps.now });
    return { runId, created };
  });
}

/** The latest version of a live workflow; `WorkflowNotFoundError` when there is none. */
async function latestVersion(tx: Tx, args: { tenantId: string; workflowId: string }): Promise<number> {
  const { rows } = await tx.query<{ version: number }>({
    name: 'aiq_latest_version',
    text: 'SELECT latest_version AS version FROM workflows WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL',
    values: [args.tenantId, args.workflowId],
  });
  const version = rows[0]?.version;
  if (version === undefined) throw new WorkflowNotFoundError(`workflow ${args.workflowId} does not exist`);
  return version;
}

/**
 * Creates a run in the caller's transaction (of the run's tenant): inserts it, calls `onCreate`, takes
 * its concurrency slots and, once admitted, enqueues the steps the planner starts from the state
 * `seed` wrote (default: none, a fresh run). A run waiting for a slot is admitted later from the same
 * seeded state (admission.ts reads it). Returns the run's status after the start.
 */
export async function createRun(
  tx: Tx,
  args: {
    request: StartRunRequest & { version: number };
    workflow: LoadedWorkflow;
    now?: (() => number) | undefined;
    /** Writes the steps the run starts with (a retry's kept steps) and returns their latest attempts. */
    seed?: ((tx: Tx, runId: string) => Promise<StepState[]>) | undefined;
  },
): Promise<{ runId: string; created: boolean; status: RunStatus }> {
  const { request, workflow } = args;
  const priority = PRIORITY_RANK[workflow.definition.settings?.priority ?? 'normal'];
  const now = (args.now ?? Date.now)();
  const deadlineAt = workflow.runTimeoutMs === undefined ? undefined : now + workflow.runTimeoutMs;
  const { tenantId } = request;
  const limits = slotLimits({
    tenantQuota:
      request.tenantConcurrencyQuota === undefined
        ? await tenantConcurrencyQuota(tx, tenantId)
        : (request.tenantConcurrencyQuota ?? undefined),
    workflowId: request.workflowId,
    workflow,
  });
  const { id: runId, created } = await insertRun(tx, {
    tenantId,
    id: newId(),
    workflowId: request.workflowId,
    version: request.version,
    priority,
    trigger: { ...request.trigger, firedAt: new Date(now).toISOString() },
    input: request.input ?? null,
    idempotencyKey: request.idempotencyKey,
    deadlineAt,
    slotKeys: limits.map((l) => l.key),
    // Admitted unless its slots turn out to be full (one statement fewer on the usual path).
    admitted: true,
    parent: request.parent,
  });
  if (!created) return { runId, created, status: 'queued' };
  await request.onCreate?.(tx, runId, request.version);
  const steps = (await args.seed?.(tx, runId)) ?? [];
  const mutations = new RunMutations();
  mutations.touched.add(runId);
  // A run limited by a concurrency limit with no free slot waits, queued, until a slot frees.
  const admitted = limits.length === 0 || (await takeSlots(tx, { tenantId, limits }));
  if (!admitted) {
    await tx.query('UPDATE runs SET admitted = false WHERE tenant_id = $1 AND id = $2', [tenantId, runId]);
  }
  const decision = admitted
    ? decideRun({
        runId,
        priority,
        workflow: workflow.compiled,
        state: { steps },
        currentStatus: 'queued',
        mutations,
      })
    : undefined;
  if (deadlineAt !== undefined) {
    mutations.jobs.push({
      runId,
      kind: 'deadline',
      scope: '',
      nodeId: '',
      attempt: 0,
      priority,
      availableAt: deadlineAt,
    });
  }
  mutations.wakeWorkers = true;
  await mutations.apply(tx, { tenantId });
  return { runId, created, status: decision?.status ?? 'queued' };
}
