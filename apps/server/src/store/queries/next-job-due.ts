import type { Tx } from '../database';

/**
 * Epoch ms of the earliest `available_at` in the queue (a retry, the end of a wait, a lease that may
 * run out), if any. It may lie in the past: a job that became due after the last claim looked must
 * not be missed. System path.
 */
export async function nextJobDue(tx: Tx): Promise<number | undefined> {
  const { rows } = await tx.query<{ due: Date | null }>('SELECT min(available_at) AS due FROM jobs');
  const due = rows[0]?.due;
  return due ? due.getTime() : undefined;
}
