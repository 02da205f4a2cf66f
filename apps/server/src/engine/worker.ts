import { finalRunStatuses } from '@automateiq/core';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Database } from '../store/database';
import { type ClaimedJob, claimJobs } from '../store/queries/claim-jobs';
import { extendLeases } from '../store/queries/extend-leases';
import { loadRunContexts, type RunContext } from '../store/queries/load-run-contexts';
import { admitQueuedRuns } from './admission';
import { completeBatch, type JobResult } from './completion-batch';
import { CompletionBatcher, type ItemResult } from './completion-batcher';
import type { EngineObserver } from './engine-observer';
import type { StepRunner } from './step-runner';
import type { WorkflowCache } from './workflow-cache';

export interface WorkerOptions {
  db: Database;
  /** Connection string for the LISTEN connection (wake-ups and cancellations). */
  databaseUrl: string;
  workflows: WorkflowCache;
  runner: StepRunner;
  workerId: string;
  /** Steps run at once. */
  concurrency: number;
  /** Lease of a claimed job; heartbeats extend it every third of it. Default: 30s. */
  leaseMs?: number;
  /** A job claimed more often than this fails its step with WORKER_LOST. Default: 5. */
  maxClaims?: number;
  logger: Logger;
  observer?: EngineObserver | undefined;
}

interface InFlight {
  job: ClaimedJob;
  cancel: AbortController;
  /** The run as it was when the job was claimed or started inline; absent: the run is gone. */
  context?: RunContext | undefined;
  /** How many steps of this run followed one another in this worker without passing through the queue. */
  hops: number;
}

/**
 * A worker runs the next steps of runs it just advanced at once, without a trip through the queue,
 * at most this many in a row; then they queue like any other work, so that long chains share.
 */
const MAX_INLINE_HOPS = 25;

/**
 * Claims jobs from the queue and performs them, up to `concurrency` at once, and records their
 * results through group commits. Woken by NOTIFY when work arrives and by a single timer for the next
 * due job (a retry, a wait's end, a lost lease); it never polls while idle. Cancellations arrive by
 * NOTIFY and abort the run's running steps.
 */
export class Worker {
  private readonly inFlight = new Map<string, InFlight>();
  private readonly leaseMs: number;
  private readonly batcher: CompletionBatcher;
  private readonly deps: { db: Database; workflows: WorkflowCache; workerId: string; leaseMs: number };
  private listener: pg.Client | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private pumping = false;
  private pumpAgain = false;
  private stopping = false;
  private idle: (() => void) | undefined;

  constructor(private readonly options: WorkerOptions) {
    this.leaseMs = options.leaseMs ?? 30_000;
    const deps = {
      db: options.db,
      workflows: options.workflows,
      workerId: options.workerId,
      leaseMs: this.leaseMs,
      runPure: options.runner.runPure,
    };
    this.deps = deps;
    this.batcher = new CompletionBatcher({
      complete: (tenantId, items) => completeBatch(deps, tenantId, items),
    });
  }

  /** Steps being performed now. */
  get running(): number {
    return this.inFlight.size;
  }

  async start(): Promise<void> {
    await this.listen();
    this.heartbeat = setInterval(() => this.extendLeases(), Math.max(100, Math.floor(this.leaseMs / 3)));
    this.wake();
  }

  /** Stops claiming, waits up to `graceMs` for running steps, then closes. Unfinished jobs are re-claimed elsewhere when their lease ends. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.wakeTimer);
    if (this.inFlight.size > 0) {
      await Promise.race([
        new Promise<void>((resolve) => {
          this.idle = resolve;
        }),
        new Promise((resolve) => setTimeout(resolve, graceMs)),
      ]);
    }
    clearInterval(this.heartbeat);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
  }

  /** Ask the worker to look for work now. */
  wake(): void {
    if (this.stopping) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    this.pump()
      .catch((error: unknown) => {
        this.options.logger.error({ err: error }, 'claiming jobs failed');
        this.scheduleWake(Date.now() + 1_000);
      })
      .finally(() => {
        this.pumping = false;
        if (this.pumpAgain) this.wake();
      });
  }

  private async pump(): Promise<void> {
    for (;;) {
      this.pumpAgain = false;
      const free = this.options.concurrency - this.inFlight.size;
      if (free <= 0 || this.stopping) return;
      const started = performance.now();
      const { jobs, nextDue } = await claimJobs(this.options.db.system, {
        limit: free,
        leaseMs: this.leaseMs,
        workerId: this.options.workerId,
      });
      this.options.observer?.claimed?.({ jobs: jobs.length, ms: performance.now() - started });
      await this.launchClaimed(jobs);
      if (jobs.length < free) {
        // A due job that was not claimed (it became due just now, or another worker is claiming it)
        // is looked at again shortly, never in a tight loop.
        this.scheduleWake(
          Math.max(Date.now() + 5, Math.min(nextDue ?? Number.POSITIVE_INFINITY, Date.now() + 30_000)),
        );
        if (!this.pumpAgain) return;
      }
    }
  }

