import type { ScopeOutcome } from '@automateiq/core';
import type { ClaimedJob } from '../store/queries/claim-jobs';
import type { JobResult } from './completion-batch';

/** Hooks through which metrics and logs watch the engine; every hook is optional. */
export interface EngineObserver {
  claimed?(event: { jobs: number; ms: number }): void;
  stepStarted?(event: { job: ClaimedJob }): void;
  stepFinished?(event: { job: ClaimedJob; result: JobResult; ms: number }): void;
  runEnded?(event: { tenantId: string; runId: string; outcome: ScopeOutcome }): void;
}
