import type { Database } from '../store/database';
import { cancelOpenSteps } from '../store/queries/cancel-open-steps';
import { deleteRunJobs } from '../store/queries/delete-run-jobs';
import { lockRun } from '../store/queries/lock-run';
import { updateRunStatus } from '../store/queries/update-run-status';

/**
 * Cancels an unfinished run: its open steps are cancelled, its jobs deleted, and workers running its
 * steps are told (NOTIFY aiq_cancel) to abort them. Returns false when the run was already over or
 * does not exist.
 */
export async function cancelRun(db: Database, args: { tenantId: string; runId: string }): Promise<boolean> {
  return db.withTenant(args.tenantId, async (tx) => {
    const run = await lockRun(tx, args);
    if (!run || run.status === 'succeeded' || run.status === 'failed' || run.status === 'cancelled')
      return false;
    const { running } = await cancelOpenSteps(tx, args);
    await deleteRunJobs(tx, args);
    await updateRunStatus(tx, {
      ...args,
      status: 'cancelled',
      error: { code: 'CANCELLED', message: 'the run was cancelled', retryable: false },
    });
    if (running > 0) await tx.query("SELECT pg_notify('aiq_cancel', $1)", [args.runId]);
    return true;
  });
}
