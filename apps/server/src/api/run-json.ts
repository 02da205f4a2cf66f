import type { RunRow } from '../store/queries/get-run';
import type { StepAttemptRow } from '../store/queries/list-step-attempts';

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

/** A run as the API shows it (without steps). */
export function runSummaryJson(run: Omit<RunRow, 'input' | 'output'>) {
  return {
    id: run.id,
    workflowId: run.workflowId,
    version: run.version,
    status: run.status,
    trigger: run.trigger as Record<string, never>,
    error: run.error as never,
    createdAt: run.createdAt.toISOString(),
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
  };
}

/**
 * A run with its steps: one entry per node and forEach item (scope), in the order they started,
 * carrying the latest attempt's status, output and error, and every attempt in `history`.
 */
export function runJson(run: RunRow, attempts: readonly StepAttemptRow[]) {
  const steps = new Map<string, StepAttemptRow[]>();
  for (const attempt of attempts) {
    const key = `${attempt.scope}\u0000${attempt.nodeId}`;
    const list = steps.get(key);
    if (list) list.push(attempt);
    else steps.set(key, [attempt]);
  }
  return {
    ...runSummaryJson(run),
    input: run.input as never,
    output: run.output as never,
    steps: [...steps.values()].map((list) => {
      const sorted = [...list].sort((a, b) => a.attempt - b.attempt);
      const first = sorted[0] as StepAttemptRow;
      const latest = sorted[sorted.length - 1] as StepAttemptRow;
      return {
        nodeId: latest.nodeId,
        item: latest.scope === '' ? null : latest.scope,
        status: latest.status,
        port: latest.port ?? null,
        attempts: sorted.filter((a) => a.status !== 'pending' && a.status !== 'skipped').length,
        history: sorted.map((a) => ({
          attempt: a.attempt,
          status: a.status,
          startedAt: iso(a.startedAt),
          finishedAt: iso(a.finishedAt),
          error: a.error as never,
        })),
        input: null,
        output: (latest.output ?? null) as never,
        error: latest.error as never,
        startedAt: iso(first.startedAt),
        finishedAt: iso(latest.finishedAt),
      };
    }),
  };
}
