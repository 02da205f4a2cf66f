import type { Tx } from '../database';

/**
 * Gives the oldest event named `name` that no step took yet to a step attempt, and returns its
 * payload; undefined when there is none. The caller holds the run's lock.
 */
export async function takeRunEvent(
  tx: Tx,
  args: { tenantId: string; runId: string; name: string; scope: string; nodeId: string; attempt: number },
): Promise<{ id: string; payload: unknown } | undefined> {
  const { rows } = await tx.query<{ id: string; payload: unknown }>({
    name: 'aiq_take_run_event',
    text: `UPDATE run_events SET scope = $4, node_id = $5, attempt = $6, taken_at = now()
            WHERE tenant_id = $1 AND run_id = $2
              AND id = (SELECT id FROM run_events
                         WHERE tenant_id = $1 AND run_id = $2 AND name = $3 AND taken_at IS NULL
                         ORDER BY received_at, id LIMIT 1)
        RETURNING id, payload`,
    values: [args.tenantId, args.runId, args.name, args.scope, args.nodeId, args.attempt],
  });
  return rows[0];
}
