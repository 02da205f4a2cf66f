import { graphOfScope, type RunStatus, type ScopeOutcome, type StepState } from '@automateiq/core';
import { newId } from '../lib/ids';
import type { AuditEntry } from '../security/audit';
import type { Database, Tx } from '../store/database';
import { recordStarts, type StartJob } from '../store/queries/record-starts';
import { takeSlots } from '../store/queries/take-slots';
import { RunsPerDayExceededError } from '../tenancy/runs-per-day';
import { slotLimits, tenantConcurrencyQuota } from './admission';
import { MAX_PURE_ROUNDS, PURE_NODE_TYPES, type RunPure, runPureSteps, withRecords } from './pure-steps';
import { PRIORITY_RANK } from './priority';
import { decideRun, type RunDecision } from './run-decision';
import { RunMutations } from './run-mutations';
import { WorkflowNotFoundError } from './workflow-not-found-error';
import type { LoadedWorkflow, WorkflowCache } from './workflow-cache';

export interface StartRunRequest {
  tenantId: string;
  workflowId: string;
  /** The version to run; `latest`: the workflow's latest, read in the start's transaction. */
  version: number | 'latest';
  /** The tenant's concurrentRuns quota when the caller knows it (null: none); else it is read. */
  tenantConcurrencyQuota?: number | null | undefined;
  input?: unknown;
  /** How the run was started, e.g. `{ type: 'manual' }`; kept on the run and readable as `trigger`. */
  trigger: Record<string, unknown>;
  /** A repeated key for the same workflow returns the first run instead of starting another. */
  idempotencyKey?: string | undefined;
  /**
   * The new run's id, when the caller must know it before the start (e.g. to wait for its end). An
   * idempotent repeat answers the first run's id instead. Default: a new id.
   */
  runId?: string | undefined;
  /** The start's audit record, written with the run (not on an idempotent repeat). */
  audit?: ((run: { runId: string; version: number }) => AuditEntry) | undefined;
  /**
   * Counts the run in the tenant's day, refusing it (`RunsPerDayExceededError`) beyond this runsPerDay
   * quota (null: none). Not given: the run is not counted (a sub-workflow's, for one).
   */
  runsPerDay?: { limit: number | null } | undefined;
  /** A sub-workflow's run: the parent's waiting step (a `child` job resumes it when this run ends) and the child's depth. */
  parent?: { runId: string; scope: string; nodeId: string; attempt: number; depth: number } | undefined;
  /**
   * Runs the pure steps the run starts with (and those they unlock) in the start's transaction, as a
   * worker would in its completing one, where the caller waits for the run's end anyway (a sync
   * webhook): a run of pure steps then ends in its start, with no trip through the queue. Default:
   * false (the start only records the run and queues its first steps).
   */
  runPureSteps?: boolean | undefined;
}

/** A start's outcome: the run (a new one, or the first of its idempotency key) and its status after the start. */
export interface StartedRun {
  runId: string;
  created: boolean;
  status: RunStatus;
  /** A run that ended in its start (`runPureSteps`): how, its steps as they ended, and its trigger as recorded. */
  ended?: { outcome: ScopeOutcome; steps: readonly StepState[]; trigger: Record<string, unknown> } | undefined;
}

/** A run to create: its request with the version resolved, the workflow at that version, and how it begins. */
export interface RunToCreate {
  request: StartRunRequest & { version: number };
  workflow: LoadedWorkflow;
  /** Writes the steps the run starts with (a retry's kept steps) and returns their latest attempts. */
  seed?: ((tx: Tx, runId: string) => Promise<StepState[]>) | undefined;
}

/**
 * The one start path of every trigger: starts runs of one tenant in one transaction (their rows,
 * audit records, day's count, slots, first steps and jobs commit together, in one statement per kind
 * of write whatever their number). Answers per request, in order: the started run, or the error that
 * refused it (`WorkflowNotFoundError`, `RunsPerDayExceededError`) while the others start.
 */
