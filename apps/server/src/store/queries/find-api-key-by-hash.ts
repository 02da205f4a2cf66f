import type { Tx } from '../database';

export interface ApiKeyAuthRow {
  id: string;
  tenantId: string;
  name: string;
  scopes: string[];
  expiresAt: Date | null;
  revokedAt: Date | null;
}

/** The API key with this hash, whatever its tenant. System path: authentication precedes the tenant. */
export async function findApiKeyByHash(system: Tx, keyHash: Buffer): Promise<ApiKeyAuthRow | undefined> {
  const { rows } = await system.query<ApiKeyAuthRow>(
    `SELECT id, tenant_id AS "tenantId", name, scopes, expires_at AS "expiresAt", revoked_at AS "revokedAt"
       FROM api_keys WHERE key_hash = $1`,
    [keyHash],
  );
  return rows[0];
}
