import type { Quotas } from '@automateiq/contracts';
import type { Tx } from '../database';

/** An armed cron trigger whose next tick is due, locked for this scheduler. */
export interface DueTick {
  tenantId: string;
  workflowId: string;
  position: number;
  version: number;
  config: Record<string, unknown>;
  nextFireAt: Date;
  quotas: Quotas;
}

/**
 * Locks up to `limit` cron triggers of active tenants whose next tick is at or before `now`, oldest
 * first, skipping those another scheduler holds: each due tick is handled by one scheduler at a time.
 * System path (the scan crosses tenants); the locks last until the caller's transaction ends.
 */
export async function claimDueTicks(system: Tx, args: { now: Date; limit: number }): Promise<DueTick[]> {
  const { rows } = await system.query<DueTick>({
    name: 'aiq_claim_due_ticks',
    text: `SELECT t.tenant_id AS "tenantId", t.workflow_id AS "workflowId", t.position, t.version, t.config,
                  t.next_fire_at AS "nextFireAt", ten.quotas
             FROM triggers t
             JOIN tenants ten ON ten.id = t.tenant_id AND ten.status = 'active'
            WHERE t.type = 'cron' AND t.next_fire_at <= $1
            ORDER BY t.next_fire_at
            LIMIT $2
              FOR UPDATE OF t SKIP LOCKED`,
    values: [args.now, args.limit],
  });
  return rows;
}
