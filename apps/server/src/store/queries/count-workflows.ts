import type { Tx } from '../database';

/** How many live workflows the tenant keeps (for the maxWorkflows quota). */
export async function countWorkflows(tx: Tx, tenantId: string): Promise<number> {
  const { rows } = await tx.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM workflows WHERE tenant_id = $1 AND deleted_at IS NULL',
    [tenantId],
  );
  return rows[0]?.n ?? 0;
}
