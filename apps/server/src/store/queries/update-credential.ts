import type { Tx } from '../database';
import { CREDENTIAL_COLUMNS, type CredentialRecord, type CredentialWrite } from './get-credential';

/** Replaces a credential's name, type and fields; undefined when it does not exist. */
export async function updateCredential(
  tx: Tx,
  credential: CredentialWrite,
): Promise<CredentialRecord | undefined> {
  const { rows } = await tx.query<CredentialRecord>(
    `UPDATE credentials SET name = $3, type = $4, public_data = $5, sealed_data = $6, secret_fields = $7,
            updated_at = now()
      WHERE tenant_id = $1 AND id = $2 RETURNING ${CREDENTIAL_COLUMNS}`,
    [credential.tenantId, credential.id, credential.name, credential.type, credential.publicData, credential.sealedData, credential.secretFields],
  );
  return rows[0];
}
