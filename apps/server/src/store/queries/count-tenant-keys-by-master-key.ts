import type { Tx } from '../database';

/** How many tenants' data keys each master key wraps. System path (crosses tenants): key rotation. */
export async function countTenantKeysByMasterKey(system: Tx): Promise<Map<string, number>> {
  const { rows } = await system.query<{ masterKeyId: string; count: number }>(
    `SELECT master_key_id AS "masterKeyId", count(*)::int AS count FROM tenant_keys GROUP BY master_key_id`,
  );
  return new Map(rows.map((row) => [row.masterKeyId, row.count]));
}