export async function startRuns(
  deps: { db: Database; workflows: WorkflowCache; now?: () => number; runPure?: RunPure },
  tenantId: string,
  requests: readonly StartRunRequest[],
): Promise<(StartedRun | Error)[]> {
  if (requests.some((r) => r.tenantId !== tenantId)) throw new Error('startRuns takes the requests of one tenant');
  // Generic plans: the start's statements are driven by their parameter arrays, and planning the
  // recording statement for each batch cost as much as running it (measured: about +20% starts/s).
  return deps.db.withTenant(tenantId, async (tx) => {
    const latest = await latestVersions(tx, {
      tenantId,
      workflowIds: [...new Set(requests.filter((r) => r.version === 'latest').map((r) => r.workflowId))],
    });
    const answers: (StartedRun | Error)[] = [];
    const runs: RunToCreate[] = [];
    const places: number[] = [];
    for (const [i, request] of requests.entries()) {
      const version = request.version === 'latest' ? latest.get(request.workflowId) : request.version;
      if (version === undefined) {
        answers[i] = new WorkflowNotFoundError(`workflow ${request.workflowId} does not exist`);
        continue;
      }
      places.push(i);
      runs.push({ request: { ...request, version }, workflow: await deps.workflows.get({ tenantId, workflowId: request.workflowId, version }, tx) });
    }
    const created = await createRuns(tx, { tenantId, runs, now: deps.now, runPure: deps.runPure });
    for (const [j, answer] of created.entries()) answers[places[j] ?? -1] = answer;
    return answers;
  }, { genericPlans: true });
}

/** The latest version of each live workflow named; a deleted or unknown one is missing. */
async function latestVersions(tx: Tx, args: { tenantId: string; workflowIds: readonly string[] }): Promise<Map<string, number>> {
  if (args.workflowIds.length === 0) return new Map();
  const { rows } = await tx.query<{ id: string; version: number }>({
    name: 'aiq_latest_versions',
    text: 'SELECT id, latest_version AS version FROM workflows WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND deleted_at IS NULL',
    values: [args.tenantId, args.workflowIds],
  });
  return new Map(rows.map((r) => [r.id, r.version]));
}

/**
 * Creates runs of one tenant in the caller's transaction (of that tenant): records them with their
 * day's count and audit records (`recordStarts`: those beyond the day's quota are refused and never
 * inserted; a used idempotency key answers with its first run), seeds their steps, takes their
 * concurrency slots and, for those admitted, enqueues the steps the planner starts from the seeded
 * state (default: none, a fresh run), or runs them (`runPureSteps`). A run waiting for a slot is
 * admitted later from the same seeded state (admission.ts reads it). Answers per run, in order.
 */
