import type { Tx } from '../database';

/** Deletes a credential; its name, or undefined when it did not exist. */
export async function deleteCredential(
  tx: Tx,
  args: { tenantId: string; credentialId: string },
): Promise<string | undefined> {
  const { rows } = await tx.query<{ name: string }>(
    'DELETE FROM credentials WHERE tenant_id = $1 AND id = $2 RETURNING name',
    [args.tenantId, args.credentialId],
  );
  return rows[0]?.name;
}
