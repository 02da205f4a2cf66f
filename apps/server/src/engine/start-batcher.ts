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
/** Start transactions of a tenant in flight at once in this process (by default). */
export const MAX_BATCHES_IN_FLIGHT = 2;

/**
 * Group commit for run starts. Each tenant has at most `MAX_BATCHES_IN_FLIGHT` start transactions in
 * flight in this process; the requests that arrive meanwhile wait and go together in the next one. So
 * a lone start costs one transaction as before, while under load N starts share one transaction, one
 * commit, one wake-up of the workers and one lock of the tenant's counters instead of N that would
 * queue on those locks (and on PostgreSQL's one lock for committing a NOTIFY) one after the other. Two
 * in flight let one batch's statements run while the other commits (measured: more than two only
 * wait on each other's locks).
 *
 * A batch whose transaction fails as a whole (not a refusal of one request, which only that request
 * gets) is tried again one request at a time, so that one bad request cannot fail the others.
 */
export class StartBatcher {
  private readonly queues = new Map<string, { waiting: Pending[]; inFlight: number }>();

  constructor(
    private readonly startRuns: StartRuns,
    /** Start transactions of one tenant in flight at once. */
    private readonly maxInFlight = MAX_BATCHES_IN_FLIGHT,
  ) {}

  start(request: StartRunRequest): Promise<StartedRun> {
    return new Promise((resolve, reject) => {
      const { tenantId } = request;
      let queue = this.queues.get(tenantId);
      if (!queue) {
        queue = { waiting: [], inFlight: 0 };
        this.queues.set(tenantId, queue);
      }
      queue.waiting.push({ request, resolve, reject });
      // The first waiting request opens a batch; those that arrive in the same turn of the event loop join it.
      if (queue.waiting.length === 1 && queue.inFlight < this.maxInFlight) setImmediate(() => this.next(tenantId));
    });
  }

  /** Starts a batch of the tenant's waiting requests if a transaction is free; the queue goes when nothing is left. */
  private next(tenantId: string): void {
    const queue = this.queues.get(tenantId);
    if (!queue) return;
    if (queue.waiting.length === 0) {
      if (queue.inFlight === 0) this.queues.delete(tenantId);
      return;
    }
    if (queue.inFlight >= this.maxInFlight) return;
    const batch = queue.waiting.splice(0, MAX_STARTS_PER_BATCH);
    queue.inFlight++;
    void this.startBatch(tenantId, batch).finally(() => {
      queue.inFlight--;
      this.next(tenantId);
    });
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
