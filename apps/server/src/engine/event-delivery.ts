import { finalRunStatuses, type RunStatus } from '@automateiq/core';
import { newId } from '../lib/ids';
import type { Database, Tx } from '../store/database';
import { deleteTimeoutJob } from '../store/queries/delete-timeout-job';
import { insertRunEvent } from '../store/queries/insert-run-event';
import { loadRunsSteps } from '../store/queries/load-runs-steps';
import { lockRuns } from '../store/queries/lock-runs';
import { takeRunEvent } from '../store/queries/take-run-event';
import { withRecords } from './pure-steps';
import { decideRun } from './run-decision';
import { RunMutations } from './run-mutations';
import type { WorkflowCache } from './workflow-cache';

export interface RunEventDelivery {
  tenantId: string;
  runId: string;
  /** The event's name, as a `flow.waitForEvent` node names it. */
  name: string;
  payload: unknown;
  /** The port the step that takes it leaves by (a flow.approval decision). Default: success. */
  port?: string | undefined;
  /** Runs in the delivery's transaction once the event is kept or taken (e.g. to audit it). */
  onDelivered?: ((tx: Tx, result: Extract<RunEventResult, { kind: 'delivered' | 'kept' }>) => Promise<void>) | undefined;
}

export type RunEventResult =
  /** A step waiting for the event took it: it succeeded with the payload and the run went on. */
  | { kind: 'delivered'; eventId: string; nodeId: string }
  /** No step waits for it yet: it is kept for the first that will. */
  | { kind: 'kept'; eventId: string }
  | { kind: 'notFound' }
  | { kind: 'finished'; status: RunStatus };

/**
 * Delivers an event to a run, in one transaction under the run's lock: the event is kept in the run's
 * inbox, and the oldest untaken event of that name goes to a step that waits for it (its timeout job
 * is deleted, it succeeds with the payload as output, and what it unlocks is decided and enqueued).
 */
export async function deliverRunEvent(
  deps: { db: Database; workflows: WorkflowCache },
  delivery: RunEventDelivery,
): Promise<RunEventResult> {
  const { tenantId, runId, name } = delivery;
  return deps.db.withTenant(tenantId, async (tx) => {
    const run = (await lockRuns(tx, { tenantId, runIds: [runId] })).get(runId);
    if (!run) return { kind: 'notFound' };
    if (finalRunStatuses.has(run.status)) return { kind: 'finished', status: run.status };
    const eventId = newId();
    await insertRunEvent(tx, { tenantId, runId, id: eventId, name, payload: delivery.payload });
    const steps = (await loadRunsSteps(tx, { tenantId, runIds: [runId] })).get(runId) ?? [];
    const waiting = steps.find((s) => s.status === 'waiting' && waitsFor(s.output, name));
    if (!waiting) {
      const kept = { kind: 'kept' as const, eventId };
      await delivery.onDelivered?.(tx, kept);
      return kept;
    }
    const attempt = { runId, scope: waiting.scope, nodeId: waiting.nodeId, attempt: waiting.attempt };
    const event = await takeRunEvent(tx, { tenantId, ...attempt, name });
    if (!event) throw new Error(`the event ${eventId} kept for run ${runId} vanished`);
    await deleteTimeoutJob(tx, { tenantId, ...attempt });
    const mutations = new RunMutations();
    const record = { ...attempt, status: 'succeeded' as const, output: event.payload, port: delivery.port };
    mutations.records.push(record);
    const workflow = await deps.workflows.get({ tenantId, workflowId: run.workflowId, version: run.version }, tx);
    decideRun({
      runId,
      priority: run.priority,
      workflow: workflow.compiled,
      state: { steps: withRecords(steps, [record]) },
      currentStatus: run.status,
      mutations,
    });
    mutations.wakeWorkers = true;
    await mutations.apply(tx, { tenantId });
    const delivered = { kind: 'delivered' as const, eventId, nodeId: waiting.nodeId };
    await delivery.onDelivered?.(tx, delivered);
    return delivered;
  });
}

/** Whether a waiting step's output says it waits for the event `name` (see `eventWaitOutput`). */
function waitsFor(output: unknown, name: string): boolean {
  return typeof output === 'object' && output !== null && 'timeoutAt' in output && (output as { event?: unknown }).event === name;
}
