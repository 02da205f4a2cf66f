import type { Logger } from 'pino';
import type { Database } from '../store/database';
import { getRunsById } from '../store/queries/get-runs-by-id';
import type { EventStream } from './event-stream';
import type { RunChange, RunChangeListener } from './run-events';
import { runSummaryJson } from './run-json';

/** Runs whose last sent summary is remembered (to send only real changes); the oldest are forgotten. */
const REMEMBERED_RUNS = 2_000;

/**
 * Follows every run of a tenant (optionally of one workflow) for `GET /v1/stream`: the runs named by
 * announced run changes are read (through row-level security), and each whose summary differs from
 * the last one sent goes out as `run`. Step-only changes are not runs' changes and are not read.
 * Reads never overlap; runs announced during a read are read together after it.
 */
export class TenantRunFollower implements RunChangeListener {
  private stream: EventStream | undefined;
  private readonly due = new Set<string>();
  private readonly sent = new Map<string, string>();
  private reading = false;

  constructor(
    private readonly deps: { db: Database; logger: Logger; tenantId: string; workflowId?: string | undefined },
  ) {}

  start(stream: EventStream): void {
    this.stream = stream;
    this.flush();
  }

  changes(changes: readonly RunChange[]): void {
    const { workflowId } = this.deps;
    for (const change of changes) {
      if (change.status === null) continue;
      if (workflowId !== undefined && change.workflowId !== workflowId) continue;
      this.due.add(change.runId);
    }
    this.flush();
  }

  resync(): void {
    this.stream?.comment('resync: changes may have been missed while the server reconnected');
  }

  private flush(): void {
    if (!this.stream?.isOpen || this.reading || this.due.size === 0) return;
    const runIds = [...this.due];
    this.due.clear();
    this.reading = true;
    this.readAndSend(runIds)
      .catch((error: unknown) => {
        this.deps.logger.warn({ err: error, tenantId: this.deps.tenantId }, 'following runs failed; ending the stream');
        this.stream?.end();
      })
      .finally(() => {
        this.reading = false;
        this.flush();
      });
  }

  private async readAndSend(runIds: string[]): Promise<void> {
    const { db, tenantId, workflowId } = this.deps;
    const runs = await db.withTenant(tenantId, (tx) => getRunsById(tx, { tenantId, runIds }));
    const stream = this.stream;
    if (!stream?.isOpen) return;
    for (const run of runs) {
      if (workflowId !== undefined && run.workflowId !== workflowId) continue;
      const json = runSummaryJson(run);
      const text = JSON.stringify(json);
      if (this.sent.get(run.id) === text) continue;
      this.sent.delete(run.id);
      this.sent.set(run.id, text);
      if (this.sent.size > REMEMBERED_RUNS) {
        const oldest = this.sent.keys().next().value;
        if (oldest !== undefined) this.sent.delete(oldest);
      }
      stream.send('run', json);
    }
  }
}
