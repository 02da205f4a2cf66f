import type { Quotas } from '@automateiq/contracts';
import type { Tx } from '../database';

export interface TenantRecord {
  id: string;
  slug: string;
  name: string;
  status: 'active' | 'suspended';
  plan: string;
  quotas: Quotas;
  requireMfa: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export const TENANT_COLUMNS = `id, slug, name, status, plan, quotas, require_mfa AS "requireMfa",
  created_at AS "createdAt", updated_at AS "updatedAt"`;

/** A tenant by id (as the tenant itself under RLS, or on the system path). */
export async function getTenant(tx: Tx, tenantId: string): Promise<TenantRecord | undefined> {
  const { rows } = await tx.query<TenantRecord>(`SELECT ${TENANT_COLUMNS} FROM tenants WHERE id = $1`, [tenantId]);
  return rows[0];
}
