/*
 * The messages between the main thread and a sandbox worker (`sandbox-worker.ts`). Plain data, so that
 * they cross `postMessage` by structured clone; the main thread turns outcomes into `ConnectorError`s.
 *
 * Glossary:
 * - evaluation: one run of user code in a fresh QuickJS runtime, inside a worker.
 * - stop flag: an `Int32Array` over a `SharedArrayBuffer`, one per worker; the main thread stores 1 in
 *   it to interrupt the running evaluation, the worker's QuickJS interrupt handler reads it.
 */

/** Names the code sees, in this order, as parameters of the function it is the body of. */
export const CODE_ARGUMENT_NAMES = ['input', 'steps', 'item', 'index', 'vars', 'attempt'] as const;

/** One evaluation, as sent to a worker. Limits are compiled: bytes, milliseconds, characters. */
export interface EvaluationRequest {
  /** The body of an async function whose parameters are `CODE_ARGUMENT_NAMES`. */
  code: string;
  /** The arguments as one JSON object keyed by `CODE_ARGUMENT_NAMES`. */
  argsJson: string;
  memoryLimitBytes: number;
  timeoutMs: number;
  stackSizeBytes: number;
  maxOutputChars: number;
}

/** A failure of the code itself, as `ConnectorError` fields. */
export interface CodeFailure {
  code: string;
  message: string;
  retryable: boolean;
  details?: unknown;
}

/** An error of the host, reduced to what survives `postMessage`. */
export interface HostErrorData {
  name: string;
  message: string;
  stack?: string | undefined;
}

export type EvaluationOutcome =
  /** The result's JSON text (`undefined` was already turned into `null`). */
  | { kind: 'value'; json: string }
  | { kind: 'failed'; failure: CodeFailure }
  /** The stop flag was set. */
  | { kind: 'interrupted' }
  /** The sandbox itself broke (a host exception tore through QuickJS). */
  | { kind: 'broken'; message: string };

/** What a worker reports for one evaluation. */
export interface EvaluationReport {
  outcome: EvaluationOutcome;
  /** Set when the worker's QuickJS module is in an unknown state: the worker must be replaced. */
  moduleBroken?: HostErrorData;
}

export type WorkerMessage = { kind: 'ready' } | { kind: 'done'; report: EvaluationReport };

/** `workerData` of a sandbox worker. */
export interface SandboxWorkerData {
  /** The stop flag's memory: one `Int32` at index 0, non-zero means stop. */
  stopBuffer: SharedArrayBuffer;
}

export function hostErrorData(error: unknown): HostErrorData {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: 'Error', message: String(error) };
}

/** The failure of code that ran past its deadline. */
export function codeTimeout(timeoutMs: number): CodeFailure {
  return {
    code: 'CODE_TIMEOUT',
    message: `the code ran longer than ${timeoutMs}ms`,
    retryable: false,
    details: { timeoutMs },
  };
}
