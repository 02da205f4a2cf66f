import type { Tx } from '../database';

export interface TenantRow {
  id: string;
  slug: string;
  name: string;
  status: 'active' | 'suspended';
}

/** Creates a tenant and its fair-share queue entry. System path: the tenant does not exist yet. */
export async function insertTenant(
  tx: Tx,
  tenant: { id: string; slug: string; name: string },
): Promise<TenantRow> {
  const { rows } = await tx.query<TenantRow>(
    'INSERT INTO tenants (id, slug, name) VALUES ($1, $2, $3) RETURNING id, slug, name, status',
    [tenant.id, tenant.slug, tenant.name],
  );
  await tx.query('INSERT INTO queue_tenants (tenant_id) VALUES ($1)', [tenant.id]);
  const row = rows[0];
  if (!row) throw new Error('INSERT INTO tenants returned no row');
  return row;
}
