import { finalRunStatuses } from '@automateiq/core';
import type { Database } from '../store/database';
import { loadRunsSteps } from '../store/queries/load-runs-steps';
import { listOpenDescendants } from '../store/queries/list-open-descendants';
import { lockRuns } from '../store/queries/lock-runs';
import { RunMutations } from './run-mutations';

/**
 * Cancels an unfinished run and its unfinished sub-workflow runs: their open steps are cancelled,
 * their jobs deleted, and workers running their steps are told (NOTIFY aiq_cancel) to abort them. Returns false when the run was already over or
 * does not exist.
 */
export async function cancelRun(db: Database, args: { tenantId: string; runId: string }): Promise<boolean> {
  const { tenantId, runId } = args;
  return db.withTenant(tenantId, async (tx) => {
    const run = (await lockRuns(tx, { tenantId, runIds: [runId] })).get(runId);
    if (!run || finalRunStatuses.has(run.status))
      return false;
    // Its sub-workflow runs (and theirs) are cancelled with it.
    const descendants = await listOpenDescendants(tx, { tenantId, runId });
    const locked = await lockRuns(tx, { tenantId, runIds: descendants });
    const cancelled = [runId, ...descendants.filter((id) => {
      const child = locked.get(id);
      return child !== undefined && !finalRunStatuses.has(child.status);
    })];
    const steps = await loadRunsSteps(tx, { tenantId, runIds: cancelled });
    const mutations = new RunMutations();
    for (const id of cancelled) {
      mutations.ends.push({
        runId: id,
        status: 'cancelled',
        error: {
          code: 'CANCELLED',
          message: id === runId ? 'the run was cancelled' : `its parent run ${runId} was cancelled`,
          retryable: false,
        },
      });
      if (steps.get(id)?.some((s) => s.status === 'running')) mutations.aborts.add(id);
    }
    await mutations.apply(tx, { tenantId });
    return true;
  });
}
