import type { Quotas } from '@automateiq/contracts';
import type { Tx } from '../database';

/** A webhook trigger as its route needs it, with its tenant's quotas. */
export interface WebhookRecord {
  tenantId: string;
  workflowId: string;
  version: number;
  position: number;
  config: Record<string, unknown>;
  quotas: Quotas;
}

/**
 * The armed webhook at `/hooks/<tenantSlug>/<path>` of an active tenant; undefined when there is
 * none, the tenant is suspended or unknown (the caller answers all alike). System path: the tenant is
 * known only once found.
 */
export async function findWebhook(system: Tx, args: { tenantSlug: string; path: string }): Promise<WebhookRecord | undefined> {
  const { rows } = await system.query<WebhookRecord>({
    name: 'aiq_find_webhook',
    text: `SELECT t.tenant_id AS "tenantId", t.workflow_id AS "workflowId", t.version, t.position, t.config, ten.quotas
             FROM tenants ten
             JOIN triggers t ON t.tenant_id = ten.id AND t.type = 'webhook' AND t.path = $2
            WHERE ten.slug = $1 AND ten.status = 'active'`,
    values: [args.tenantSlug, args.path],
  });
  return rows[0];
}
