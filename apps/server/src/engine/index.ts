import { type Connector, type ConnectorLimits, createSafeHttpClient } from '@automateiq/connector-kit';
import type { Logger } from 'pino';
import type { Database } from '../store/database';
import { deliverRunEvent, type RunEventDelivery, type RunEventResult } from './event-delivery';
import { cancelRun } from './cancel-system';
import type { CredentialSource } from './credential-source';
import type { EngineObserver } from './engine-observer';
import { type RetryRunRequest, type RetryRunResult, retryRun } from './run-retry';
import { type StartedRun, type StartRunRequest, startRuns } from './run-starter';
import { StartBatcher } from './start-batcher';
import { StepRunner } from './step-runner';
import { TenantLimits } from './tenant-limits';
import { Worker } from './worker';
import { WorkflowCache } from './workflow-cache';

export type { CredentialSource, StepCredential } from './credential-source';
export type { EngineObserver } from './engine-observer';
export type { RetryRunRequest, RetryRunResult } from './run-retry';
export type { StartedRun, StartRunRequest } from './run-starter';
export { RunsPerDayExceededError } from '../tenancy/runs-per-day';
export { Worker } from './worker';

export interface EngineOptions {
  db: Database;
  /** Connection string workers use for LISTEN. */
  databaseUrl: string;
  connectors: ReadonlyMap<string, Connector>;
  logger: Logger;
  /** Hosts or CIDRs that connectors may reach although private or loopback (AIQ_EGRESS_ALLOW). */
  egressAllow?: readonly string[];
  /** Caps for code steps. Default: 64 MiB, 10 s. */
  limits?: ConnectorLimits;
  /** Nodes' credentials (the vault). Default: none; a node that names a credential fails. */
  credentials?: CredentialSource;
  observer?: EngineObserver;
  /** The URL through which an outside system delivers events to a run (`run.resumeUrl` in expressions). Default: none. */
  resumeUrl?: ((tenantId: string, runId: string) => string) | undefined;
  /** The platform's public address (AIQ_PUBLIC_URL), for links nodes send. */
  publicUrl?: string | undefined;
}

/**
 * The engine's facade: the one start path, cancellation, retry, and workers. Everything runs through
 * PostgreSQL; no state is held here that another process would need.
 */
export class Engine {
  readonly workflows: WorkflowCache;
  private readonly runner: StepRunner;
  private readonly starts: StartBatcher;

  constructor(private readonly options: EngineOptions) {
    this.workflows = new WorkflowCache({ db: options.db, registry: options.connectors });
    this.starts = new StartBatcher((tenantId, requests) =>
      startRuns({ db: options.db, workflows: this.workflows, runPure: this.runner.runPure }, tenantId, requests),
    );
    const logger = options.logger;
    const tenantLimits = new TenantLimits(options.db);
    this.runner = new StepRunner({
      connectors: options.connectors,
      http: createSafeHttpClient({ allow: [...(options.egressAllow ?? [])] }),
      limits: options.limits ?? { codeMemoryMb: 64, codeTimeoutMs: 10_000 },
      credentials: options.credentials,
      resumeUrl: options.resumeUrl,
      publicUrl: options.publicUrl,
      maxOutputBytes: (tenantId) => tenantLimits.maxPayloadBytes(tenantId),
      logger: (bindings) => {
        const child = logger.child(bindings);
        return {
          debug: (msg, data) => child.debug(data ?? {}, msg),
          info: (msg, data) => child.info(data ?? {}, msg),
          warn: (msg, data) => child.warn(data ?? {}, msg),
          error: (msg, data) => child.error(data ?? {}, msg),
        };
      },
    });
  }

  /** The node types this engine runs. */
  get connectors(): ReadonlyMap<string, Connector> {
    return this.options.connectors;
  }

  /**
   * Starts a run through the one start path; concurrent starts of a tenant share a transaction (see
   * start-batcher.ts). Rejects with `WorkflowNotFoundError` or `RunsPerDayExceededError` when refused.
   */
  startRun(request: StartRunRequest): Promise<{ runId: string; created: boolean } & Partial<Pick<StartedRun, 'status' | 'ended'>>> {
    // The status after the start only of a run it created (an idempotent repeat's is read by whoever needs it).
    return this.starts.start(request).then(({ runId, created, status, ended }) =>
      created ? { runId, created, status, ...(ended ? { ended } : {}) } : { runId, created },
    );
  }

  cancelRun(args: { tenantId: string; runId: string }): Promise<boolean> {
    return cancelRun(this.options.db, args);
  }

  /** Delivers an event to a run: a step waiting for it (flow.waitForEvent) takes it, else it is kept for one. */
  deliverRunEvent(delivery: RunEventDelivery): Promise<RunEventResult> {
    return deliverRunEvent({ db: this.options.db, workflows: this.workflows }, delivery);
  }

  /** Retries a failed or cancelled run from its failed steps, as a new run that keeps the completed ones. */
  retryRun(request: RetryRunRequest): Promise<RetryRunResult> {
    return retryRun({ db: this.options.db, workflows: this.workflows }, request);
  }

  createWorker(args: { workerId: string; concurrency: number; leaseMs?: number }): Worker {
    return new Worker({
      db: this.options.db,
      databaseUrl: this.options.databaseUrl,
      workflows: this.workflows,
      runner: this.runner,
      logger: this.options.logger,
      observer: this.options.observer,
      ...args,
    });
  }
}
