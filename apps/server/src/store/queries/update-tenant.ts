import type { Quotas } from '@automateiq/contracts';
import type { Tx } from '../database';
import { TENANT_COLUMNS, type TenantRecord } from './get-tenant';

/** Changes a tenant's fields that are given; returns it, or undefined when there is none. */
export async function updateTenant(
  tx: Tx,
  args: {
    tenantId: string;
    name?: string | undefined;
    status?: 'active' | 'suspended' | undefined;
    plan?: string | undefined;
    quotas?: Quotas | undefined;
    requireMfa?: boolean | undefined;
  },
): Promise<TenantRecord | undefined> {
  const { rows } = await tx.query<TenantRecord>(
    `UPDATE tenants SET name = coalesce($2, name), status = coalesce($3, status), plan = coalesce($4, plan),
            quotas = coalesce($5, quotas), require_mfa = coalesce($6, require_mfa), updated_at = now()
      WHERE id = $1 RETURNING ${TENANT_COLUMNS}`,
    [
      args.tenantId,
      args.name ?? null,
      args.status ?? null,
      args.plan ?? null,
      args.quotas === undefined ? null : JSON.stringify(args.quotas),
      args.requireMfa ?? null,
    ],
  );
  return rows[0];
}
