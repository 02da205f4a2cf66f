import type { Tx } from '../database';

/** Which of `paths` another workflow of the tenant has armed as a webhook. */
export async function findTakenWebhookPaths(
  tx: Tx,
  args: { tenantId: string; workflowId: string; paths: readonly string[] },
): Promise<Set<string>> {
  if (args.paths.length === 0) return new Set();
  const { rows } = await tx.query<{ path: string }>(
    `SELECT path FROM triggers
      WHERE tenant_id = $1 AND type = 'webhook' AND path = ANY($3::text[]) AND workflow_id <> $2`,
    [args.tenantId, args.workflowId, args.paths],
  );
  return new Set(rows.map((r) => r.path));
}
