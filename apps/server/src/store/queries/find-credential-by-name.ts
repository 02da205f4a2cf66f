import type { Tx } from '../database';
import { CREDENTIAL_COLUMNS, type CredentialRecord } from './get-credential';

/** The tenant's credential named `name` (names are unique per tenant). */
export async function findCredentialByName(
  tx: Tx,
  args: { tenantId: string; name: string },
): Promise<CredentialRecord | undefined> {
  const { rows } = await tx.query<CredentialRecord>(
    `SELECT ${CREDENTIAL_COLUMNS} FROM credentials WHERE tenant_id = $1 AND name = $2`,
    [args.tenantId, args.name],
  );
  return rows[0];
}
