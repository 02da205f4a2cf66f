import type { Database } from '../database';
import type { RunRow } from './get-run';
import type { StepAttemptRow } from './list-step-attempts';

interface ReadRunRow extends Omit<RunRow, 'createdAt'>, Omit<StepAttemptRow, 'status' | 'output' | 'error' | 'startedAt' | 'finishedAt'> {
  kind: 'run' | 'step';
  createdAt: Date | null;
}

/**
 * A run and every attempt of its steps (in the order they were created), as `getRun` and
 * `listStepAttempts` read them, in one round trip to PostgreSQL: one call, as a prepared statement on
 * the tenant pool, of `aiq_read_run` (migration 0010), which sets the tenant for its own implicit
 * transaction so that row-level security confines it. Undefined when the tenant has no such run.
 */
export async function getRunWithSteps(
  db: Database,
  args: { tenantId: string; runId: string },
): Promise<{ run: RunRow; steps: StepAttemptRow[] } | undefined> {
  const { rows } = await db.pool.query<ReadRunRow>({
    name: 'aiq_read_run',
    text: 'SELECT * FROM aiq_read_run($1, $2)',
    values: [args.tenantId, args.runId],
  });
  const [first, ...rest] = rows;
  if (first?.kind !== 'run') return undefined;
  const run: RunRow = {
    id: first.id,
    workflowId: first.workflowId,
    version: first.version,
    status: first.status,
    trigger: first.trigger,
    input: first.input,
    output: first.output,
    error: first.error,
    createdAt: first.createdAt as Date,
    startedAt: first.startedAt,
    finishedAt: first.finishedAt,
  };
  const steps = rest.map(
    (row): StepAttemptRow => ({
      scope: row.scope,
      nodeId: row.nodeId,
      attempt: row.attempt,
      status: row.status as StepAttemptRow['status'],
      port: row.port,
      output: row.output,
      error: row.error,
      startedAt: row.startedAt,
      finishedAt: row.finishedAt,
    }),
  );
  return { run, steps };
}
