import type { AuditEntry } from '../../security/audit';
import type { Tx } from '../database';
import { textArrayLiteral } from '../pg-array';
import type { SlotLimit } from './take-slots';

/** Shards of a tenant's daily run counter (see migration 0009): concurrent starts lock different rows. */
const USAGE_SHARDS = 16;

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

/** A run to start, as `recordStarts` records it. */
export interface StartRecord extends NewRun {
  /** Counted in the tenant's day (and refused beyond `runsPerDay`). */
  counted: boolean;
  /** Its audit record, written when the run is inserted. */
  audit?: AuditEntry | undefined;
}

/** A job the start enqueues with its run: a first step's (only if the run is admitted) or its deadline. */
export interface StartJob {
  runId: string;
  kind: 'step' | 'deadline';
  scope: string;
  nodeId: string;
  priority: number;
  /** Epoch ms; none: now. */
  availableAt?: number | undefined;
}

/** What `recordStarts` did, per run in the order given. */
export type StartRecorded =
  /** Inserted; `admitted` when `slot` was given and the run took one of its slots. */
  | { kind: 'created'; admitted: boolean | undefined }
  /** Its idempotency key was used before: the first run's id. */
  | { kind: 'repeat'; id: string }
  /** Beyond the day's quota: not inserted. */
  | { kind: 'refused' };

/**
 * Records starts of one tenant in one statement: reads the day's count (other transactions' uncounted
 * runs aside: the quota holds within that margin) and allows as many counted runs as `runsPerDay` has
 * room for, in order; inserts the allowed runs (a used idempotency key inserts nothing), counts those
 * inserted that count in one shard of the day, writes their audit records, and, with `slot` (one limit
 * that every run has), takes as many of its slots as there is room for, for the runs inserted in
 * order (the slot's row locked first). Without `slot`, or when its row does not exist yet, the caller
 * takes the slots (`takeSlots`). Repeats are looked up in a second statement, only when there are.
 */
