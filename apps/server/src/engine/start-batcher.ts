import type { StartedRun, StartRunRequest } from './run-starter';

/** Starts the runs of one tenant in one transaction; answers per request, in order (see run-starter.ts `startRuns`). */
export type StartRuns = (tenantId: string, requests: readonly StartRunRequest[]) => Promise<(StartedRun | Error)[]>;

interface Pending {
  request: StartRunRequest;
  resolve: (run: StartedRun) => void;
  reject: (error: unknown) => void;
}

/** Requests of a tenant started in one transaction at most. */
export const MAX_STARTS_PER_BATCH = 100;

/**
 * Group commit for run starts. Each tenant has at most one start transaction in flight in this
 * process; the requests that arrive meanwhile wait and go together in the next one. So a lone start
 * costs one transaction as before, while under load N starts share one transaction, one commit, one
 * wake-up of the workers and one lock of the tenant's counters instead of N that would queue on those
 * locks (and on PostgreSQL's one lock for committing a NOTIFY) one after the other.
 *
 * A batch whose transaction fails as a whole (not a refusal of one request, which only that request
 * gets) is tried again one request at a time, so that one bad request cannot fail the others.
 */
export class StartBatcher {
  private readonly queues = new Map<string, Pending[]>();

  constructor(private readonly startRuns: StartRuns) {}

  start(request: StartRunRequest): Promise<StartedRun> {
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(request.tenantId);
      if (queue) {
        queue.push({ request, resolve, reject });
        return;
      }
      // The first request opens the tenant's queue; those that arrive in the same turn of the event loop join it.
      this.queues.set(request.tenantId, [{ request, resolve, reject }]);
      setImmediate(() => void this.drain(request.tenantId));
    });
  }

  /** Starts the tenant's waiting requests, batch after batch, until none is left; then closes its queue. */
  private async drain(tenantId: string): Promise<void> {
    const queue = this.queues.get(tenantId);
    if (!queue) return;
    try {
      while (queue.length > 0) await this.startBatch(tenantId, queue.splice(0, MAX_STARTS_PER_BATCH));
    } finally {
      this.queues.delete(tenantId);
      for (const pending of queue.splice(0)) pending.reject(new Error('the start queue stopped'));
    }
  }

  private async startBatch(tenantId: string, batch: readonly Pending[]): Promise<void> {
    let answers: (StartedRun | Error)[];
    try {
      answers = await this.startRuns(tenantId, batch.map((p) => p.request));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
      for (const pending of batch) await this.startBatch(tenantId, [pending]);
      return;
    }
    for (const [i, pending] of batch.entries()) {
      const answer = answers[i];
      if (answer === undefined) pending.reject(new Error('the start batch answered nothing for this request'));
      else if (answer instanceof Error) pending.reject(answer);
      else pending.resolve(answer);
    }
  }
}
