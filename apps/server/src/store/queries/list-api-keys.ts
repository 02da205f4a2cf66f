import type { Tx } from '../database';
import { API_KEY_COLUMNS, type ApiKeyRecord } from './insert-api-key';

/** The tenant's API keys (revoked ones too) by id, after the cursor's. */
export async function listApiKeys(
  tx: Tx,
  args: { tenantId: string; limit: number; after?: string | undefined },
): Promise<ApiKeyRecord[]> {
  const { rows } = await tx.query<ApiKeyRecord>(
    `SELECT ${API_KEY_COLUMNS} FROM api_keys
      WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2::uuid)
      ORDER BY id LIMIT $3`,
    [args.tenantId, args.after ?? null, args.limit],
  );
  return rows;
}
