import { effectiveQuotas, PLAN_QUOTAS, type Plan, type Quotas } from '@automateiq/contracts';
import type { Tx } from '../database';
import { TENANT_COLUMNS, type TenantRecord } from './get-tenant';

/** Creates a tenant on a plan (its quotas stored in full) and its fair-share queue entry. System path. */
export async function insertTenant(
  tx: Tx,
  tenant: { id: string; slug: string; name: string; plan?: Plan; quotas?: Partial<Quotas> },
): Promise<TenantRecord> {
  const plan = tenant.plan ?? 'standard';
  const quotas = effectiveQuotas(plan, { ...PLAN_QUOTAS[plan], ...tenant.quotas });
  const { rows } = await tx.query<TenantRecord>(
    `INSERT INTO tenants (id, slug, name, plan, quotas) VALUES ($1, $2, $3, $4, $5) RETURNING ${TENANT_COLUMNS}`,
    [tenant.id, tenant.slug, tenant.name, plan, JSON.stringify(quotas)],
  );
  await tx.query('INSERT INTO queue_tenants (tenant_id) VALUES ($1)', [tenant.id]);
  const row = rows[0];
  if (!row) throw new Error('INSERT INTO tenants returned no row');
  return row;
}
