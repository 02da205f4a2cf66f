import type { Tx } from '../database';
import { CREDENTIAL_COLUMNS, type CredentialRecord, type CredentialWrite } from './get-credential';

/** Stores a new credential; a name the tenant uses already violates `credentials_name`. */
export async function insertCredential(
  tx: Tx,
  credential: CredentialWrite,
): Promise<CredentialRecord> {
  const { rows } = await tx.query<CredentialRecord>(
    `INSERT INTO credentials (tenant_id, id, name, type, public_data, sealed_data, secret_fields)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${CREDENTIAL_COLUMNS}`,
    [credential.tenantId, credential.id, credential.name, credential.type, credential.publicData, credential.sealedData, credential.secretFields],
  );
  const row = rows[0];
  if (!row) throw new Error('INSERT INTO credentials returned no row');
  return row;
}
