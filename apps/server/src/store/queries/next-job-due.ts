import type { Tx } from '../database';

/** Epoch ms at which the next job not yet available becomes available (a retry, a wait, a lease), if any. System path. */
export async function nextJobDue(tx: Tx): Promise<number | undefined> {
  const { rows } = await tx.query<{ due: Date | null }>(
    'SELECT min(available_at) AS due FROM jobs WHERE available_at > now()',
  );
  const due = rows[0]?.due;
  return due ? due.getTime() : undefined;
}
