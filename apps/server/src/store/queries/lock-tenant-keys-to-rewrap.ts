import type { Tx } from '../database';
import type { TenantKeyRecord } from './get-tenant-key';

/**
 * Locks the next data keys, in tenant order after `after`, that the master key `masterKeyId` does not
 * wrap yet. System path (crosses tenants): key rotation.
 */
export async function lockTenantKeysToRewrap(
  system: Tx,
  args: { masterKeyId: string; after: string | undefined; limit: number },
): Promise<TenantKeyRecord[]> {
  const { rows } = await system.query<TenantKeyRecord>(
    `SELECT tenant_id AS "tenantId", wrapped_key AS "wrappedKey", master_key_id AS "masterKeyId"
       FROM tenant_keys
      WHERE master_key_id <> $1 AND ($2::uuid IS NULL OR tenant_id > $2)
      ORDER BY tenant_id LIMIT $3
        FOR UPDATE`,
    [args.masterKeyId, args.after ?? null, args.limit],
  );
  return rows;
}
