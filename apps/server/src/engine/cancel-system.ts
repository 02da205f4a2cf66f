import { finalRunStatuses } from '@automateiq/core';
import type { Database } from '../store/database';
import { loadRunsSteps } from '../store/queries/load-runs-steps';
import { lockRuns } from '../store/queries/lock-runs';
import { RunMutations } from './run-mutations';

/**
 * Cancels an unfinished run: its open steps are cancelled, its jobs deleted, and workers running its
 * steps are told (NOTIFY aiq_cancel) to abort them. Returns false when the run was already over or
 * does not exist.
 */
export async function cancelRun(db: Database, args: { tenantId: string; runId: string }): Promise<boolean> {
  const { tenantId, runId } = args;
  return db.withTenant(tenantId, async (tx) => {
    const run = (await lockRuns(tx, { tenantId, runIds: [runId] })).get(runId);
    if (!run || finalRunStatuses.has(run.status))
      return false;
    const steps = (await loadRunsSteps(tx, { tenantId, runIds: [runId] })).get(runId) ?? [];
    const mutations = new RunMutations();
    mutations.ends.push({
      runId,
      status: 'cancelled',
      error: { code: 'CANCELLED', message: 'the run was cancelled', retryable: false },
    });
    if (steps.some((s) => s.status === 'running')) mutations.aborts.add(runId);
    await mutations.apply(tx, { tenantId });
    return true;
  });
}
