import type { Tx } from '../database';

/** Moves a claimed trigger's next tick on (the tick before it fired or was skipped). */
export async function advanceTick(
  system: Tx,
  args: { tenantId: string; workflowId: string; position: number; nextFireAt: Date },
): Promise<void> {
  await system.query({
    name: 'aiq_advance_tick',
    text: 'UPDATE triggers SET next_fire_at = $4 WHERE tenant_id = $1 AND workflow_id = $2 AND position = $3',
    values: [args.tenantId, args.workflowId, args.position, args.nextFireAt],
  });
}
