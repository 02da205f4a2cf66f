import type { Tx } from '../database';
import { textArrayLiteral } from '../pg-array';

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
 * Inserts queued runs of one tenant, in one statement whatever their number. A run whose idempotency
 * key was already used for its workflow (before, or by an earlier run of the same call) is not
 * inserted: its entry names the first run instead (`created: false`). Answers in the order given.
 */
export async function insertRuns(tx: Tx, runs: readonly NewRun[]): Promise<{ id: string; created: boolean }[]> {
  const [first] = runs;
  if (!first) return [];
  const tenantId = first.tenantId;
  if (runs.some((r) => r.tenantId !== tenantId)) throw new Error('insertRuns takes the runs of one tenant');
  const column = <T>(pick: (run: NewRun) => T): T[] => runs.map(pick);
  const { rows } = await tx.query<{ id: string }>({
    name: 'aiq_insert_runs',
    text: `INSERT INTO runs (tenant_id, id, workflow_id, version, status, priority, trigger, input, idempotency_key, deadline_at,
                      slot_keys, admitted, parent_run_id, parent_scope, parent_node_id, parent_attempt, depth)
     SELECT $1, v.id, v.workflow_id, v.version, 'queued', v.priority, v.trigger, v.input, v.idempotency_key,
            to_timestamp(v.deadline_at / 1000), coalesce(v.slot_keys::text[], '{}'), coalesce(v.admitted, v.slot_keys IS NULL),
            v.parent_run_id, v.parent_scope, v.parent_node_id, v.parent_attempt, v.depth
       FROM unnest($2::uuid[], $3::uuid[], $4::int[], $5::int[], $6::jsonb[], $7::jsonb[], $8::text[], $9::double precision[],
                   $10::text[], $11::bool[], $12::uuid[], $13::text[], $14::text[], $15::int[], $16::int[])
            WITH ORDINALITY AS v(id, workflow_id, version, priority, trigger, input, idempotency_key, deadline_at,
                                 slot_keys, admitted, parent_run_id, parent_scope, parent_node_id, parent_attempt, depth, n)
      ORDER BY v.n
     ON CONFLICT (tenant_id, workflow_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
     RETURNING id`,
    values: [
      tenantId,
      column((r) => r.id),
      column((r) => r.workflowId),
      column((r) => r.version),
      column((r) => r.priority),
      column((r) => JSON.stringify(r.trigger)),
      column((r) => JSON.stringify(r.input ?? null)),
      column((r) => r.idempotencyKey ?? null),
      column((r) => r.deadlineAt ?? null),
      // None: NULL (no limit, admitted).
      column((r) => (r.slotKeys && r.slotKeys.length > 0 ? textArrayLiteral(r.slotKeys) : null)),
      column((r) => r.admitted ?? null),
      column((r) => r.parent?.runId ?? null),
      column((r) => r.parent?.scope ?? null),
      column((r) => r.parent?.nodeId ?? null),
      column((r) => r.parent?.attempt ?? null),
      column((r) => r.parent?.depth ?? 0),
    ],
  });
  const inserted = new Set(rows.map((r) => r.id));
  const repeats = runs.filter((r) => !inserted.has(r.id));
  const existing = new Map<string, string>();
  if (repeats.length > 0) {
    const found = await tx.query<{ id: string; workflow_id: string; idempotency_key: string }>(
      `SELECT r.id, r.workflow_id, r.idempotency_key FROM runs r
         JOIN unnest($2::uuid[], $3::text[]) AS k(workflow_id, idempotency_key)
           ON r.workflow_id = k.workflow_id AND r.idempotency_key = k.idempotency_key
        WHERE r.tenant_id = $1`,
      [tenantId, repeats.map((r) => r.workflowId), repeats.map((r) => r.idempotencyKey ?? null)],
    );
    for (const row of found.rows) existing.set(`${row.workflow_id}\u0000${row.idempotency_key}`, row.id);
  }
  return runs.map((run) => {
    if (inserted.has(run.id)) return { id: run.id, created: true };
    const id = existing.get(`${run.workflowId}\u0000${run.idempotencyKey ?? ''}`);
    if (id === undefined) throw new Error('idempotent run insert found neither a new nor an existing run');
    return { id, created: false };
  });
}
