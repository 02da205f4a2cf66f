import type { ClaimedJob } from '../store/queries/claim-jobs';
import type { Completion } from './completion-system';
import type { StepResult } from './step-runner';

/** Hooks through which metrics and logs watch the engine; every hook is optional. */
export interface EngineObserver {
  claimed?(event: { jobs: number; ms: number }): void;
  stepStarted?(event: { job: ClaimedJob }): void;
  stepFinished?(event: { job: ClaimedJob; result: StepResult; ms: number; completion: Completion }): void;
}
