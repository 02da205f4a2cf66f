import type { StepError, StepStatus } from '@automateiq/core';
import type { Tx } from '../database';

export interface StepAttemptRecord {
  runId: string;
  scope: string;
  nodeId: string;
  attempt: number;
  status: StepStatus;
  output?: unknown;
  error?: StepError | undefined;
  port?: string | undefined;
  itemCount?: number | undefined;
  concurrency?: number | undefined;
  /** Keep the output the attempt has (a wait that ends succeeds with the output it waited with). */
  keepOutput?: boolean | undefined;
}

const OPEN: readonly StepStatus[] = ['pending', 'running', 'waiting'];

/**
 * Records the results of step attempts, of any runs of one tenant, in one statement. Only an attempt
 * that is still open (pending, running or waiting) changes, so each result is recorded once.
 * Returns how many attempts changed.
 */
export async function recordStepAttempts(
  tx: Tx,
  args: { tenantId: string; records: readonly StepAttemptRecord[] },
): Promise<number> {
  if (args.records.length === 0) return 0;
  const r = args.records;
  const { rowCount } = await tx.query(
    `UPDATE steps s SET status = v.status, output = CASE WHEN v.keep_output THEN s.output ELSE v.output END, error = v.error, port = v.port,
            item_count = v.item_count, concurrency = v.concurrency,
            started_at = coalesce(s.started_at, now()),
            finished_at = CASE WHEN v.status IN ('pending', 'running', 'waiting') THEN NULL ELSE now() END
       FROM unnest($2::uuid[], $3::text[], $4::text[], $5::int[], $6::text[], $7::jsonb[], $8::jsonb[], $9::text[], $10::int[], $11::int[], $13::bool[])
            AS v(run_id, scope, node_id, attempt, status, output, error, port, item_count, concurrency, keep_output)
      WHERE s.tenant_id = $1 AND s.run_id = v.run_id AND s.scope = v.scope AND s.node_id = v.node_id
        AND s.attempt = v.attempt AND s.status = ANY($12::text[])`,
    [
      args.tenantId,
      r.map((x) => x.runId),
      r.map((x) => x.scope),
      r.map((x) => x.nodeId),
      r.map((x) => x.attempt),
      r.map((x) => x.status),
      r.map((x) => (x.output === undefined ? null : JSON.stringify(x.output))),
      r.map((x) => (x.error === undefined ? null : JSON.stringify(x.error))),
      r.map((x) => x.port ?? null),
      r.map((x) => x.itemCount ?? null),
      r.map((x) => x.concurrency ?? null),
      OPEN,
      r.map((x) => x.keepOutput === true),
    ],
  );
  return rowCount ?? 0;
}
