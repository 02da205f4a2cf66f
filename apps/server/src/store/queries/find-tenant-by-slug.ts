import type { Tx } from '../database';
import type { TenantRow } from './insert-tenant';

/** The tenant with that slug. System path: a slug is how a caller names a tenant before it is known. */
export async function findTenantBySlug(tx: Tx, slug: string): Promise<TenantRow | undefined> {
  const { rows } = await tx.query<TenantRow>('SELECT id, slug, name, status FROM tenants WHERE slug = $1', [
    slug,
  ]);
  return rows[0];
}
