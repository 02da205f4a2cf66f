import type { Tx } from '../database';

/** A credential as stored: non-secret fields in the clear, secret fields sealed with the tenant's data key. */
export interface CredentialRecord {
  id: string;
  name: string;
  type: string;
  publicData: Record<string, unknown>;
  sealedData: Buffer;
  /** Names of the secret fields that are set (their values are in `sealedData`). */
  secretFields: string[];
  createdAt: Date;
  updatedAt: Date;
}

/** What storing a credential writes: its fields in the clear, its secret fields sealed. */
export interface CredentialWrite {
  tenantId: string;
  id: string;
  name: string;
  type: string;
  publicData: Record<string, unknown>;
  sealedData: Buffer;
  secretFields: readonly string[];
}

export const CREDENTIAL_COLUMNS = `id, name, type, public_data AS "publicData", sealed_data AS "sealedData",
  secret_fields AS "secretFields", created_at AS "createdAt", updated_at AS "updatedAt"`;

/** A credential by id; `forUpdate` locks its row. */
export async function getCredential(
  tx: Tx,
  args: { tenantId: string; credentialId: string; forUpdate?: boolean },
): Promise<CredentialRecord | undefined> {
  const { rows } = await tx.query<CredentialRecord>(
    `SELECT ${CREDENTIAL_COLUMNS} FROM credentials WHERE tenant_id = $1 AND id = $2${args.forUpdate ? ' FOR UPDATE' : ''}`,
    [args.tenantId, args.credentialId],
  );
  return rows[0];
}
