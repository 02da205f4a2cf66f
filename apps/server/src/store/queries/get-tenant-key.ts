import type { Tx } from '../database';

/** A tenant's data key as stored: wrapped (AES-256-GCM) by the master key `masterKeyId`. */
export interface TenantKeyRecord {
  tenantId: string;
  wrappedKey: Buffer;
  masterKeyId: string;
}

/** The tenant's wrapped data key, if it has one yet. */
export async function getTenantKey(tx: Tx, tenantId: string): Promise<TenantKeyRecord | undefined> {
  const { rows } = await tx.query<TenantKeyRecord>(
    `SELECT tenant_id AS "tenantId", wrapped_key AS "wrappedKey", master_key_id AS "masterKeyId"
       FROM tenant_keys WHERE tenant_id = $1`,
    [tenantId],
  );
  return rows[0];
}
