import type { StepError } from '@automateiq/core';

/** Codes a step gets when it is stopped from outside. */
export const AbortCode = { timeout: 'TIMEOUT', cancelled: 'CANCELLED' } as const;
export type AbortCode = (typeof AbortCode)[keyof typeof AbortCode];

/**
 * What the engine passes to `AbortController.abort(reason)` when it stops a step.
 *
 * Convention: the engine aborts a step's signal with a reason that has `code: 'TIMEOUT'` (the step's or
 * the run's timeout elapsed) or `code: 'CANCELLED'` (the run was cancelled), and optionally a `message`.
 * `stepAbortReason()` builds one; any object of that shape (including a `ConnectorError`) is accepted.
 * `fetch` and other abortable APIs reject with the reason itself, so `toStepError` recognises it.
 */
export interface AbortReason {
  code: AbortCode;
  message?: string;
}

export interface ConnectorErrorOptions {
  code: string;
  message: string;
  /** Whether the engine may try the step again under its retry policy. */
  retryable: boolean;
  /** JSON data shown with the error (e.g. `{ status, body }`). Never secrets. */
  details?: unknown;
  cause?: unknown;
}

/**
 * The error a connector throws to fail its step. `retryable(...)` lets the engine retry under the
 * node's retry policy; `fatal(...)` fails the step at once. `code` is a stable, upper-case identifier
 * (e.g. `HTTP_404`) that workflows may branch on.
 */
export class ConnectorError extends Error {
  override readonly name = 'ConnectorError';
  readonly code: string;
  readonly retryable: boolean;
  readonly details?: unknown;

  constructor(options: ConnectorErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.retryable = options.retryable;
    if (options.details !== undefined) this.details = options.details;
  }

  /** A failure that may succeed when tried again (network, 5xx, rate limit, timeout). */
  static retryable(
    code: string,
    message: string,
    details?: unknown,
    options?: { cause?: unknown },
  ): ConnectorError {
    return new ConnectorError({ code, message, retryable: true, details, cause: options?.cause });
  }

  /** A failure that trying again cannot fix (bad input, 4xx, refused by policy). */
  static fatal(
    code: string,
    message: string,
    details?: unknown,
    options?: { cause?: unknown },
  ): ConnectorError {
    return new ConnectorError({ code, message, retryable: false, details, cause: options?.cause });
  }

  /** The step's error as stored and shown: `{ code, message, retryable, details? }`. */
  toStepError(): StepError {
    const error: StepError = { code: this.code, message: this.message, retryable: this.retryable };
    if (this.details !== undefined) error.details = this.details;
    return error;
  }
}

/** An abort reason for the engine to pass to `AbortController.abort()`; see `AbortReason`. */
export function stepAbortReason(code: AbortCode, message?: string): ConnectorError {
  return code === AbortCode.timeout
    ? ConnectorError.retryable(code, message ?? 'the step timed out')
    : ConnectorError.fatal(code, message ?? 'the run was cancelled');
}

/** Whether `value` is an abort reason (`{ code: 'TIMEOUT' | 'CANCELLED' }`). */
export function isAbortReason(value: unknown): value is AbortReason {
  if (typeof value !== 'object' || value === null || !('code' in value)) return false;
  if (value.code !== AbortCode.timeout && value.code !== AbortCode.cancelled) return false;
  return !('message' in value) || value.message === undefined || typeof value.message === 'string';
}

/** The step error of an abort: `TIMEOUT` is retryable (the retry policy decides), `CANCELLED` is not. */
function abortStepError(code: AbortCode, message?: string): StepError {
  const timeout = code === AbortCode.timeout;
  return {
    code,
    message: message ?? (timeout ? 'the step timed out' : 'the step was cancelled'),
    retryable: timeout,
  };
}

function errorName(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('name' in err)) return undefined;
  return typeof err.name === 'string' ? err.name : undefined;
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  try {
    return String(err);
  } catch (cause) {
    // A value whose toString throws still deserves a message; the cause is not data we can show.
    return `a value of type ${typeof err} was thrown (${cause instanceof Error ? cause.message : 'unprintable'})`;
  }
}

/**
 * Maps anything a connector throws to the step error the engine records.
 *
 * - `ConnectorError`: its own code, message, retryable flag and details.
 * - An abort reason (`{ code: 'TIMEOUT' | 'CANCELLED' }`, see `AbortReason`): that code.
 * - A DOMException `TimeoutError` (e.g. from `AbortSignal.timeout`): `TIMEOUT`.
 * - A DOMException `AbortError`: the code of `options.signal`'s reason when it is an abort reason,
 *   `TIMEOUT` when that reason is a `TimeoutError`, else `CANCELLED`.
 * - Anything else: `INTERNAL`, not retryable, with the error's message and never its stack.
 */
export function toStepError(err: unknown, options?: { signal?: AbortSignal }): StepError {
  if (err instanceof ConnectorError) return err.toStepError();
  if (isAbortReason(err)) return abortStepError(err.code, err.message);
  const name = errorName(err);
  if (name === 'TimeoutError') return abortStepError(AbortCode.timeout);
  if (name === 'AbortError') {
    const reason: unknown = options?.signal?.aborted ? options.signal.reason : undefined;
    if (isAbortReason(reason)) return abortStepError(reason.code, reason.message);
    if (errorName(reason) === 'TimeoutError') return abortStepError(AbortCode.timeout);
    return abortStepError(AbortCode.cancelled);
  }
  return { code: 'INTERNAL', message: messageOf(err), retryable: false };
}