export async function recordStarts(
  tx: Tx,
  args: {
    tenantId: string;
    runs: readonly StartRecord[];
    runsPerDay: number | null;
    slot?: SlotLimit | undefined;
    /**
     * The runs' first steps (pending, attempt 1) and their jobs, and deadline jobs: written in the same
     * statement, the steps and step jobs of admitted runs only, and the runs announced (NOTIFY aiq_runs,
     * and aiq_jobs when a step job was written). Taken only when admission is known here: with no
     * `slot`, or with its row there (`steps` answers whether they were written).
     */
    first?: { steps: readonly { runId: string; scope: string; nodeId: string }[]; jobs: readonly StartJob[] } | undefined;
  },
): Promise<{ runs: StartRecorded[]; steps: boolean }> {
  const { tenantId, runs } = args;
  if (runs.length === 0) return { runs: [], steps: false };
  const column = <T>(pick: (run: StartRecord) => T): T[] => runs.map(pick);
  // Each run's place among the counted runs (1, 2, ...); 0: not counted.
  let counted = 0;
  const countedRank = runs.map((r) => (r.counted ? ++counted : 0));
  const audits = runs.flatMap((r) => (r.audit ? [{ runId: r.id, entry: r.audit }] : []));
  const auditColumn = <T>(pick: (a: { runId: string; entry: AuditEntry }) => T): T[] => audits.map(pick);
  const firstColumn = <T>(pick: (f: { runId: string; scope: string; nodeId: string }) => T): T[] => (args.first?.steps ?? []).map(pick);
  const jobColumn = <T>(pick: (j: StartJob) => T): T[] => (args.first?.jobs ?? []).map(pick);
  const { rows } = await tx.query<{ inserted: string[] | null; allowed: number; taken: number | null; announced: boolean }>({
    name: 'aiq_record_starts',
    text: `WITH today AS (SELECT (now() AT TIME ZONE 'UTC')::date AS day),
     allowed AS (
       SELECT CASE WHEN $17::int IS NULL THEN $18::int
                   ELSE greatest(0, least($18::int, $17::int - coalesce((SELECT sum(runs) FROM usage_daily u, today
                                                                         WHERE u.tenant_id = $1 AND u.day = today.day), 0)))::int END AS n
     ),
     ins AS (
       INSERT INTO runs (tenant_id, id, workflow_id, version, status, priority, trigger, input, idempotency_key, deadline_at,
                         slot_keys, admitted, parent_run_id, parent_scope, parent_node_id, parent_attempt, depth)
       SELECT $1, v.id, v.workflow_id, v.version, 'queued', v.priority, v.trigger, v.input, v.idempotency_key,
              to_timestamp(v.deadline_at / 1000), coalesce(v.slot_keys::text[], '{}'), coalesce(v.admitted, v.slot_keys IS NULL),
              v.parent_run_id, v.parent_scope, v.parent_node_id, v.parent_attempt, v.depth
         FROM unnest($2::uuid[], $3::uuid[], $4::int[], $5::int[], $6::jsonb[], $7::jsonb[], $8::text[], $9::double precision[],
                     $10::text[], $11::bool[], $12::uuid[], $13::text[], $14::text[], $15::int[], $16::int[], $19::int[])
              WITH ORDINALITY AS v(id, workflow_id, version, priority, trigger, input, idempotency_key, deadline_at,
                                   slot_keys, admitted, parent_run_id, parent_scope, parent_node_id, parent_attempt, depth, counted_rank, n)
        WHERE v.counted_rank <= (SELECT n FROM allowed)
        ORDER BY v.n
       ON CONFLICT (tenant_id, workflow_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
       RETURNING id
     ),
     bump AS (
       INSERT INTO usage_daily (tenant_id, day, shard, runs)
       SELECT $1, today.day, $20, count(*) FROM ins, today WHERE ins.id = ANY($21::uuid[]) GROUP BY today.day
       ON CONFLICT (tenant_id, day, shard) DO UPDATE SET runs = usage_daily.runs + EXCLUDED.runs
     ),
     aud AS (
       INSERT INTO audit_log (tenant_id, actor_type, actor_id, actor_label, action, target_type, target_id, ip, details)
       SELECT $1, a.actor_type, a.actor_id, a.actor_label, a.action, a.target_type, a.target_id, a.ip, a.details
         FROM unnest($22::uuid[], $23::text[], $24::text[], $25::text[], $26::text[], $27::text[], $28::text[], $29::text[], $30::jsonb[])
              WITH ORDINALITY AS a(run_id, actor_type, actor_id, actor_label, action, target_type, target_id, ip, details, n)
        WHERE a.run_id IN (SELECT id FROM ins)
        ORDER BY a.n
     ),
     slot AS (SELECT active FROM concurrency_slots WHERE $31::text IS NOT NULL AND tenant_id = $1 AND key = $31 FOR UPDATE),
     took AS (
       UPDATE concurrency_slots s SET active = greatest(slot.active, least($32::int, slot.active + (SELECT count(*)::int FROM ins)))
         FROM slot WHERE s.tenant_id = $1 AND s.key = $31
       RETURNING s.active - slot.active AS taken
     ),
     -- Admitted: every run inserted with no slot, else the first ones (in order) that took one.
     adm AS (
       SELECT r.id FROM (SELECT v.id, row_number() OVER (ORDER BY v.n) AS rn
                           FROM unnest($2::uuid[]) WITH ORDINALITY AS v(id, n) WHERE v.id IN (SELECT id FROM ins)) r
        WHERE $33::bool AND ($31::text IS NULL OR r.rn <= (SELECT taken FROM took))
     ),
     first_steps AS (
       INSERT INTO steps (tenant_id, run_id, scope, node_id, attempt, status, created_at)
       SELECT $1, f.run_id, f.scope, f.node_id, 1, 'pending', clock_timestamp()
         FROM unnest($34::uuid[], $35::text[], $36::text[]) WITH ORDINALITY AS f(run_id, scope, node_id, n)
        WHERE f.run_id IN (SELECT id FROM adm)
        ORDER BY f.n
       RETURNING 1
     ),
     first_jobs AS (
       INSERT INTO jobs (tenant_id, run_id, kind, scope, node_id, attempt, priority, available_at)
       SELECT $1, j.run_id, j.kind, j.scope, j.node_id, CASE WHEN j.kind = 'step' THEN 1 ELSE 0 END, j.priority,
              coalesce(to_timestamp(j.available_at / 1000), now())
         FROM unnest($37::uuid[], $38::text[], $39::text[], $40::text[], $41::smallint[], $42::double precision[])
              AS j(run_id, kind, scope, node_id, priority, available_at)
        WHERE $33::bool AND CASE WHEN j.kind = 'step' THEN j.run_id IN (SELECT id FROM adm) ELSE j.run_id IN (SELECT id FROM ins) END
       ON CONFLICT (tenant_id, run_id, kind, scope, node_id, attempt) DO NOTHING
       RETURNING kind
     ),
     -- The announcement of the new runs (as notify-run-changes.ts words it) and the workers' wake-up.
     announced AS (
       SELECT count(pg_notify('aiq_runs', p.payload)) AS n FROM (
         SELECT json_build_object('t', $1::text, 'r', json_agg(json_build_array(a.id, a.workflow_id, 'queued', 0) ORDER BY a.id))::text AS payload
           FROM (SELECT v.id, v.workflow_id, (row_number() OVER (ORDER BY v.id) - 1) / 50 AS chunk
                   FROM unnest($2::uuid[], $3::uuid[]) AS v(id, workflow_id) WHERE v.id IN (SELECT id FROM ins)) a
          WHERE $33::bool AND ($31::text IS NULL OR EXISTS (SELECT 1 FROM took))
          GROUP BY a.chunk) p
     ),
     woken AS (SELECT count(pg_notify('aiq_jobs', '')) AS n FROM (SELECT 1 FROM first_jobs WHERE kind = 'step' LIMIT 1) w)
     SELECT (SELECT array_agg(id) FROM ins) AS inserted, (SELECT n FROM allowed) AS allowed, (SELECT taken FROM took) AS taken,
            (SELECT n FROM announced) + (SELECT n FROM woken) >= 0 AS announced`,
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
      args.runsPerDay,
      counted,
      countedRank,
      Math.floor(Math.random() * USAGE_SHARDS),
      runs.filter((r) => r.counted).map((r) => r.id),
      auditColumn((a) => a.runId),
      auditColumn((a) => a.entry.actor.type),
      auditColumn((a) => a.entry.actor.id),
      auditColumn((a) => a.entry.actor.label),
      auditColumn((a) => a.entry.action),
      auditColumn((a) => a.entry.target?.type ?? null),
      auditColumn((a) => a.entry.target?.id ?? null),
      auditColumn((a) => a.entry.ip ?? null),
      auditColumn((a) => JSON.stringify(a.entry.details ?? {})),
      args.slot?.key ?? null,
      args.slot?.limit ?? null,
      args.first !== undefined,
      firstColumn((f) => f.runId),
      firstColumn((f) => f.scope),
      firstColumn((f) => f.nodeId),
      jobColumn((j) => j.runId),
      jobColumn((j) => j.kind),
      jobColumn((j) => j.scope),
      jobColumn((j) => j.nodeId),
      jobColumn((j) => j.priority),
      jobColumn((j) => j.availableAt ?? null),
    ],
  });
  const row = rows[0];
  const inserted = new Set(row?.inserted ?? []);
  const allowed = row?.allowed ?? 0;
  let slotsLeft = row?.taken ?? undefined;
  // Not inserted: a repeat of an idempotency key (one beyond the quota too: it answers with its first run), else refused.
  const keyed = runs.filter((r) => !inserted.has(r.id) && r.idempotencyKey !== undefined);
  const existing = await firstRunsOf(tx, { tenantId, runs: keyed });
  const recorded = runs.map((run, i): StartRecorded => {
    if (inserted.has(run.id)) {
      const admitted = slotsLeft === undefined ? undefined : slotsLeft-- > 0;
      return { kind: 'created', admitted };
    }
    const first = existing.get(`${run.workflowId}\u0000${run.idempotencyKey ?? ''}`);
    if (first !== undefined) return { kind: 'repeat', id: first };
    if ((countedRank[i] ?? 0) > allowed) return { kind: 'refused' };
    throw new Error('an idempotent run insert found neither a new nor an existing run');
  });
  return { runs: recorded, steps: args.first !== undefined && (args.slot === undefined || row?.taken != null) };
}

/** The runs that used these runs' idempotency keys first. */
async function firstRunsOf(tx: Tx, args: { tenantId: string; runs: readonly StartRecord[] }): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  if (args.runs.length === 0) return found;
  const { rows } = await tx.query<{ id: string; workflow_id: string; idempotency_key: string }>(
    `SELECT r.id, r.workflow_id, r.idempotency_key FROM runs r
       JOIN unnest($2::uuid[], $3::text[]) AS k(workflow_id, idempotency_key)
         ON r.workflow_id = k.workflow_id AND r.idempotency_key = k.idempotency_key
      WHERE r.tenant_id = $1`,
    [args.tenantId, args.runs.map((r) => r.workflowId), args.runs.map((r) => r.idempotencyKey ?? null)],
  );
  for (const row of rows) found.set(`${row.workflow_id}\u0000${row.idempotency_key}`, row.id);
  return found;
}
