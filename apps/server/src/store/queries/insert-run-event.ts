import type { Tx } from '../database';

/** Keeps an event delivered to a run until a step waiting for its name takes it. */
export async function insertRunEvent(
  tx: Tx,
  args: { tenantId: string; runId: string; id: string; name: string; payload: unknown },
): Promise<void> {
  await tx.query('INSERT INTO run_events (tenant_id, run_id, id, name, payload) VALUES ($1, $2, $3, $4, $5)', [
    args.tenantId,
    args.runId,
    args.id,
    args.name,
    JSON.stringify(args.payload ?? null),
  ]);
}
