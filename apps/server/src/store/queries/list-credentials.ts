import type { Tx } from '../database';
import { CREDENTIAL_COLUMNS, type CredentialRecord } from './get-credential';

/** Credentials, newest first, after the cursor id. */
export async function listCredentials(
  tx: Tx,
  args: { tenantId: string; limit: number; after?: string | undefined },
): Promise<CredentialRecord[]> {
  const { rows } = await tx.query<CredentialRecord>(
    `SELECT ${CREDENTIAL_COLUMNS} FROM credentials
      WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id < $2)
      ORDER BY id DESC LIMIT $3`,
    [args.tenantId, args.after ?? null, args.limit],
  );
  return rows;
}
