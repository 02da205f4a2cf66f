import type { Tx } from '../database';

/** The channel on which run changes are announced (read by the API's live streams, see api/run-events.ts). */
export const RUN_CHANGES_CHANNEL = 'aiq_runs';

/**
 * Runs announced per notification: an entry is about 100 bytes, so a payload stays well within
 * PostgreSQL's 8000-byte limit.
 */
export const RUNS_PER_NOTIFICATION = 50;

/**
 * Announces changed runs of one tenant on `aiq_runs`, delivered when the caller's transaction commits.
 * Payload (JSON): `{ "t": tenantId, "r": [[runId, workflowId, status, revision], ...] }` where
 * `status` is the run's status when the run itself changed (started, a new status, its end) and
 * null when only its steps did. More than `RUNS_PER_NOTIFICATION` runs are split over several
 * notifications. One statement.
 */
export async function notifyRunChanges(
  tx: Tx,
  args: {
    tenantId: string;
    runs: ReadonlyMap<string, boolean>;
    /** Also wake idle workers (NOTIFY aiq_jobs), in the same statement. */
    wakeWorkers?: boolean | undefined;
  },
): Promise<void> {
  if (args.runs.size === 0) {
    if (args.wakeWorkers) await tx.query("SELECT pg_notify('aiq_jobs', '')");
    return;
  }
  await tx.query({
    name: 'aiq_notify_run_changes',
    text: `SELECT count(pg_notify('${RUN_CHANGES_CHANNEL}', p.payload)),
            CASE WHEN $4::boolean THEN pg_notify('aiq_jobs', '') END FROM (
       SELECT json_build_object('t', $1::text, 'r', json_agg(json_build_array(
                r.id, r.workflow_id, CASE WHEN u.changed THEN r.status END, r.revision) ORDER BY r.id))::text AS payload
         FROM (SELECT id, changed, (row_number() OVER (ORDER BY id) - 1) / ${RUNS_PER_NOTIFICATION} AS chunk
                 FROM unnest($2::uuid[], $3::bool[]) AS v(id, changed)) u
         JOIN runs r ON r.tenant_id = $1 AND r.id = u.id
        GROUP BY u.chunk
     ) p`,
    values: [args.tenantId, [...args.runs.keys()], [...args.runs.values()], args.wakeWorkers ?? false],
  });
}

/** What a statement that changes runs announces when it commits (see `announcementCte`). */
export interface RunAnnouncement {
  /** Changed runs: whether the run itself changed (else only its steps), and its new status if this statement sets one. */
  runs: ReadonlyMap<string, { changed: boolean; status?: string | undefined }>;
  /** Also wake idle workers (NOTIFY aiq_jobs). */
  wakeWorkers: boolean;
}

/**
 * A CTE `announced(n)` that sends the announcement of `notifyRunChanges` (and wakes the workers) from
 * within another statement, so that a change costs no extra round trip. The statement must reference
 * `announced.n` (a CTE that nothing reads is not run). Statuses this statement sets are passed in, as the
 * statement's own snapshot still holds the old ones. `$` adds a parameter and returns its placeholder;
 * `$1` must be the tenant id. `alsoWakeIf` names a CTE of the statement: workers are also woken when it
 * returned rows (jobs the statement made that the caller could not know of).
 */
export function announcementCte(
  announcement: RunAnnouncement,
  $: (value: unknown) => string,
  alsoWakeIf?: string,
): string {
  const entries = [...announcement.runs];
  const runs =
    entries.length === 0
      ? '0'
      : `(SELECT count(pg_notify('${RUN_CHANGES_CHANNEL}', p.payload)) FROM (
           SELECT json_build_object('t', $1::text, 'r', json_agg(json_build_array(
                    r.id, r.workflow_id, CASE WHEN u.changed THEN coalesce(u.status, r.status) END, r.revision) ORDER BY r.id))::text AS payload
             FROM (SELECT id, changed, status, (row_number() OVER (ORDER BY id) - 1) / ${RUNS_PER_NOTIFICATION} AS chunk
                     FROM unnest(${$(entries.map(([id]) => id))}::uuid[], ${$(entries.map(([, e]) => e.changed))}::bool[],
                                 ${$(entries.map(([, e]) => e.status ?? null))}::text[]) AS v(id, changed, status)) u
             JOIN runs r ON r.tenant_id = $1 AND r.id = u.id
            GROUP BY u.chunk) p)`;
  const wake = announcement.wakeWorkers
    ? `(SELECT count(pg_notify('aiq_jobs', '')))`
    : alsoWakeIf
      ? `(SELECT count(pg_notify('aiq_jobs', '')) FROM (SELECT 1 FROM ${alsoWakeIf} LIMIT 1) w)`
      : '0';
  return `announced AS (SELECT ${runs} + ${wake} AS n)`;
}
