import type { Tx } from '../database';

export interface UsageRow {
  /** Today (UTC), `YYYY-MM-DD`. */
  day: string;
  /** Runs started today (UTC), as counted against the runsPerDay quota. */
  runsToday: number;
  /** Runs queued, running or waiting. */
  runsInProgress: number;
  /** Live (not deleted) workflows. */
  workflows: number;
}

/** The tenant's metered figures now, in one statement. */
export async function getUsage(tx: Tx, tenantId: string): Promise<UsageRow> {
  const { rows } = await tx.query<UsageRow>(
    `WITH today AS (SELECT (now() AT TIME ZONE 'UTC')::date AS day)
     SELECT to_char(t.day, 'YYYY-MM-DD') AS day,
            coalesce((SELECT sum(u.runs) FROM usage_daily u WHERE u.tenant_id = $1 AND u.day = t.day), 0)::int AS "runsToday",
            (SELECT count(*) FROM runs r WHERE r.tenant_id = $1 AND r.status IN ('queued', 'running', 'waiting'))::int
              AS "runsInProgress",
            (SELECT count(*) FROM workflows w WHERE w.tenant_id = $1 AND w.deleted_at IS NULL)::int AS workflows
       FROM today t`,
    [tenantId],
  );
  const row = rows[0];
  if (!row) throw new Error('the usage query returned no row');
  return row;
}