  /** Reads the runs of claimed steps, one transaction per tenant, and starts them. */
  private async launchClaimed(jobs: readonly ClaimedJob[]): Promise<void> {
    const byTenant = new Map<string, ClaimedJob[]>();
    for (const job of jobs) byTenant.set(job.tenantId, [...(byTenant.get(job.tenantId) ?? []), job]);
    await Promise.all(
      [...byTenant].map(async ([tenantId, claimed]) => {
        const steps = claimed.filter((j) => j.kind === 'step');
        const contexts = steps.length
          ? await this.options.db.withTenant(tenantId, (tx) =>
              loadRunContexts(tx, { tenantId, runIds: steps.map((j) => j.runId) }),
            )
          : new Map<string, RunContext>();
        for (const job of claimed) {
          this.launch({ job, cancel: new AbortController(), context: contexts.get(job.runId), hops: 0 });
        }
      }),
    );
  }

  private scheduleWake(at: number): void {
    clearTimeout(this.wakeTimer);
    this.wakeTimer = setTimeout(() => this.wake(), Math.max(0, at - Date.now()));
  }

  private launch(entry: InFlight): void {
    const { job } = entry;
    this.inFlight.set(job.id, entry);
    this.perform(entry)
      .then((outcome) => {
        for (const ended of outcome.ended)
          this.options.observer?.runEnded?.({ tenantId: job.tenantId, ...ended });
        for (const next of outcome.taken) {
          const hops = entry.hops + 1;
          this.launch({ job: next.job, cancel: new AbortController(), context: next.context, hops });
        }
        if (outcome.readyJobs > 0) this.pumpAgain = true;
      })
      .catch((error: unknown) => {
        // The job stays claimed; when its lease ends it is claimed and performed again.
        this.options.logger.error({ err: error, jobId: job.id, runId: job.runId }, 'performing a job failed');
      })
      .finally(() => {
        this.inFlight.delete(job.id);
        if (this.stopping) {
          if (this.inFlight.size === 0) this.idle?.();
        } else {
          this.wake();
        }
      });
  }

  private async perform(entry: InFlight): Promise<ItemResult> {
    const { job } = entry;
    if (job.kind === 'admit') {
      const admitted = await admitQueuedRuns(this.deps, job);
      return { recorded: true, readyJobs: admitted, ended: [], taken: [] };
    }
    const started = performance.now();
    const result = await this.resultOf(entry);
    // After a long inline chain, the next steps go through the queue and share it fairly.
    const outcome = await this.batcher.submit({
      job,
      result,
      context: entry.context,
      passSlot: entry.hops < MAX_INLINE_HOPS && !this.stopping,
    });
    this.options.observer?.stepFinished?.({ job, result, ms: performance.now() - started });
    return outcome;
  }

  private async resultOf({ job, cancel, context }: InFlight): Promise<JobResult> {
    if (job.kind === 'deadline') return { kind: 'deadline' };
    if (job.kind === 'resume') return { kind: 'resumed' };
    if (job.kind === 'child') return { kind: 'childEnded' };
    // The event a flow.waitForEvent step waits for did not come in time (a delivery deletes this job).
    if (job.kind === 'timeout')
      return { kind: 'failed', error: { code: 'TIMEOUT', message: 'the event the step waited for did not come in time', retryable: false } };
    const { workflows, runner } = this.options;
    const run = context;
    if (!run || finalRunStatuses.has(run.status)) return { kind: 'stale' };
    if (job.claims > (this.options.maxClaims ?? 5)) {
      const lost = job.claims - 1;
      return {
        kind: 'failed',
        error: {
          code: 'WORKER_LOST',
          message: `the step's worker was lost ${lost} times; it is not tried again`,
          retryable: false,
        },
      };
    }
    const workflow = await workflows.get({
      tenantId: job.tenantId,
      workflowId: run.workflowId,
      version: run.version,
    });
    this.options.observer?.stepStarted?.({ job });
    return runner.run({
      tenantId: job.tenantId,
      run,
      workflow,
      scope: job.scope,
      nodeId: job.nodeId,
      attempt: job.attempt,
      cancel: cancel.signal,
    });
  }

  private extendLeases(): void {
    const ids = [...this.inFlight.keys()];
    if (ids.length === 0) return;
    extendLeases(this.options.db.system, {
      workerId: this.options.workerId,
      jobIds: ids,
      leaseMs: this.leaseMs,
    }).catch((error: unknown) => this.options.logger.warn({ err: error }, 'extending leases failed'));
  }

  private cancelRun(runId: string): void {
    for (const entry of this.inFlight.values()) {
      if (entry.job.runId === runId) entry.cancel.abort();
    }
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.options.databaseUrl,
      application_name: 'automateiq-listen',
    });
    client.on('notification', (message) => {
      if (message.channel === 'aiq_cancel' && message.payload) this.cancelRun(message.payload);
      else this.wake();
    });
    client.on('error', (error) => {
      if (this.stopping) return;
      this.options.logger.warn({ err: error }, 'the LISTEN connection failed; reconnecting');
      client.end().catch(() => undefined);
      if (this.listener === client) this.reconnect();
    });
    await client.connect();
    await client.query('LISTEN aiq_jobs; LISTEN aiq_cancel');
    this.listener = client;
  }

  private reconnect(): void {
    if (this.stopping) return;
    this.listener = undefined;
    setTimeout(() => {
      this.listen()
        .then(() => this.wake())
        .catch(() => this.reconnect());
    }, 1_000);
  }
}
