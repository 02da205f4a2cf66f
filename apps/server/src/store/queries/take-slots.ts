import type { Tx } from '../database';

export interface SlotLimit {
  key: string;
  limit: number;
}

/**
 * Takes one slot of every limit, or none: all the limits must have room. Locks the slots' rows in
 * key order for the rest of the transaction, so that concurrent starts and ends never over-admit.
 */
export async function takeSlots(
  tx: Tx,
  args: { tenantId: string; limits: readonly SlotLimit[] },
): Promise<boolean> {
  if (args.limits.length === 0) return true;
  const [only] = args.limits;
  if (args.limits.length === 1 && only) {
    // The common case, one limit whose row exists: one statement. Under a concurrent change it waits
    // for the row and checks the room again on the row as that change left it, so it never over-admits.
    const { rowCount } = await tx.query({
      name: 'aiq_take_slot',
      text: 'UPDATE concurrency_slots SET active = active + 1 WHERE tenant_id = $1 AND key = $2 AND active < $3',
      values: [args.tenantId, only.key, only.limit],
    });
    if (rowCount === 1) return true;
    // No row yet, or no room: the general path says which.
  }
  const keys = args.limits.map((l) => l.key);
  await tx.query(
    'INSERT INTO concurrency_slots (tenant_id, key) SELECT $1, k FROM unnest($2::text[]) AS k ON CONFLICT DO NOTHING',
    [args.tenantId, keys],
  );
  const { rows } = await tx.query<{ key: string; active: number }>(
    'SELECT key, active FROM concurrency_slots WHERE tenant_id = $1 AND key = ANY($2::text[]) ORDER BY key FOR UPDATE',
    [args.tenantId, keys],
  );
  const active = new Map(rows.map((r) => [r.key, r.active]));
  if (!args.limits.every((l) => (active.get(l.key) ?? 0) < l.limit)) return false;
  await tx.query(
    'UPDATE concurrency_slots SET active = active + 1 WHERE tenant_id = $1 AND key = ANY($2::text[])',
    [args.tenantId, keys],
  );
  return true;
}
