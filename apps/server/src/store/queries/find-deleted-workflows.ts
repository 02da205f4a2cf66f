import type { Tx } from '../database';

/** Which of these workflows are deleted (or gone). System path: the workflows of any tenant. */
export async function findDeletedWorkflows(system: Tx, args: { workflowIds: readonly string[] }): Promise<Set<string>> {
  if (args.workflowIds.length === 0) return new Set();
  const { rows } = await system.query<{ id: string }>(
    `SELECT k.id FROM unnest($1::uuid[]) AS k(id)
      WHERE NOT EXISTS (SELECT 1 FROM workflows w WHERE w.id = k.id AND w.deleted_at IS NULL)`,
    [args.workflowIds],
  );
  return new Set(rows.map((r) => r.id));
}
