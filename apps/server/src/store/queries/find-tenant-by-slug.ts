import type { Tx } from '../database';
import { TENANT_COLUMNS, type TenantRecord } from './get-tenant';

/** The tenant with that slug. System path: a slug is how a caller names a tenant before it is known. */
export async function findTenantBySlug(tx: Tx, slug: string): Promise<TenantRecord | undefined> {
  const { rows } = await tx.query<TenantRecord>(`SELECT ${TENANT_COLUMNS} FROM tenants WHERE slug = $1`, [slug]);
  return rows[0];
}
