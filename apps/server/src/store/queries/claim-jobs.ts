import type { Tx } from '../database';
import type { JobKind } from './apply-run-changes';
import { RUN_CHANGES_CHANNEL, RUNS_PER_NOTIFICATION } from './notify-run-changes';

export interface ClaimedJob {
  tenantId: string;
  id: string;
  runId: string;
  kind: JobKind;
  scope: string;
  nodeId: string;
  attempt: number;
  /** How many times this job has been claimed, this claim included (more than 1: a worker lost it). */
  claims: number;
}

/**
 * Claims up to `limit` ready jobs for a worker, across tenants: the tenants with ready work are taken
 * by their best ready priority, then least recently served first, and share the batch equally; within
 * a tenant jobs go by priority, then `available_at`. A claimed job's `available_at` becomes the end of
 * its lease. Its step is marked running and its run started, unless a completing transaction holds
 * them (the completion then sets their state); the steps and runs it starts are announced on
 * `aiq_runs` (see notify-run-changes.ts).
 * Also returns when the earliest job left in the queue is due (a retry, a wait's end, a lease), which
 * may lie in the past (a job claimed by another worker right now, or due since the claim looked).
 * System path: the queue is shared by every tenant. Cost depends on the number of tenants with work
 * and the batch, not on the backlog.
 */
export async function claimJobs(
  tx: Tx,
  args: { limit: number; leaseMs: number; workerId: string },
): Promise<{ jobs: ClaimedJob[]; nextDue: number | undefined }> {
  const { rows } = await tx.query<{ jobs: ClaimedJob[]; due: Date | null }>({
    name: 'aiq_claim_jobs',
    text: `WITH ready AS (
       SELECT q.tenant_id, top.priority, q.served_at
         FROM queue_tenants q
         CROSS JOIN LATERAL (
           SELECT j.priority FROM jobs j
            WHERE j.tenant_id = q.tenant_id AND j.available_at <= now()
            ORDER BY j.priority DESC, j.available_at LIMIT 1) top
        ORDER BY top.priority DESC, q.served_at
        LIMIT $1
     ), share AS (
       SELECT greatest(ceil($1::numeric / greatest(count(*), 1)), 1)::int AS n FROM ready
     ), picked AS (
       SELECT p.tenant_id, p.id
         FROM ready r
         CROSS JOIN LATERAL (
           SELECT j.tenant_id, j.id FROM jobs j
            WHERE j.tenant_id = r.tenant_id AND j.available_at <= now()
            ORDER BY j.priority DESC, j.available_at
            LIMIT (SELECT n FROM share)
            FOR UPDATE SKIP LOCKED) p
        LIMIT $1
     ), claimed AS (
       UPDATE jobs j SET available_at = now() + $2 * interval '1 millisecond', locked_by = $3, claims = j.claims + 1
         FROM picked p WHERE j.tenant_id = p.tenant_id AND j.id = p.id
       RETURNING j.tenant_id, j.id, j.run_id, j.kind, j.scope, j.node_id, j.attempt, j.claims
     ), served AS (
       UPDATE queue_tenants q SET served_at = clock_timestamp()
        WHERE q.tenant_id IN (SELECT tenant_id FROM queue_tenants
                               WHERE tenant_id IN (SELECT tenant_id FROM claimed) FOR UPDATE SKIP LOCKED)
     ), started_steps AS (
       UPDATE steps s SET status = 'running', started_at = now()
         FROM (SELECT s2.tenant_id, s2.run_id, s2.scope, s2.node_id, s2.attempt
                 FROM steps s2 JOIN claimed c ON c.kind = 'step' AND s2.tenant_id = c.tenant_id AND s2.run_id = c.run_id
                  AND s2.scope = c.scope AND s2.node_id = c.node_id AND s2.attempt = c.attempt
                WHERE s2.status = 'pending'
                  FOR UPDATE OF s2 SKIP LOCKED) o
        WHERE s.tenant_id = o.tenant_id AND s.run_id = o.run_id AND s.scope = o.scope AND s.node_id = o.node_id AND s.attempt = o.attempt
       RETURNING s.tenant_id, s.run_id
     ), started_runs AS (
       UPDATE runs r SET status = 'running', started_at = now()
         FROM (SELECT r2.tenant_id, r2.id FROM runs r2
                WHERE (r2.tenant_id, r2.id) IN (SELECT tenant_id, run_id FROM claimed WHERE kind = 'step')
                  AND r2.status = 'queued'
                  FOR UPDATE SKIP LOCKED) o
        WHERE r.tenant_id = o.tenant_id AND r.id = o.id
       RETURNING r.tenant_id, r.id, r.workflow_id, r.revision
     ), changed AS (
       SELECT DISTINCT ON (tenant_id, run_id) tenant_id, run_id, workflow_id, status, revision
         FROM (SELECT ss.tenant_id, ss.run_id, NULL::uuid AS workflow_id, NULL::text AS status, NULL::bigint AS revision
                 FROM started_steps ss
               UNION ALL
               SELECT sr.tenant_id, sr.id, sr.workflow_id, 'running', sr.revision FROM started_runs sr) a
        ORDER BY tenant_id, run_id, status NULLS LAST
     ), notified AS (
       -- Started steps and runs are announced as notify-run-changes.ts describes (workflow and
       -- revision are only known, and only needed, for runs that started).
       SELECT pg_notify('${RUN_CHANGES_CHANNEL}', json_build_object('t', n.tenant_id, 'r',
                json_agg(json_build_array(n.run_id, n.workflow_id, n.status, n.revision) ORDER BY n.run_id))::text) AS sent
         FROM (SELECT c.*, (row_number() OVER (PARTITION BY c.tenant_id ORDER BY c.run_id) - 1) / ${RUNS_PER_NOTIFICATION} AS chunk
                 FROM changed c) n
        GROUP BY n.tenant_id, n.chunk
     )
     SELECT (SELECT count(sent) FROM notified) AS notified, coalesce((SELECT json_agg(json_build_object(
                'tenantId', c.tenant_id, 'id', c.id::text, 'runId', c.run_id, 'kind', c.kind, 'scope', c.scope,
                'nodeId', c.node_id, 'attempt', c.attempt, 'claims', c.claims)) FROM claimed c), '[]') AS jobs,
            (SELECT j.available_at FROM jobs j
              WHERE NOT EXISTS (SELECT 1 FROM claimed c WHERE c.tenant_id = j.tenant_id AND c.id = j.id)
              ORDER BY j.available_at LIMIT 1) AS due`,
    values: [args.limit, args.leaseMs, args.workerId],
  });
  const row = rows[0];
  return { jobs: row?.jobs ?? [], nextDue: row?.due?.getTime() };
}
