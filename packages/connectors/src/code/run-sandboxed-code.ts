import { ConnectorError } from '@automateiq/connector-kit';
import { assertNever } from '@automateiq/core';
import { compileSandboxPoolOptions, SandboxPool, type SandboxPoolOptions } from './sandbox-pool';
import { type CODE_ARGUMENT_NAMES, codeTimeout, type EvaluationRequest } from './sandbox-protocol';

export type { SandboxPoolOptions } from './sandbox-pool';
export { CODE_ARGUMENT_NAMES } from './sandbox-protocol';

const MIB = 1024 * 1024;

export type CodeArguments = Partial<Record<(typeof CODE_ARGUMENT_NAMES)[number], unknown>>;

export interface SandboxOptions {
  /** The body of an async function whose parameters are `CODE_ARGUMENT_NAMES`; its return value is the result. */
  code: string;
  /** Passed in as JSON; absent or `undefined` values arrive as `undefined`. */
  args: CodeArguments;
  /** Heap limit of the evaluation, in bytes (the arguments' JSON and the result's count towards it). */
  memoryLimitBytes: number;
  /** Deadline of the evaluation, in milliseconds of wall time from when a worker starts it. */
  timeoutMs: number;
  /** Stops the evaluation, or its wait for a worker; see `runSandboxedCode`. */
  signal?: AbortSignal;
  /**
   * QuickJS stack limit, in bytes. Default: 256 KiB. Near the worker's 4 MiB host stack the host stack
   * overflows first, which breaks the worker (`CODE_SANDBOX_FAILURE`).
   */
  stackSizeBytes?: number;
  /** Longest result, in characters of its JSON text. Default: 10 MiB. */
  maxOutputChars?: number;
  /** Called when the worker that ran the evaluation was broken by it and replaced (for a log line). */
  onModuleDiscarded?: (cause: unknown) => void;
}

const DEFAULT_STACK_BYTES = 256 * 1024;
const DEFAULT_MAX_OUTPUT_CHARS = 10 * MIB;

/*
 * The pool every `code.js` evaluation of this process shares, like the QuickJS module it replaced:
 * started on first use, configured by the composition root, closed at shutdown.
 */
let poolOptions: SandboxPoolOptions = {};
let pool: SandboxPool | undefined;

/** Sets the size of the process's code sandbox pool (see `SandboxPoolOptions`); applies at once. */
export function configureCodeSandboxPool(options: SandboxPoolOptions): void {
  compileSandboxPoolOptions(options); // refuses bad options now rather than at the first evaluation
  poolOptions = options;
  pool?.configure(options);
}

/**
 * Starts the process's code sandbox workers now rather than at the first evaluations (they take a
 * few hundred milliseconds to load TypeScript and QuickJS). Rejects when one cannot start.
 */
export async function startCodeSandboxPool(): Promise<void> {
  pool ??= new SandboxPool(poolOptions);
  await pool.start();
}

/** Terminates the process's code sandbox workers (tests, shutdown); a later evaluation starts new ones. */
export async function closeCodeSandboxPool(): Promise<void> {
  const closing = pool;
  pool = undefined;
  await closing?.close();
}

/**
 * Runs untrusted JavaScript in a fresh QuickJS runtime (WebAssembly) on a worker thread of the
 * process's sandbox pool and returns its JSON result (`undefined` becomes `null`). The calling thread
 * never blocks. The code cannot reach the process, the file system or the network: the sandbox has no
 * host functions at all, only the ECMAScript built-ins. `await` works on promises the code makes
 * itself; there are no timers or I/O, so a promise that nothing resolves fails.
 *
 * Fails with fatal `ConnectorError`s (`CODE_ERROR` is retryable when the thrown value has
 * `retryable === true`): `CODE_ERROR` (a thrown error, syntax error or stack overflow, with its line),
 * `CODE_TIMEOUT`, `CODE_MEMORY_LIMIT`, `CODE_RESULT_NOT_JSON`, `CODE_OUTPUT_TOO_LARGE`,
 * `CODE_SANDBOX_FAILURE` (the sandbox itself broke: the host stack ran out, the worker crashed or could
 * not start; the worker is then replaced). A worker that does not answer by the deadline plus a grace
 * (see `SandboxPoolOptions`) is terminated and replaced, and the evaluation fails with `CODE_TIMEOUT`. When `signal` aborts, while the code runs or waits for a worker,
 * it rejects at once with the signal's reason and the code is interrupted.
 */
export async function runSandboxedCode(options: SandboxOptions): Promise<unknown> {
  options.signal?.throwIfAborted();
  const request: EvaluationRequest = {
    code: options.code,
    argsJson: argumentsJson(options.args),
    memoryLimitBytes: options.memoryLimitBytes,
    timeoutMs: options.timeoutMs,
    stackSizeBytes: options.stackSizeBytes ?? DEFAULT_STACK_BYTES,
    maxOutputChars: options.maxOutputChars ?? DEFAULT_MAX_OUTPUT_CHARS,
  };
  pool ??= new SandboxPool(poolOptions);
  const { outcome, workerReplaced } = await pool.run(request, options.signal);
  if (workerReplaced) options.onModuleDiscarded?.(workerReplaced);
  switch (outcome.kind) {
    case 'value':
      return JSON.parse(outcome.json);
    case 'failed':
      throw new ConnectorError(outcome.failure);
    case 'unresponsive':
      throw new ConnectorError(codeTimeout(options.timeoutMs));
    case 'broken':
      throw ConnectorError.fatal('CODE_SANDBOX_FAILURE', outcome.message, undefined, {
        cause: workerReplaced,
      });
    case 'interrupted':
      // Only an abort sets the stop flag, and an abort has already rejected.
      throw ConnectorError.fatal('CODE_SANDBOX_FAILURE', 'the sandbox stopped code that was not aborted');
    default:
      return assertNever(outcome, 'sandbox outcome');
  }
}

function argumentsJson(args: CodeArguments): string {
  try {
    return JSON.stringify(args);
  } catch (cause) {
    throw ConnectorError.fatal(
      'CODE_SANDBOX_FAILURE',
      "the code's arguments cannot be converted to JSON",
      undefined,
      {
        cause,
      },
    );
  }
}
