import type { Tx } from '../database';

/** Stores a tenant's first data key; false when the tenant has one already (another process won). */
export async function insertTenantKey(
  tx: Tx,
  key: { tenantId: string; wrappedKey: Buffer; masterKeyId: string },
): Promise<boolean> {
  const { rowCount } = await tx.query(
    `INSERT INTO tenant_keys (tenant_id, wrapped_key, master_key_id) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id) DO NOTHING`,
    [key.tenantId, key.wrappedKey, key.masterKeyId],
  );
  return rowCount === 1;
}
