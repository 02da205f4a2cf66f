import pg from 'pg';
import type { Logger } from 'pino';
import type { Database } from '../store/database';
import { type ClaimedJob, claimJobs } from '../store/queries/claim-jobs';
import { extendLeases } from '../store/queries/extend-leases';
import { loadRunContext } from '../store/queries/load-run-context';
import { nextJobDue } from '../store/queries/next-job-due';
import { takeClaimedJob } from '../store/queries/take-claimed-job';
import {
  abandonStep,
  type Completion,
  type CompletionDeps,
  completeStep,
  completeWait,
  expireRun,
} from './completion-system';
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
}

/**
 * Claims jobs from the queue and performs them, up to `concurrency` at once. Woken by NOTIFY when
 * work arrives and by a single timer for the next due job (a retry, a wait's end, a lost lease);
 * it never polls while idle. Cancellations arrive by NOTIFY and abort the run's running steps.
 */
export class Worker {
  private readonly inFlight = new Map<string, InFlight>();
  private readonly leaseMs: number;
  private readonly deps: CompletionDeps;
  private listener: pg.Client | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private pumping = false;
  private pumpAgain = false;
  private stopping = false;
  private idle: (() => void) | undefined;

  constructor(private readonly options: WorkerOptions) {
    this.leaseMs = options.leaseMs ?? 30_000;
    this.deps = { db: options.db, workerId: options.workerId };
  }

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
        if (this.pumpAgain) {
          this.pumpAgain = false;
          this.wake();
        }
      });
  }

  private async pump(): Promise<void> {
    for (;;) {
      this.pumpAgain = false;
      const free = this.options.concurrency - this.inFlight.size;
      if (free <= 0 || this.stopping) return;
      const started = performance.now();
      const jobs = await this.options.db.withSystem('queue claim', (tx) =>
        claimJobs(tx, { limit: free, leaseMs: this.leaseMs, workerId: this.options.workerId }),
      );
      this.options.observer?.claimed?.({ jobs: jobs.length, ms: performance.now() - started });
      for (const job of jobs) this.launch(job);
      if (jobs.length < free) {
        const due = await this.options.db.withSystem('next due job', (tx) => nextJobDue(tx));
        this.scheduleWake(Math.min(due ?? Number.POSITIVE_INFINITY, Date.now() + 30_000));
        if (!this.pumpAgain) return;
      }
    }
  }

  private scheduleWake(at: number): void {
    clearTimeout(this.wakeTimer);
    this.wakeTimer = setTimeout(() => this.wake(), Math.max(0, at - Date.now()));
  }

  private launch(job: ClaimedJob): void {
    const entry: InFlight = { job, cancel: new AbortController() };
    this.inFlight.set(job.id, entry);
    this.perform(entry)
      .then((completion) => {
        if (completion?.plan?.readyJobs) this.pumpAgain = true;
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

  private async perform({ job, cancel }: InFlight): Promise<Completion | undefined> {
    const { db, workflows, runner, observer } = this.options;
    if (job.kind === 'deadline') return expireRun(this.deps, job);
    const run = await db.withTenant(job.tenantId, (tx) => loadRunContext(tx, job));
    if (!run || run.status === 'succeeded' || run.status === 'failed' || run.status === 'cancelled') {
      await db.withTenant(job.tenantId, (tx) =>
        takeClaimedJob(tx, { tenantId: job.tenantId, jobId: job.id, workerId: this.options.workerId }),
      );
      return undefined;
    }
    const workflow = await workflows.get({
      tenantId: job.tenantId,
      workflowId: run.workflowId,
      version: run.version,
    });
    if (job.kind === 'resume') return completeWait(this.deps, { job, workflow });
    if (job.claims > (this.options.maxClaims ?? 5)) return abandonStep(this.deps, { job, workflow });
    const started = performance.now();
    observer?.stepStarted?.({ job });
    const result = await runner.run({
      tenantId: job.tenantId,
      run,
      workflow,
      scope: job.scope,
      nodeId: job.nodeId,
      attempt: job.attempt,
      cancel: cancel.signal,
    });
    const completion = await completeStep(this.deps, { job, workflow, result });
    observer?.stepFinished?.({ job, result, ms: performance.now() - started, completion });
    return completion;
  }

  private extendLeases(): void {
    const ids = [...this.inFlight.keys()];
    if (ids.length === 0) return;
    this.options.db
      .withSystem('lease heartbeat', (tx) =>
        extendLeases(tx, { workerId: this.options.workerId, jobIds: ids, leaseMs: this.leaseMs }),
      )
      .catch((error: unknown) => this.options.logger.warn({ err: error }, 'extending leases failed'));
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
