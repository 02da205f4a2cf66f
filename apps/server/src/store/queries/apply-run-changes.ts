import type { RunStatus, StepError, StepStatus } from '@automateiq/core';
import type { Tx } from '../database';
import { announcementCte, type RunAnnouncement } from './notify-run-changes';
import type { ClaimedJob } from './claim-jobs';

export type JobKind = 'step' | 'resume' | 'deadline' | 'admit' | 'timeout' | 'child';

/** One attempt of one step of a run. */
export interface AttemptKey {
  runId: string;
  scope: string;
  nodeId: string;
  attempt: number;
}

/** What an attempt came to (or, while open, where it stands). */
export interface AttemptResult {
  status: StepStatus;
  output?: unknown;
  error?: StepError | undefined;
  port?: string | undefined;
}

/** The result of one step attempt. */
export interface StepAttemptRecord extends AttemptKey, AttemptResult {
  itemCount?: number | undefined;
  concurrency?: number | undefined;
  /** Keep the output the attempt has (a wait that ends succeeds with the output it waited with). */
  keepOutput?: boolean | undefined;
}

/**
 * A new step attempt. `status` `running`: the step starts now, in the worker that takes its job (see
 * `NewJob.taken`); `succeeded` or `failed`: it already ran within this transaction, with its result.
 */
export interface NewStep extends AttemptKey, AttemptResult {
  /** Epoch ms the step started and finished, when it already ran; absent: now, as the status implies. */
  startedAt?: number | undefined;
  finishedAt?: number | undefined;
}

export interface NewJob {
  runId: string;
  kind: JobKind;
  scope: string;
  nodeId: string;
  attempt: number;
  priority: number;
  /** Epoch ms; absent: now. */
  availableAt?: number | undefined;
  /** Claimed at once by the given worker (its lease starts now), instead of waiting in the queue. */
  taken?: boolean | undefined;
}

export interface StepRef {
  runId: string;
  scope: string;
  nodeId: string;
}

export interface RunEnd {
  runId: string;
  status: Extract<RunStatus, 'succeeded' | 'failed' | 'cancelled'>;
  output?: unknown;
  error?: StepError | undefined;
}

export interface RunChanges {
  /** Results of open step attempts (an attempt that is no longer open is left as it is). */
  records: readonly StepAttemptRecord[];
  /** Open steps to cancel, with their jobs. Not of runs that end here. */
  cancels: readonly StepRef[];
  steps: readonly NewStep[];
  /** Not of runs that end here. */
  jobs: readonly NewJob[];
  /** Runs that end: final status, output or error; their open steps are cancelled, their jobs deleted. */
  ends: readonly RunEnd[];
  /** New live statuses (queued, running, waiting) of runs that do not end. */
  statuses: readonly { runId: string; status: RunStatus }[];
}

/**
 * Writes everything that advancing some runs of one tenant comes to, in one statement: step results,
 * cancellations, new steps and jobs (returning those the worker takes at once), run ends and statuses.
 * The callers hold the runs' locks. The parts touch disjoint rows (see `RunChanges`), as one statement
 * must.
 */
