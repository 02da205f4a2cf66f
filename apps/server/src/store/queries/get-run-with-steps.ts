import { type Database, uuidLiteral } from '../database';
import type { RunRow } from './get-run';
import type { StepAttemptRow } from './list-step-attempts';

/**
 * A run and every attempt of its steps (in the order they were created), as `getRun` and
 * `listStepAttempts` read them, in one round trip to PostgreSQL (`Database.readAsTenant`) instead of
 * four (BEGIN and SET, the run, the steps, COMMIT). Undefined when the tenant has no such run.
 */
export async function getRunWithSteps(
  db: Database,
  args: { tenantId: string; runId: string },
): Promise<{ run: RunRow; steps: StepAttemptRow[] } | undefined> {
  const tenant = uuidLiteral(args.tenantId);
  const run = uuidLiteral(args.runId);
  const [runs, steps] = await db.readAsTenant(args.tenantId, [
    `SELECT id, workflow_id AS "workflowId", version, status, trigger, input, output, error,
            created_at AS "createdAt", started_at AS "startedAt", finished_at AS "finishedAt"
       FROM runs WHERE tenant_id = ${tenant} AND id = ${run}`,
    `SELECT scope, node_id AS "nodeId", attempt, status, port, output, error,
            started_at AS "startedAt", finished_at AS "finishedAt"
       FROM steps WHERE tenant_id = ${tenant} AND run_id = ${run}
      ORDER BY created_at, scope, node_id, attempt`,
  ]);
  const found = runs?.[0] as RunRow | undefined;
  return found && { run: found, steps: (steps ?? []) as StepAttemptRow[] };
}
