import type { Tx } from '../database';

/**
 * Removes a claimed job as its work is recorded. Only the worker that holds the job's lease may: a
 * worker whose lease ran out (and whose job another worker claimed) gets `false` and records nothing.
 */
export async function takeClaimedJob(
  tx: Tx,
  args: { tenantId: string; jobId: string; workerId: string },
): Promise<boolean> {
  const { rowCount } = await tx.query(
    'DELETE FROM jobs WHERE tenant_id = $1 AND id = $2 AND locked_by = $3',
    [args.tenantId, args.jobId, args.workerId],
  );
  return rowCount === 1;
}