export async function createRuns(
  tx: Tx,
  args: {
    tenantId: string;
    runs: readonly RunToCreate[];
    now?: (() => number) | undefined;
    /** Performs the pure steps of runs that ask for it (`runPureSteps`); none: they queue. */
    runPure?: RunPure | undefined;
  },
): Promise<(StartedRun | Error)[]> {
  const { tenantId } = args;
  if (args.runs.length === 0) return [];
  const now = (args.now ?? Date.now)();
  const needsQuota = args.runs.some((r) => r.request.tenantConcurrencyQuota === undefined);
  const readQuota = needsQuota ? await tenantConcurrencyQuota(tx, tenantId) : undefined;
  const firedAt = new Date(now).toISOString();
  const planned = args.runs.map((run) => {
    const { request, workflow } = run;
    const quota = request.tenantConcurrencyQuota === undefined ? readQuota : (request.tenantConcurrencyQuota ?? undefined);
    return {
      ...run,
      trigger: { ...request.trigger, firedAt },
      priority: PRIORITY_RANK[workflow.definition.settings?.priority ?? 'normal'],
      deadlineAt: workflow.runTimeoutMs === undefined ? undefined : now + workflow.runTimeoutMs,
      limits: slotLimits({ tenantQuota: quota, workflowId: request.workflowId, workflow }),
    };
  });
  // Every run with the same one limit (the usual: the tenant's quota, or none at all): its slots are taken in the same statement.
  const [firstLimits] = planned.map((run) => run.limits);
  const [shared] = firstLimits ?? [];
  const slot =
    shared && planned.every((run) => run.limits.length === 1 && run.limits[0]?.key === shared.key && run.limits[0].limit === shared.limit)
      ? shared
      : undefined;
  const limit = planned.reduce<number | null>((min, run) => {
    const own = run.request.runsPerDay?.limit ?? null;
    return own === null ? min : min === null ? own : Math.min(min, own);
  }, null);
  const ids = planned.map((run) => run.request.runId ?? newId());
  // Admission is decided in the statement only with the one shared slot or with no limits at all.
  const first = slot !== undefined || planned.every((run) => run.limits.length === 0) ? firstSteps(planned, ids, args.runPure) : undefined;
  const { runs: recorded, steps: started } = await recordStarts(tx, {
    tenantId,
    runsPerDay: limit,
    slot,
    first,
    runs: planned.map(({ request, trigger, priority, deadlineAt, limits }, i) => {
      const id = ids[i] ?? newId();
      return {
        tenantId,
        id,
        workflowId: request.workflowId,
        version: request.version,
        priority,
        trigger,
        input: request.input ?? null,
        idempotencyKey: request.idempotencyKey,
        deadlineAt,
        slotKeys: limits.map((l) => l.key),
        // Admitted unless its slots turn out to be full (one statement fewer on the usual path).
        admitted: true,
        parent: request.parent,
        counted: request.runsPerDay !== undefined,
        audit: request.audit?.({ runId: id, version: request.version }),
      };
    }),
  });
  const answers: (StartedRun | Error)[] = [];
  const fresh: (typeof planned[number] & { runId: string; place: number; admitted: boolean | undefined })[] = [];
  for (const [i, outcome] of recorded.entries()) {
    const run = planned[i];
    const runId = ids[i];
    if (!run || runId === undefined) continue;
    if (outcome.kind === 'refused') answers[i] = new RunsPerDayExceededError(limit ?? 0);
    else if (outcome.kind === 'repeat') answers[i] = { runId: outcome.id, created: false, status: 'queued' };
    else {
      answers[i] = { runId, created: true, status: 'queued' };
      fresh.push({ ...run, runId, place: i, admitted: outcome.admitted });
    }
  }
  if (fresh.length === 0) return answers;
  if (started) {
    // The statement wrote the admitted runs' first steps and jobs and announced them: only the
    // runs left waiting for a slot are still to be marked.
    const waiting = fresh.filter((run) => run.admitted === false).map((run) => run.runId);
    if (waiting.length > 0) await markWaiting(tx, { tenantId, runIds: waiting });
    return answers;
  }

  const seeded = new Map<string, StepState[]>();
  for (const run of fresh) if (run.seed) seeded.set(run.runId, await run.seed(tx, run.runId));

  // A run limited by a concurrency limit with no free slot waits, queued, until a slot frees. Slots the
  // statement above did not take (several limits, or a slot row not made yet) are taken here.
  const rest = fresh.filter((run) => run.admitted === undefined);
  const took = await takeSlots(tx, { tenantId, runs: rest.map((run) => run.limits) });
  rest.forEach((run, i) => (run.admitted = took[i] ?? false));
  const admitted = fresh.map((run) => run.admitted === true);
  const waiting = fresh.filter((_, i) => !admitted[i]).map((run) => run.runId);
  if (waiting.length > 0) await markWaiting(tx, { tenantId, runIds: waiting });
  const mutations = new RunMutations();
  for (const [i, run] of fresh.entries()) {
    mutations.touched.add(run.runId);
    if (admitted[i]) {
      const runPure = run.request.runPureSteps ? args.runPure : undefined;
      const decision = await decideStart({ tenantId, run, steps: seeded.get(run.runId) ?? [], mutations, runPure });
      answers[run.place] = {
        runId: run.runId,
        created: true,
        status: decision.status,
        ended: decision.outcome && { outcome: decision.outcome, steps: decision.state.steps, trigger: run.trigger },
      };
    }
    if (run.deadlineAt !== undefined) {
      mutations.jobs.push({
        runId: run.runId,
        kind: 'deadline',
        scope: '',
        nodeId: '',
        attempt: 0,
        priority: run.priority,
        availableAt: run.deadlineAt,
      });
    }
  }
  mutations.wakeWorkers = true;
  await mutations.apply(tx, { tenantId });
  return answers;
}

/** Marks runs inserted admitted as waiting for their slots after all. */
async function markWaiting(tx: Tx, args: { tenantId: string; runIds: readonly string[] }): Promise<void> {
  await tx.query('UPDATE runs SET admitted = false WHERE tenant_id = $1 AND id = ANY($2::uuid[])', [args.tenantId, args.runIds]);
}

/**
 * The first steps and jobs of fresh runs, for `recordStarts` to write in its statement: when every run
 * starts the plain way (no seeded steps, no pure steps run here) and the planner only starts steps
 * (nothing finishes, skips or ends at once). Undefined otherwise: the runs start the general way.
 */
