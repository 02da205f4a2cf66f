/**
 * The vocabulary of AutomateIQ, shared by every package.
 *
 * - workflow   A named, versioned definition: nodes joined by edges, plus triggers and settings.
 * - version    An immutable snapshot of a workflow's definition; a run always executes one version.
 * - node       One unit of work in a graph, of a node type (a connector such as `http.request`).
 * - edge       `from -> to`, leaving `from` by a port.
 * - port       How a step left its node: `success` (default), `error`, or the node's own ports
 *              (`true`/`false` for `flow.if`, a case name or `default` for `flow.switch`).
 * - run        One execution of a workflow version, from its trigger to a final status.
 * - scope      Where in a run a step lives: `''` is the top-level graph; `each[3]` is item 3 of the
 *              `flow.forEach` node `each`; `each[3]/inner[0]` nests deeper.
 * - step       The execution of one node in one scope of one run. It may take several attempts.
 * - attempt    One try of a step (1-based). Retries create a new attempt, never a sleeping worker.
 * - job        A row in the queue that asks a worker to perform one attempt of one step.
 * - lease      The time a worker may hold a claimed job; it is extended by heartbeats and, when it
 *              runs out, any worker may claim the job again.
 * - skip       A node none of whose incoming edges was taken is skipped, and so the skip propagates.
 * - join       A node with several incoming edges; it runs once all are settled and one was taken.
 * - planner    The pure function `plan(workflow, state) -> actions` that decides what happens next.
 */

/** Status of a run. */
export const RunStatus = {
  queued: 'queued',
  running: 'running',
  waiting: 'waiting',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
} as const;
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];

/** Status of a step (its latest attempt). */
export const StepStatus = {
  pending: 'pending',
  running: 'running',
  waiting: 'waiting',
  succeeded: 'succeeded',
  failed: 'failed',
  skipped: 'skipped',
  cancelled: 'cancelled',
} as const;
export type StepStatus = (typeof StepStatus)[keyof typeof StepStatus];

/** Step statuses after which a step never changes again. */
export const terminalStepStatuses: ReadonlySet<StepStatus> = new Set<StepStatus>([
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
]);

/** Run statuses after which a run never changes again. */
export const finalRunStatuses: ReadonlySet<RunStatus> = new Set<RunStatus>(['succeeded', 'failed', 'cancelled']);

export const Priority = { low: 'low', normal: 'normal', high: 'high' } as const;
export type Priority = (typeof Priority)[keyof typeof Priority];

/** Ports every node has. */
export const SUCCESS_PORT = 'success';
export const ERROR_PORT = 'error';

/** A failed step's error, as stored on the step and shown to users. */
export interface StepError {
  code: string;
  message: string;
  retryable: boolean;
  details?: unknown;
}

// ---------------------------------------------------------------------------------------------
// The definition, as written by people (JSON or YAML). See shared/CONTRACT.md.
// ---------------------------------------------------------------------------------------------

export interface RetryPolicyOptions {
  /** Total attempts including the first. Default: 1 (no retry). */
  attempts?: number;
  /** Default: exponential. */
  backoff?: 'exponential' | 'fixed';
  /** First retry delay, a duration such as `1s`. Default: 1s. */
  delay?: string;
  /** Upper bound of one delay. Default: 5m. */
  maxDelay?: string;
}

export interface WorkflowSettings {
  /** Whole-run timeout, a duration. */
  timeout?: string;
  /** Concurrent runs of this workflow. Default: unlimited. */
  concurrency?: number;
  priority?: Priority;
  retry?: RetryPolicyOptions;
}

export interface CronTrigger {
  type: 'cron';
  /** A cron expression: 5 fields, or 6 with seconds first (syntax and daylight saving: cron-schedule.ts). */
  schedule: string;
  /** IANA time zone the schedule's wall-clock times are read in. Default: UTC. */
  timezone?: string;
  /**
   * How late a fire may still start a run, a duration such as `5m`. A fire time missed by more (the
   * scheduler was down or behind) is skipped rather than run late. Default: 5m.
   */
  misfireWindow?: string;
}
export interface WebhookTrigger {
  type: 'webhook';
  path: string;
  respond?: 'async' | 'sync';
  secret?: { credential: string };
  contentTypes?: string[];
}
export interface EventTrigger {
  type: 'event';
  source: 'amqp' | 'nats' | 'mqtt';
  credential: string;
  queue?: string;
  subject?: string;
  topic?: string;
}
export type TriggerDefinition = CronTrigger | WebhookTrigger | EventTrigger;

export interface NodeDefinition {
  /** `^[a-z][a-z0-9_]{0,62}$`, unique in its graph. */
  id: string;
  /** A node type, e.g. `http.request`. */
  type: string;
  name?: string;
  params?: Record<string, unknown>;
  credential?: string;
  retry?: RetryPolicyOptions;
  /** Per-attempt timeout, a duration. */
  timeout?: string;
  position?: { x: number; y: number };
}

export interface EdgeDefinition {
  from: string;
  to: string;
  /** Default: `success`. */
  port?: string;
}

export interface GraphDefinition {
  nodes: NodeDefinition[];
  edges?: EdgeDefinition[];
}

export interface WorkflowDefinition extends GraphDefinition {
  name: string;
  description?: string;
  triggers?: TriggerDefinition[];
  settings?: WorkflowSettings;
}

// ---------------------------------------------------------------------------------------------
// The planner's input and output.
// ---------------------------------------------------------------------------------------------

/** The latest attempt of one step, as the planner sees it. */
export interface StepState {
  scope: string;
  nodeId: string;
  status: StepStatus;
  attempt: number;
  output?: unknown;
  error?: StepError;
  /** The port a succeeded step left by, when its node has ports of its own (`flow.if`, `flow.switch`). */
  port?: string;
  /** `flow.forEach` only: the number of items, known once the node has evaluated `items`. */
  itemCount?: number;
  /** `flow.forEach` only: how many items may run at once. */
  concurrency?: number;
}

/** Everything the planner needs to know about a run: the latest attempt of every step created so far. */
export interface RunState {
  steps: readonly StepState[];
}

export type ScopeOutcome = { status: 'succeeded'; output: unknown } | { status: 'failed'; error: StepError };

export type PlanAction =
  /** Create the step (pending) and enqueue a job for its first attempt. */
  | { kind: 'start'; scope: string; nodeId: string }
  /** Record the node as skipped in that scope. */
  | { kind: 'skip'; scope: string; nodeId: string }
  /** A `flow.forEach` node is settled by its items: succeeded with their outputs in order, or failed. */
  | { kind: 'settle'; scope: string; nodeId: string; outcome: ScopeOutcome }
  /** Cancel a step that is no longer needed (its scope finished early). */
  | { kind: 'cancel'; scope: string; nodeId: string }
  /** The run is over. The engine cancels whatever is still pending. */
  | { kind: 'finish'; outcome: ScopeOutcome };
export type PlanActionKind = PlanAction['kind'];
