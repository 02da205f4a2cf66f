import { assertNever, type StepError } from '@automateiq/core';
import type { RunRow } from '../store/queries/get-run';
import type { StepTimelineRow } from '../store/queries/list-step-timeline';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One entry of `GET /v1/runs/:id/logs` (the contract's `logEntrySchema`). */
export interface LogEntry {
  at: string;
  level: LogLevel;
  nodeId: string | null;
  item: string | null;
  attempt: number | null;
  message: string;
  data?: Record<string, string | number | boolean | null>;
}

type RunHead = Pick<RunRow, 'status' | 'trigger' | 'error' | 'createdAt' | 'startedAt' | 'finishedAt'>;

/**
 * A run's log, derived from its row and its step attempts, in time order: the run queued, started and
 * ended; each attempt started, waiting, succeeded (with its port), failed (retried or not, with the
 * error's code and message), skipped or cancelled. Steps a retry kept from the run it retries are told
 * once, at the run's creation. Never carries inputs or outputs.
 */
export function runLog(run: RunHead, attempts: readonly StepTimelineRow[]): LogEntry[] {
  const entries: { at: Date; phase: number; entry: LogEntry }[] = [];
  // The run's creation opens its log and its end closes it, whatever the clocks say: steps that run
  // inside a completing transaction take their times from the worker's clock, the run from the database's.
  let phase = 0;
  const add = (at: Date, entry: Omit<LogEntry, 'at'>): void => {
    entries.push({ at, phase, entry: { at: at.toISOString(), ...entry } });
  };
  const retryOf = typeof run.trigger.retryOf === 'string' ? run.trigger.retryOf : undefined;
  const triggerType = typeof run.trigger.type === 'string' ? run.trigger.type : 'unknown';
  const runEntry = { nodeId: null, item: null, attempt: null };
  add(run.createdAt, {
    ...runEntry,
    level: 'info',
    message: retryOf ? `run queued: a retry of run ${retryOf}` : `run queued (trigger: ${triggerType})`,
    data: { trigger: triggerType, ...(retryOf ? { retryOf } : {}) },
  });
  phase = 1;
  if (run.startedAt) add(run.startedAt, { ...runEntry, level: 'info', message: 'run started' });

  const lastAttempt = new Map<string, number>();
  for (const row of attempts) {
    const key = `${row.scope}\u0000${row.nodeId}`;
    lastAttempt.set(key, Math.max(lastAttempt.get(key) ?? 0, row.attempt));
  }
  for (const row of attempts) {
    const where = { nodeId: row.nodeId, item: row.scope === '' ? null : row.scope, attempt: row.attempt };
    const name = `step ${row.nodeId}${row.scope === '' ? '' : ` (item ${row.scope})`}`;
    const of = ` (attempt ${row.attempt})`;
    if (retryOf && row.createdAt < run.createdAt) {
      add(run.createdAt, { ...where, level: 'info', message: `${name} ${row.status}${of}: kept from run ${retryOf}`, data: { kept: true } });
      continue;
    }
    if (row.startedAt && row.status !== 'skipped') {
      const items = row.itemCount === null ? '' : ` over ${row.itemCount} items`;
      add(row.startedAt, { ...where, level: 'info', message: `${name} started${of}${items}` });
    }
    const retried = (lastAttempt.get(`${row.scope}\u0000${row.nodeId}`) ?? row.attempt) > row.attempt;
    const at = row.finishedAt;
    switch (row.status) {
      case 'pending':
      case 'running':
        break;
      case 'waiting':
        if (row.startedAt) add(row.startedAt, { ...where, level: 'info', message: `${name} is waiting${of}` });
        break;
      case 'succeeded':
        if (at) {
          const port = row.port === null || row.port === 'success' ? '' : ` by port ${row.port}`;
          add(at, { ...where, level: 'info', message: `${name} succeeded${of}${port}` });
        }
        break;
      case 'failed':
        if (at) {
          add(at, {
            ...where,
            level: retried ? 'warn' : 'error',
            message: `${name} failed${of}${retried ? ', retrying' : ''}: ${messageOf(row.error)}`,
            data: errorData(row.error, retried),
          });
        }
        break;
      case 'skipped':
        if (at) add(at, { ...where, level: 'debug', message: `${name} skipped: none of its incoming edges was taken` });
        break;
      case 'cancelled':
        if (at) add(at, { ...where, level: 'warn', message: `${name} cancelled${of}` });
        break;
      default:
        assertNever(row.status, 'step status');
    }
  }

  phase = 2;
  if (run.finishedAt) {
    switch (run.status) {
      case 'succeeded':
        add(run.finishedAt, { ...runEntry, level: 'info', message: 'run succeeded' });
        break;
      case 'failed':
        add(run.finishedAt, {
          ...runEntry,
          level: 'error',
          message: `run failed: ${messageOf(run.error)}`,
          data: errorData(run.error, false),
        });
        break;
      case 'cancelled':
        add(run.finishedAt, { ...runEntry, level: 'warn', message: 'run cancelled' });
        break;
      case 'queued':
      case 'running':
      case 'waiting':
        break;
      default:
        assertNever(run.status, 'run status');
    }
  }
  // Stable: entries of the same instant keep the order they were told in.
  return entries.sort((a, b) => a.phase - b.phase || a.at.getTime() - b.at.getTime()).map((e) => e.entry);
}

function messageOf(error: StepError | null): string {
  return error?.message ?? 'no error was recorded';
}

function errorData(error: StepError | null, retried: boolean): LogEntry['data'] {
  return { code: error?.code ?? null, retryable: error?.retryable ?? false, retried };
}
