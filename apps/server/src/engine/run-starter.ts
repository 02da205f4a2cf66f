import { newId } from '../lib/ids';
import type { Database } from '../store/database';
import { insertRun } from '../store/queries/insert-run';
import { PRIORITY_RANK } from './priority';
import { decideRun } from './run-decision';
import { RunMutations } from './run-mutations';
import type { WorkflowCache } from './workflow-cache';

export interface StartRunRequest {
  tenantId: string;
  workflowId: string;
  version: number;
  input?: unknown;
  /** How the run was started, e.g. `{ type: 'manual' }`; kept on the run and readable as `trigger`. */
  trigger: Record<string, unknown>;
  /** A repeated key for the same workflow returns the first run instead of starting another. */
  idempotencyKey?: string | undefined;
}

/** The one start path of every trigger: the run, its first steps and their jobs commit together. */
export async function startRun(
  deps: { db: Database; workflows: WorkflowCache; now?: () => number },
  request: StartRunRequest,
): Promise<{ runId: string; created: boolean }> {
  const workflow = await deps.workflows.get(request);
  const priority = PRIORITY_RANK[workflow.definition.settings?.priority ?? 'normal'];
  const now = (deps.now ?? Date.now)();
  const deadlineAt = workflow.runTimeoutMs === undefined ? undefined : now + workflow.runTimeoutMs;
  const { tenantId } = request;
  return deps.db.withTenant(tenantId, async (tx) => {
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
    });
    if (!created) return { runId, created };
    const mutations = new RunMutations();
    decideRun({
      runId,
      priority,
      workflow: workflow.compiled,
      state: { steps: [] },
      currentStatus: 'queued',
      mutations,
    });
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
    await mutations.apply(tx, { tenantId });
    await tx.query("SELECT pg_notify('aiq_jobs', '')");
    return { runId, created };
  });
}
