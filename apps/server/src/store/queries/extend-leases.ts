import type { Tx } from '../database';

/** Heartbeat: extends the leases of the jobs a worker still holds. System path (jobs of any tenant). */
export async function extendLeases(
  tx: Tx,
  args: { workerId: string; jobIds: readonly string[]; leaseMs: number },
): Promise<number> {
  if (args.jobIds.length === 0) return 0;
  const { rowCount } = await tx.query({
    name: 'aiq_extend_leases',
    text: `UPDATE jobs SET available_at = now() + $3 * interval '1 millisecond'
      WHERE id = ANY($2::bigint[]) AND locked_by = $1`,
    values: [args.workerId, args.jobIds, args.leaseMs],
  });
  return rowCount ?? 0;
}