function firstSteps(
  planned: readonly (RunToCreate & { priority: number; deadlineAt: number | undefined })[],
  ids: readonly string[],
  runPure: RunPure | undefined,
): Parameters<typeof recordStarts>[1]['first'] {
  if (planned.some((run) => run.seed || (run.request.runPureSteps && runPure))) return undefined;
  const mutations = new RunMutations();
  const jobs: StartJob[] = [];
  for (const [i, run] of planned.entries()) {
    const runId = ids[i];
    if (runId === undefined) return undefined;
    const decision = decideRun({
      runId,
      priority: run.priority,
      workflow: run.workflow.compiled,
      state: { steps: [] },
      currentStatus: 'queued',
      mutations,
    });
    if (decision.outcome) return undefined;
    if (run.deadlineAt !== undefined)
      jobs.push({ runId, kind: 'deadline', scope: '', nodeId: '', priority: run.priority, availableAt: run.deadlineAt });
  }
  const plain =
    [mutations.records, mutations.cancels, mutations.ends, mutations.statuses].every((part) => part.length === 0) &&
    mutations.aborts.size === 0 &&
    mutations.steps.every((step) => step.status === 'pending' && step.attempt === 1) &&
    mutations.jobs.every((job) => job.kind === 'step' && job.attempt === 1 && !job.taken);
  if (!plain) return undefined;
  for (const job of mutations.jobs) jobs.push({ runId: job.runId, kind: 'step', scope: job.scope, nodeId: job.nodeId, priority: job.priority });
  return { steps: mutations.steps.map(({ runId, scope, nodeId }) => ({ runId, scope, nodeId })), jobs };
}

/**
 * Decides how an admitted run starts. With `runPure`, the pure steps it starts with (transform,
 * flow.if, ...) run here, in the start's transaction, round after round as they unlock more, as a
 * worker's completing transaction runs them (completion-batch.ts): a run of pure steps only ends in
 * its start. Other steps, and pure steps that did not finish, queue for the workers.
 */
async function decideStart(args: {
  tenantId: string;
  run: RunToCreate & { runId: string; priority: number; trigger: Record<string, unknown> };
  steps: StepState[];
  mutations: RunMutations;
  runPure: RunPure | undefined;
}): Promise<RunDecision> {
  const { run, mutations, runPure } = args;
  const { workflow, request } = run;
  const inline = runPure
    ? {
        capacity: Number.POSITIVE_INFINITY,
        accepts: (step: { scope: string; nodeId: string }) =>
          PURE_NODE_TYPES.has(graphOfScope(workflow.compiled, step.scope).nodes.get(step.nodeId)?.type ?? ''),
      }
    : undefined;
  const decide = (steps: StepState[], currentStatus: RunStatus): RunDecision =>
    decideRun({ runId: run.runId, priority: run.priority, workflow: workflow.compiled, state: { steps }, currentStatus, mutations, inline });
  let decision = decide(args.steps, 'queued');
  if (!runPure) return decision;
  const head = {
    id: run.runId,
    workflowId: request.workflowId,
    version: request.version,
    status: 'queued' as RunStatus,
    priority: run.priority,
    input: request.input ?? null,
    trigger: run.trigger,
    startedAt: null,
    depth: request.parent ? request.parent.depth : 0,
    revision: 0,
  };
  for (let round = 0; round < MAX_PURE_ROUNDS && !decision.outcome; round++) {
    const ran = await runPureSteps({ deps: { runPure }, tenantId: args.tenantId, run: head, workflow, decision, mutations });
    if (ran.length === 0) break;
    decision = decide(withRecords(decision.state.steps, ran), decision.status);
  }
  // What was taken and did not finish here (a retryable failure, the rounds' end) queues for the workers.
  for (const job of mutations.jobs) {
    if (job.runId !== run.runId || !job.taken) continue;
    job.taken = false;
    const step = mutations.steps.find((s) => s.runId === run.runId && s.scope === job.scope && s.nodeId === job.nodeId && s.attempt === job.attempt);
    if (step?.status === 'running') step.status = 'pending';
  }
  return decision;
}

/** `createRuns` of one run: its outcome, or its refusal thrown. */
export async function createRun(
  tx: Tx,
  args: RunToCreate & { now?: (() => number) | undefined },
): Promise<StartedRun> {
  const [answer] = await createRuns(tx, { tenantId: args.request.tenantId, runs: [args], now: args.now });
  if (answer === undefined) throw new Error('createRuns answered nothing');
  if (answer instanceof Error) throw answer;
  return answer;
}