export async function applyRunChanges(
  tx: Tx,
  args: {
    tenantId: string;
    changes: RunChanges;
    worker?: { id: string; leaseMs: number } | undefined;
    /** Announced in the same statement (NOTIFY when it commits); nothing when the changes are empty. */
    announce?: RunAnnouncement | undefined;
  },
): Promise<ClaimedJob[]> {
  const { records: r, cancels: c, steps: s, jobs: j, ends: e, statuses: st } = args.changes;
  if ([r, c, s, j, e, st].every((part) => part.length === 0)) return [];
  const values: unknown[] = [args.tenantId];
  const $ = (value: unknown): string => `$${values.push(value)}`;
  // Only the parts that have rows are sent: a smaller statement plans faster.
  const parts: string[] = [
    `rec AS (
       SELECT * FROM unnest(${$(r.map((x) => x.runId))}::uuid[], ${$(r.map((x) => x.scope))}::text[],
                            ${$(r.map((x) => x.nodeId))}::text[], ${$(r.map((x) => x.attempt))}::int[],
                            ${$(r.map((x) => x.status))}::text[], ${$(r.map((x) => json(x.output)))}::jsonb[],
                            ${$(r.map((x) => json(x.error)))}::jsonb[], ${$(r.map((x) => x.port ?? null))}::text[],
                            ${$(r.map((x) => x.itemCount ?? null))}::int[], ${$(r.map((x) => x.concurrency ?? null))}::int[],
                            ${$(r.map((x) => x.keepOutput === true))}::bool[])
         AS v(run_id, scope, node_id, attempt, status, output, error, port, item_count, concurrency, keep_output)
     )`,
  ];
  if (r.length > 0) {
    parts.push(`recorded AS (
       UPDATE steps s SET status = v.status, output = CASE WHEN v.keep_output THEN s.output ELSE v.output END,
              error = v.error, port = v.port, item_count = v.item_count, concurrency = v.concurrency,
              started_at = coalesce(s.started_at, now()),
              finished_at = CASE WHEN v.status IN ('pending', 'running', 'waiting') THEN NULL ELSE now() END
         FROM rec v
        WHERE s.tenant_id = $1 AND s.run_id = v.run_id AND s.scope = v.scope AND s.node_id = v.node_id
          AND s.attempt = v.attempt AND s.status IN ('pending', 'running', 'waiting')
     )`);
  }
  if (c.length > 0) {
    parts.push(`can AS (
       SELECT * FROM unnest(${$(c.map((x) => x.runId))}::uuid[], ${$(c.map((x) => x.scope))}::text[],
                            ${$(c.map((x) => x.nodeId))}::text[]) AS t(run_id, scope, node_id)
     ), cancelled AS (
       UPDATE steps s SET status = 'cancelled', finished_at = now() FROM can t
        WHERE s.tenant_id = $1 AND s.run_id = t.run_id AND s.scope = t.scope AND s.node_id = t.node_id
          AND s.status IN ('pending', 'running', 'waiting')
          AND NOT EXISTS (SELECT 1 FROM rec v WHERE v.run_id = s.run_id AND v.scope = s.scope AND v.node_id = s.node_id AND v.attempt = s.attempt)
     ), cancelled_jobs AS (
       DELETE FROM jobs x USING can t
        WHERE x.tenant_id = $1 AND x.run_id = t.run_id AND x.scope = t.scope AND x.node_id = t.node_id AND x.kind <> 'deadline'
     )`);
  }
  if (s.length > 0) {
    parts.push(`new_steps AS (
       -- created_at from the clock, row by row in the order given (the order the planner made them in):
       -- steps made in one transaction (a chain of pure steps) list in the order they ran, not by name.
       INSERT INTO steps (tenant_id, run_id, scope, node_id, attempt, status, output, error, port, started_at, finished_at, created_at)
       SELECT $1, n.run_id, n.scope, n.node_id, n.attempt, n.status, n.output, n.error, n.port,
              CASE WHEN n.status IN ('running', 'succeeded', 'failed') THEN coalesce(to_timestamp(n.started_ms / 1000), now()) END,
              CASE WHEN n.status IN ('skipped', 'cancelled', 'succeeded', 'failed') THEN coalesce(to_timestamp(n.finished_ms / 1000), now()) END,
              clock_timestamp()
         FROM unnest(${$(s.map((x) => x.runId))}::uuid[], ${$(s.map((x) => x.scope))}::text[], ${$(s.map((x) => x.nodeId))}::text[],
                     ${$(s.map((x) => x.attempt))}::int[], ${$(s.map((x) => x.status))}::text[],
                     ${$(s.map((x) => json(x.output)))}::jsonb[], ${$(s.map((x) => json(x.error)))}::jsonb[],
                     ${$(s.map((x) => x.port ?? null))}::text[], ${$(s.map((x) => x.startedAt ?? null))}::double precision[],
                     ${$(s.map((x) => x.finishedAt ?? null))}::double precision[])
              AS n(run_id, scope, node_id, attempt, status, output, error, port, started_ms, finished_ms)
     )`);
  }
  if (e.length > 0) {
    parts.push(`ends AS (
       SELECT * FROM unnest(${$(e.map((x) => x.runId))}::uuid[], ${$(e.map((x) => x.status))}::text[],
                            ${$(e.map((x) => json(x.output)))}::jsonb[], ${$(e.map((x) => json(x.error)))}::jsonb[])
         AS d(run_id, status, output, error)
     ), ended AS (
       UPDATE runs x SET status = d.status, output = d.output, error = d.error, finished_at = now(),
              started_at = coalesce(x.started_at, now())
         FROM ends d WHERE x.tenant_id = $1 AND x.id = d.run_id
     ), ended_steps AS (
       UPDATE steps s SET status = 'cancelled', finished_at = now()
        WHERE s.tenant_id = $1 AND s.run_id IN (SELECT run_id FROM ends) AND s.status IN ('pending', 'running', 'waiting')
          AND NOT EXISTS (SELECT 1 FROM rec v WHERE v.run_id = s.run_id AND v.scope = s.scope AND v.node_id = s.node_id AND v.attempt = s.attempt)
     ), ended_jobs AS (
       DELETE FROM jobs x WHERE x.tenant_id = $1 AND x.run_id IN (SELECT run_id FROM ends)
     ), freed AS (
       SELECT key, count(*)::int AS n
         FROM runs r CROSS JOIN LATERAL unnest(r.slot_keys) AS key
        WHERE r.tenant_id = $1 AND r.id IN (SELECT run_id FROM ends) AND r.admitted
          AND r.status NOT IN ('succeeded', 'failed', 'cancelled')
        GROUP BY key
     ), freed_locked AS (
       SELECT cs.key FROM concurrency_slots cs WHERE cs.tenant_id = $1 AND cs.key IN (SELECT key FROM freed)
        ORDER BY cs.key FOR UPDATE
     ), released AS (
       -- Read once the slots' rows are locked, afresh (migration 0015): whether runs wait for slots.
       UPDATE concurrency_slots cs SET active = greatest(cs.active - f.n, 0)
         FROM freed f JOIN freed_locked l USING (key) WHERE cs.tenant_id = $1 AND cs.key = f.key
       RETURNING aiq_runs_await_slots($1) AS awaited
     ), admit_jobs AS (
       -- Runs waiting for the freed slots are admitted by one admit job (see admission.ts), if any wait.
       INSERT INTO jobs (tenant_id, run_id, kind, priority)
       SELECT $1, r.id, 'admit', r.priority FROM runs r
        WHERE r.tenant_id = $1 AND r.id IN (SELECT run_id FROM ends) AND r.admitted AND cardinality(r.slot_keys) > 0
          AND r.status NOT IN ('succeeded', 'failed', 'cancelled')
          AND EXISTS (SELECT 1 FROM released WHERE awaited)
        ORDER BY r.priority DESC, r.id LIMIT 1
       ON CONFLICT DO NOTHING
     ), parent_jobs AS (
       -- A sub-workflow's run that ends resumes the step of its parent run that waits for it.
       INSERT INTO jobs (tenant_id, run_id, kind, scope, node_id, attempt, priority)
       SELECT $1, r.parent_run_id, 'child', r.parent_scope, r.parent_node_id, r.parent_attempt, r.priority FROM runs r
        WHERE r.tenant_id = $1 AND r.id IN (SELECT run_id FROM ends) AND r.parent_run_id IS NOT NULL
          AND r.status NOT IN ('succeeded', 'failed', 'cancelled')
       ON CONFLICT DO NOTHING
       RETURNING 1
     )`);
  }
  if (st.length > 0) {
    parts.push(`statuses AS (
       UPDATE runs x SET status = u.status,
              started_at = CASE WHEN u.status = 'running' THEN coalesce(x.started_at, now()) ELSE x.started_at END
         FROM unnest(${$(st.map((x) => x.runId))}::uuid[], ${$(st.map((x) => x.status))}::text[]) AS u(run_id, status)
        WHERE x.tenant_id = $1 AND x.id = u.run_id
     )`);
  }
  // A sub-workflow run that ends wakes the workers for its parent's `child` job.
  if (args.announce) parts.push(announcementCte(args.announce, $, e.length > 0 ? 'parent_jobs' : undefined));
  // The announcement runs only if the main query reads it.
  const announced = args.announce ? ' CROSS JOIN announced a WHERE a.n >= 0' : '';
  const worker = j.length === 0 ? '' : $(args.worker?.id ?? null);
  const main =
    j.length === 0
      ? `SELECT NULL::text AS id, NULL::uuid AS run_id, NULL::text AS kind, NULL::text AS scope, NULL::text AS node_id,
                NULL::int AS attempt, false AS taken ${args.announce ? 'FROM announced a WHERE a.n < 0' : 'WHERE false'}`
      : `INSERT INTO jobs (tenant_id, run_id, kind, scope, node_id, attempt, priority, available_at, locked_by, claims)
         SELECT $1, q.run_id, q.kind, q.scope, q.node_id, q.attempt, q.priority,
                CASE WHEN q.taken THEN now() + ${$(args.worker?.leaseMs ?? 0)} * interval '1 millisecond'
                     ELSE coalesce(to_timestamp(q.available_at / 1000), now()) END,
                CASE WHEN q.taken THEN ${worker}::text END,
                CASE WHEN q.taken THEN 1 ELSE 0 END
           FROM unnest(${$(j.map((x) => x.runId))}::uuid[], ${$(j.map((x) => x.kind))}::text[], ${$(j.map((x) => x.scope))}::text[],
                       ${$(j.map((x) => x.nodeId))}::text[], ${$(j.map((x) => x.attempt))}::int[], ${$(j.map((x) => x.priority))}::smallint[],
                       ${$(j.map((x) => x.availableAt ?? null))}::double precision[], ${$(j.map((x) => x.taken === true))}::bool[])
                AS q(run_id, kind, scope, node_id, attempt, priority, available_at, taken)${announced}
         ON CONFLICT (tenant_id, run_id, kind, scope, node_id, attempt) DO NOTHING
         RETURNING id::text AS id, run_id, kind, scope, node_id, attempt, locked_by = ${worker}::text AS taken`;
  const { rows } = await tx.query<{
    id: string;
    run_id: string;
    kind: JobKind;
    scope: string;
    node_id: string;
    attempt: number;
    taken: boolean | null;
  }>(`WITH ${parts.join(', ')} ${main}`, values);
  return rows
    .filter((row) => row.taken === true)
    .map((row) => ({
      tenantId: args.tenantId,
      id: row.id,
      runId: row.run_id,
      kind: row.kind,
      scope: row.scope,
      nodeId: row.node_id,
      attempt: row.attempt,
      claims: 1,
    }));
}

function json(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}
