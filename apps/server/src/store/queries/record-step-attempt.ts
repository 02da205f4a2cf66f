import type { StepError, StepStatus } from '@automateiq/core';
import type { Tx } from '../database';

export interface StepAttemptResult {
  status: StepStatus;
  output?: unknown;
  error?: StepError | undefined;
  port?: string | undefined;
  itemCount?: number | undefined;
  concurrency?: number | undefined;
}

/**
 * Records the result of one step attempt. Only an attempt that is still open (pending, running or
 * waiting) changes, so a result is recorded once; returns whether it was.
 */
export async function recordStepAttempt(
  tx: Tx,
  args: {
    tenantId: string;
    runId: string;
    scope: string;
    nodeId: string;
    attempt: number;
    result: StepAttemptResult;
  },
): Promise<boolean> {
  const { result } = args;
  const final = result.status !== 'running' && result.status !== 'waiting' && result.status !== 'pending';
  const { rowCount } = await tx.query(
    `UPDATE steps SET status = $6, output = $7::jsonb, error = $8::jsonb, port = $9, item_count = $10, concurrency = $11,
            started_at = coalesce(started_at, now()), finished_at = CASE WHEN $12 THEN now() END
      WHERE tenant_id = $1 AND run_id = $2 AND scope = $3 AND node_id = $4 AND attempt = $5
        AND status IN ('pending', 'running', 'waiting')`,
    [
      args.tenantId,
      args.runId,
      args.scope,
      args.nodeId,
      args.attempt,
      result.status,
      result.output === undefined ? null : JSON.stringify(result.output),
      result.error === undefined ? null : JSON.stringify(result.error),
      result.port ?? null,
      result.itemCount ?? null,
      result.concurrency ?? null,
      final,
    ],
  );
  return rowCount === 1;
}
