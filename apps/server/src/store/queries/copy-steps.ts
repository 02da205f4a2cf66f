import type { Tx } from '../database';

/**
 * Copies every attempt of the named steps of one run into another run of the same tenant (a retry
 * keeping what its original completed): statuses, ports, outputs, errors, item counts and times stay
 * as they were, so the copies read as the original history. Returns the number of rows copied.
 */
export async function copySteps(
  tx: Tx,
  args: {
    tenantId: string;
    fromRunId: string;
    toRunId: string;
    steps: readonly { scope: string; nodeId: string }[];
  },
): Promise<number> {
  if (args.steps.length === 0) return 0;
  const { rowCount } = await tx.query(
    `INSERT INTO steps (tenant_id, run_id, scope, node_id, attempt, status, port, output, error, item_count, concurrency,
                        created_at, started_at, finished_at)
     SELECT s.tenant_id, $3, s.scope, s.node_id, s.attempt, s.status, s.port, s.output, s.error, s.item_count, s.concurrency,
            s.created_at, s.started_at, s.finished_at
       FROM steps s
       JOIN unnest($4::text[], $5::text[]) AS k(scope, node_id) ON s.scope = k.scope AND s.node_id = k.node_id
      WHERE s.tenant_id = $1 AND s.run_id = $2`,
    [args.tenantId, args.fromRunId, args.toRunId, args.steps.map((s) => s.scope), args.steps.map((s) => s.nodeId)],
  );
  return rowCount ?? 0;
}
