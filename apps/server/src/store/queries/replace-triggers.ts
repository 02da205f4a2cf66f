import type { Tx } from '../database';

/** A trigger as armed: what the scheduler, the webhook route and the event consumers read. */
export interface ArmedTriggerRow {
  /** Its index in the definition's `triggers`. */
  position: number;
  type: 'cron' | 'webhook' | 'event';
  /** The trigger as the definition declares it. */
  config: Record<string, unknown>;
  /** webhook: its path. */
  path: string | null;
  /** cron: its first tick. */
  nextFireAt: Date | null;
}

/**
 * Arms a workflow's triggers, those of `version`, in place of any armed before (none: disarms it).
 * A webhook path another workflow of the tenant holds fails with unique violation
 * `triggers_webhook_path`.
 */
export async function replaceTriggers(
  tx: Tx,
  args: { tenantId: string; workflowId: string; version: number; triggers: readonly ArmedTriggerRow[] },
): Promise<void> {
  await tx.query('DELETE FROM triggers WHERE tenant_id = $1 AND workflow_id = $2', [args.tenantId, args.workflowId]);
  if (args.triggers.length === 0) return;
  await tx.query(
    `INSERT INTO triggers (tenant_id, workflow_id, position, version, type, config, path, next_fire_at)
     SELECT $1, $2, t.position, $3, t.type, t.config, t.path, t.next_fire_at
       FROM unnest($4::smallint[], $5::text[], $6::jsonb[], $7::text[], $8::timestamptz[])
         AS t(position, type, config, path, next_fire_at)`,
    [
      args.tenantId,
      args.workflowId,
      args.version,
      args.triggers.map((t) => t.position),
      args.triggers.map((t) => t.type),
      args.triggers.map((t) => JSON.stringify(t.config)),
      args.triggers.map((t) => t.path),
      args.triggers.map((t) => t.nextFireAt),
    ],
  );
}
