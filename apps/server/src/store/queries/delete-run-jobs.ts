import type { Tx } from '../database';

/** Deletes every job of a run (its steps' jobs, resumes and its deadline): the run is over. */
export async function deleteRunJobs(tx: Tx, args: { tenantId: string; runId: string }): Promise<void> {
  await tx.query('DELETE FROM jobs WHERE tenant_id = $1 AND run_id = $2', [args.tenantId, args.runId]);
}
