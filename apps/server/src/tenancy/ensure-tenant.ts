import { newId } from '../lib/ids';
import type { Database } from '../store/database';
import { findTenantBySlug } from '../store/queries/find-tenant-by-slug';
import type { TenantRecord } from '../store/queries/get-tenant';
import { insertTenant } from '../store/queries/insert-tenant';

/** The tenant with that slug, created (named after the slug) when it does not exist yet. */
export async function ensureTenant(db: Database, slug: string): Promise<TenantRecord> {
  return db.withSystem('find or create a tenant by slug', async (tx) => {
    const found = await findTenantBySlug(tx, slug);
    if (found) return found;
    await tx.query('LOCK TABLE tenants IN SHARE ROW EXCLUSIVE MODE');
    return (await findTenantBySlug(tx, slug)) ?? insertTenant(tx, { id: newId(), slug, name: slug, plan: 'unlimited' });
  });
}
