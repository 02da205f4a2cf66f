import type { Tx } from '../database';

/** Replaces a tenant's wrapped data key (the same key, wrapped by another master key). System path: rotation. */
export async function rewrapTenantKey(
  system: Tx,
  args: { tenantId: string; wrappedKey: Buffer; masterKeyId: string },
): Promise<void> {
  await system.query(
    `UPDATE tenant_keys SET wrapped_key = $2, master_key_id = $3, rotated_at = now() WHERE tenant_id = $1`,
    [args.tenantId, args.wrappedKey, args.masterKeyId],
  );
}
