import type { Tx } from '../database';

export interface NewRun {
  tenantId: string;
  id: string;
  workflowId: string;
  version: number;
  priority: number;
  trigger: Record<string, unknown>;
  input: unknown;
  idempotencyKey?: string | undefined;
  /** Epoch ms after which the run fails with RUN_TIMEOUT. */
  deadlineAt?: number | undefined;
  /** Keys of the concurrency slots the run needs. */
  slotKeys?: readonly string[] | undefined;
  /**
   * Whether the run holds its slots. Default: when it needs none. A start that takes its slots in the
   * same transaction inserts it admitted and clears the flag when the slots are full.
   */
  admitted?: boolean | undefined;
  /** A sub-workflow's run: the parent run's step that waits for it, and the child's depth (parent's + 1). */
  parent?: { runId: string; scope: string; nodeId: string; attempt: number; depth: number } | undefined;
}

/**
 * Inserts a queued run. With an idempotency key already used for this workflow, inserts nothing and
 * returns the id of the first run instead (`created: false`).
 */
export async function insertRun(tx: Tx, run: NewRun): Promise<{ id: string; created: boolean }> {
  const { rows } = await tx.query<{ id: string }>({
    name: 'aiq_insert_run',
    text: `INSERT INTO runs (tenant_id, id, workflow_id, version, status, priority, trigger, input, idempotency_key, deadline_at,
                      slot_keys, admitted, parent_run_id, parent_scope, parent_node_id, parent_attempt, depth)
     VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7, $8, to_timestamp($9::double precision / 1000), $10, coalesce($16, cardinality($10::text[]) = 0),
             $11, $12, $13, $14, $15)
     ON CONFLICT (tenant_id, workflow_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
     RETURNING id`,
    values: [
      run.tenantId,
      run.id,
      run.workflowId,
      run.version,
      run.priority,
      JSON.stringify(run.trigger),
      JSON.stringify(run.input ?? null),
      run.idempotencyKey ?? null,
      run.deadlineAt ?? null,
      run.slotKeys ?? [],
      run.parent?.runId ?? null,
      run.parent?.scope ?? null,
      run.parent?.nodeId ?? null,
      run.parent?.attempt ?? null,
      run.parent?.depth ?? 0,
      run.admitted ?? null,
    ],
  });
  if (rows[0]) return { id: rows[0].id, created: true };
  const existing = await tx.query<{ id: string }>(
    'SELECT id FROM runs WHERE tenant_id = $1 AND workflow_id = $2 AND idempotency_key = $3',
    [run.tenantId, run.workflowId, run.idempotencyKey],
  );
  const id = existing.rows[0]?.id;
  if (id === undefined) throw new Error('idempotent run insert found neither a new nor an existing run');
  return { id, created: false };
}
