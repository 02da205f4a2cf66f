import type { Tx } from '../database';

export interface ApiKeyRecord {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
}

export const API_KEY_COLUMNS = `id, name, prefix, scopes, expires_at AS "expiresAt", last_used_at AS "lastUsedAt",
  revoked_at AS "revokedAt", created_at AS "createdAt"`;

/** Stores an API key by its hash. */
export async function insertApiKey(
  tx: Tx,
  key: {
    tenantId: string;
    id: string;
    name: string;
    prefix: string;
    keyHash: Buffer;
    scopes: readonly string[];
    createdBy: string | null;
    expiresAt: Date | null;
  },
): Promise<ApiKeyRecord> {
  const { rows } = await tx.query<ApiKeyRecord>(
    `INSERT INTO api_keys (tenant_id, id, name, prefix, key_hash, scopes, created_by, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${API_KEY_COLUMNS}`,
    [key.tenantId, key.id, key.name, key.prefix, key.keyHash, key.scopes, key.createdBy, key.expiresAt],
  );
  const row = rows[0];
  if (!row) throw new Error('INSERT INTO api_keys returned no row');
  return row;
}
