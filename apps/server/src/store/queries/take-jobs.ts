import type { Tx } from '../database';

/**
 * Removes claimed jobs as their work is recorded. Only the worker that holds a job may: the ids of
 * jobs it no longer holds (its lease ran out and another worker claimed them) are not returned.
 */
export async function takeJobs(
  tx: Tx,
  args: { tenantId: string; jobIds: readonly string[]; workerId: string },
): Promise<Set<string>> {
  if (args.jobIds.length === 0) return new Set();
  const { rows } = await tx.query<{ id: string }>(
    'DELETE FROM jobs WHERE tenant_id = $1 AND id = ANY($2::bigint[]) AND locked_by = $3 RETURNING id::text AS id',
    [args.tenantId, args.jobIds, args.workerId],
  );
  return new Set(rows.map((r) => r.id));
}
