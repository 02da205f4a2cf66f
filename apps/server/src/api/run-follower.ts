import { finalRunStatuses } from '@automateiq/core';
import type { Logger } from 'pino';
import type { Database } from '../store/database';
import { getRun } from '../store/queries/get-run';
import { listStepAttempts } from '../store/queries/list-step-attempts';
import type { EventStream } from './event-stream';
import type { RunChange, RunChangeListener } from './run-events';
import { runJson } from './run-json';

/**
 * Follows one run for `GET /v1/runs/:id/stream`: on `start`, a snapshot (`run`, then one `step` per
 * step); on each announced change, the run read again (through row-level security) and what differs
 * from what was sent: `step` (a step as `GET /v1/runs/:id` shows it), then `run` (the run without
 * its input and steps). Ends the stream after the event of the run's end, or when the run is gone. Reads never overlap: changes announced during a
 * read lead to one more read after it.
 */
export class RunFollower implements RunChangeListener {
  private stream: EventStream | undefined;
  private sentRun: string | undefined;
  private readonly sentSteps = new Map<string, string>();
  private reading = false;
  private again = false;

  constructor(private readonly deps: { db: Database; logger: Logger; tenantId: string; runId: string }) {}

  /** Sends the snapshot and follows from there. */
  start(stream: EventStream): void {
    this.stream = stream;
    this.refresh();
  }

  changes(changes: readonly RunChange[]): void {
    if (changes.some((c) => c.runId === this.deps.runId)) this.refresh();
  }

  resync(): void {
    this.refresh();
  }

  private refresh(): void {
    // Before the start, the snapshot (read after the subscription) covers every change.
    if (!this.stream?.isOpen) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    this.readAndSend()
      .catch((error: unknown) => {
        this.deps.logger.warn({ err: error, runId: this.deps.runId }, 'following a run failed; ending its stream');
        this.stream?.end();
      })
      .finally(() => {
        this.reading = false;
        if (this.again) {
          this.again = false;
          this.refresh();
        }
      });
  }

  private async readAndSend(): Promise<void> {
    const { db, tenantId, runId } = this.deps;
    const found = await db.withTenant(tenantId, async (tx) => {
      const run = await getRun(tx, { tenantId, runId });
      return run && { run, steps: await listStepAttempts(tx, { tenantId, runId }) };
    });
    const stream = this.stream;
    if (!stream?.isOpen) return;
    if (!found) {
      stream.end();
      return;
    }
    const { steps, input: _input, ...run } = runJson(found.run, found.steps);
    const runText = JSON.stringify(run);
    const sendRun = (): void => {
      if (runText === this.sentRun) return;
      this.sentRun = runText;
      stream.send('run', run);
    };
    // The snapshot opens with the run; later, the run's change comes after its steps', so that the
    // run's end is the stream's last event.
    const snapshot = this.sentRun === undefined;
    if (snapshot) sendRun();
    for (const step of steps) {
      const key = `${step.item ?? ''}\u0000${step.nodeId}`;
      const text = JSON.stringify(step);
      if (this.sentSteps.get(key) === text) continue;
      this.sentSteps.set(key, text);
      stream.send('step', step);
    }
    if (!snapshot) sendRun();
    if (finalRunStatuses.has(found.run.status)) stream.end();
  }
}
