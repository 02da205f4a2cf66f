import type { Tx } from '../database';
import { API_KEY_COLUMNS, type ApiKeyRecord } from './insert-api-key';

/** Revokes an API key of the tenant (a revoked key stays revoked at its first time). Undefined when there is none. */
export async function revokeApiKey(tx: Tx, args: { tenantId: string; keyId: string }): Promise<ApiKeyRecord | undefined> {
  const { rows } = await tx.query<ApiKeyRecord>(
    `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
      WHERE tenant_id = $1 AND id = $2 RETURNING ${API_KEY_COLUMNS}`,
    [args.tenantId, args.keyId],
  );
  return rows[0];
}
