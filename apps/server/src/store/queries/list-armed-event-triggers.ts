import type { Quotas } from '@automateiq/contracts';
import type { Tx } from '../database';

/** An armed `type: event` trigger of an active tenant, with the tenant's quotas. */
export interface ArmedEventTrigger {
  tenantId: string;
  workflowId: string;
  position: number;
  version: number;
  config: Record<string, unknown>;
  quotas: Quotas;
}

/** Every armed event trigger of an active tenant. System path: the event consumers serve all tenants. */
export async function listArmedEventTriggers(system: Tx): Promise<ArmedEventTrigger[]> {
  const { rows } = await system.query<ArmedEventTrigger>(
    `SELECT t.tenant_id AS "tenantId", t.workflow_id AS "workflowId", t.position, t.version, t.config, ten.quotas
       FROM triggers t JOIN tenants ten ON ten.id = t.tenant_id AND ten.status = 'active'
      WHERE t.type = 'event'
      ORDER BY t.tenant_id, t.workflow_id, t.position`,
  );
  return rows;
}
