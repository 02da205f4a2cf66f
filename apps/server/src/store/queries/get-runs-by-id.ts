import type { Tx } from '../database';
import type { RunRow } from './get-run';

/** Some runs of one tenant without their input and output (those that exist), in id order. */
export async function getRunsById(
  tx: Tx,
  args: { tenantId: string; runIds: readonly string[] },
): Promise<Omit<RunRow, 'input' | 'output'>[]> {
  if (args.runIds.length === 0) return [];
  const { rows } = await tx.query<Omit<RunRow, 'input' | 'output'>>(
    `SELECT id, workflow_id AS "workflowId", version, status, trigger, error,
            created_at AS "createdAt", started_at AS "startedAt", finished_at AS "finishedAt"
       FROM runs WHERE tenant_id = $1 AND id = ANY($2::uuid[])
      ORDER BY id`,
    [args.tenantId, args.runIds],
  );
  return rows;
}
